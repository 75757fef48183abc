//! `jukemir bench long-audio`: peak memory of reading what the jukebox representation needs from a
//! long recording (its first 25 s, peak-normalised over the whole file) — jukemir's streamed read,
//! a whole-file load as the reference does it, and the reference itself (librosa 0.8.1) — each in
//! its own process, in the same run.

use super::network::{measure, Run};
use anyhow::{bail, Context};
use clap::Args;
use jukemir_audio::{load, load_head, peak_normalize, LoadOptions};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = include_str!("../../../../tools/reference/bench_long_audio.py");
const RATE: u32 = 44100;
const HEAD_SECONDS: usize = 25;

pub const LONG_ABOUT: &str = "Peak memory and time to read what `extract jukebox` needs from one long file: the \
first 25 s at 44.1 kHz, divided by the absolute peak of the whole file. Writes a synthetic 16-bit stereo WAV of \
--minutes minutes (loudest near its end, so the peak really depends on all of it), then runs, each in its own \
process: jukemir's streamed read (decode → mono → resample piece by piece, keeping 25 s and a running peak; what \
extract jukebox does), jukemir loading the whole file first (the reference's method, for comparison), and the \
reference container's own code (librosa 0.8.1's load of the whole file; skipped with a note if --python lacks \
librosa). The three must produce the same 25 s, bit for bit (SHA-256 of the float32 samples). A 2-hour stereo file \
is 1.3 GB on disk and the whole-file loads need several GB of memory.";

#[derive(Args)]
pub struct LongAudioArgs {
    /// Length of the synthetic recording.
    #[arg(long, default_value_t = 120.0)]
    minutes: f64,
    /// Its sample rate (44100 needs no resampling; 48000 exercises the streamed resampler).
    #[arg(long, default_value_t = 44100)]
    rate: u32,
    /// Folder for the WAV [default: a temporary folder, removed afterwards].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Python with librosa 0.8.1 (pip install -r tools/reference/requirements.txt).
    #[arg(long, env = "JUKEMIR_REFERENCE_PYTHON", default_value = "python3")]
    python: String,
    /// Skip the Python reference.
    #[arg(long)]
    no_reference: bool,
    /// Read FILE one way and print JSON (used by the benchmark itself).
    #[arg(long, hide = true, value_names = ["streamed|whole", "FILE", "HEAD.npy"], num_args = 3)]
    worker: Option<Vec<String>>,
}

/// What every reader reports, to be compared across them.
#[derive(Debug, PartialEq, serde::Deserialize)]
struct Report {
    peak: f32,
    samples: u64,
    head_sha256: String,
}

fn head_sha256(head: &[f32]) -> String {
    let mut hash = Sha256::new();
    for x in head {
        hash.update(x.to_le_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn worker(how: &str, file: &Path, head_npy: &Path) -> anyhow::Result<()> {
    let keep = RATE as usize * HEAD_SECONDS;
    let options = LoadOptions::at_rate(RATE);
    let (peak, samples, head) = match how {
        "streamed" => {
            let head = load_head(file, &options, keep)?;
            (head.peak, head.total_samples, head.peak_normalized())
        }
        "whole" => {
            let mut audio = load(file, &options)?.samples;
            let peak = audio.iter().fold(0f32, |m, x| m.max(x.abs()));
            let samples = audio.len() as u64;
            peak_normalize(&mut audio);
            audio.truncate(keep);
            (peak, samples, audio)
        }
        other => bail!("unknown worker {other:?}"),
    };
    ndarray_npy::write_npy(head_npy, &ndarray::Array1::from_vec(head.clone()))?;
    println!("{}", serde_json::json!({ "peak": peak, "samples": samples, "head_sha256": head_sha256(&head) }));
    Ok(())
}

/// A stereo 16-bit WAV written a second at a time: two detuned tones under a slow swell whose
/// loudest moment comes at 90 % of the file.
fn write_recording(path: &Path, minutes: f64, rate: u32) -> anyhow::Result<()> {
    let frames = (minutes * 60.0 * f64::from(rate)) as u64;
    if frames * 4 + 36 > u64::from(u32::MAX) {
        bail!("{minutes} minutes at {rate} Hz is beyond the 4 GB a WAV file can hold");
    }
    let spec =
        hound::WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).with_context(|| format!("cannot create {}", path.display()))?;
    let loudest = frames as f64 * 0.9;
    for i in 0..frames {
        let t = i as f64 / f64::from(rate);
        let swell = 0.25 + 0.7 * (-((i as f64 - loudest) / (f64::from(rate) * 5.0)).powi(2)).exp();
        let left = swell * (0.6 * (2.0 * std::f64::consts::PI * 220.0 * t).sin() + 0.3 * (6.1 * t).sin());
        let right = swell * (0.6 * (2.0 * std::f64::consts::PI * 221.5 * t).sin() - 0.3 * (4.3 * t).cos());
        for v in [left, right] {
            w.write_sample((v.clamp(-1.0, 1.0) * 32767.0) as i16)?;
        }
    }
    w.finalize()?;
    Ok(())
}

fn run_worker(how: &str, file: &Path) -> anyhow::Result<(Run, Report)> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(["bench", "long-audio", "--worker", how]).arg(file).arg(head_path(file, how));
    let (run, stdout) = measure(command, &format!("jukemir ({how} read)"))?;
    Ok((run, serde_json::from_slice(&stdout).context("the worker printed no report")?))
}

fn head_path(file: &Path, who: &str) -> PathBuf {
    file.with_extension(format!("{who}.npy"))
}

/// Largest |difference| between two saved heads, relative to 1 (both are peak-normalised).
fn max_difference(a: &Path, b: &Path) -> anyhow::Result<f64> {
    let read = |p: &Path| -> anyhow::Result<ndarray::Array1<f32>> {
        ndarray_npy::read_npy(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let (a, b) = (read(a)?, read(b)?);
    if a.len() != b.len() {
        bail!("heads of different lengths: {} and {}", a.len(), b.len());
    }
    Ok(a.iter().zip(b.iter()).map(|(x, y)| f64::from((x - y).abs())).fold(0.0, f64::max))
}

pub fn long_audio(args: LongAudioArgs) -> anyhow::Result<()> {
    if let Some(w) = &args.worker {
        return worker(&w[0], Path::new(&w[1]), Path::new(&w[2]));
    }
    if !args.minutes.is_finite() || args.minutes <= 0.0 {
        bail!("--minutes must be positive");
    }
    let temp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let file = dir.join(format!("long-{}min-{}hz.wav", args.minutes, args.rate));
    eprintln!("writing {} ({} min, {} Hz stereo) …", file.display(), args.minutes, args.rate);
    write_recording(&file, args.minutes, args.rate)?;
    let size_mib = std::fs::metadata(&file)?.len() as f64 / (1 << 20) as f64;

    eprintln!("jukemir, streamed …");
    let (streamed, streamed_report) = run_worker("streamed", &file)?;
    eprintln!("jukemir, whole file …");
    let (whole, whole_report) = run_worker("whole", &file)?;
    if streamed_report != whole_report {
        bail!("the streamed read disagrees with the whole-file read: {streamed_report:?} vs {whole_report:?}");
    }
    let reference = if args.no_reference {
        None
    } else {
        let script = dir.join("bench_long_audio.py");
        std::fs::write(&script, SCRIPT)?;
        let mut command = Command::new(&args.python);
        command.arg(&script).arg(&file).arg(head_path(&file, "reference"));
        eprintln!("reference ({}) …", args.python);
        match measure(command, "the reference script") {
            Ok((run, stdout)) => {
                let line = stdout.rsplit(|&b| b == b'\n').find(|l| !l.is_empty()).unwrap_or(b"{}");
                let value: serde_json::Value = serde_json::from_slice(line).context("the reference printed no JSON")?;
                let report: Report = serde_json::from_value(value.clone())?;
                Some((run, report, value["versions"].to_string()))
            }
            Err(e) => {
                eprintln!("reference not measured ({e:#}); pass --python with librosa 0.8.1 installed");
                None
            }
        }
    };

    println!(
        "first {HEAD_SECONDS} s at {RATE} Hz, peak-normalised over {} min ({size_mib:.0} MiB WAV, {} Hz stereo)",
        args.minutes, args.rate
    );
    println!("{:<40} {:>9} {:>14}", "", "wall", "peak RSS");
    let line = |label: &str, r: &Run| println!("{label:<40} {:>8.2}s {:>10.0} MiB", r.seconds, r.peak_mib);
    line("jukemir, streamed (extract jukebox)", &streamed);
    line("jukemir, whole file", &whole);
    if let Some((run, report, versions)) = &reference {
        line(&format!("reference {versions}"), run);
        if *report == streamed_report {
            println!("same 25 s as the reference: yes, bit for bit");
        } else {
            // Resampling differs in rounding (resampy sums in float32, we in f64; see resample.rs).
            let diff = max_difference(&head_path(&file, "streamed"), &head_path(&file, "reference"))?;
            println!(
                "same 25 s as the reference: within {diff:.1e} of the peak (peak {} vs {}, {} vs {} samples)",
                streamed_report.peak, report.peak, streamed_report.samples, report.samples
            );
        }
        println!(
            "ratio: {:.3}x the reference's peak memory, {:.2}x its speed",
            streamed.peak_mib / run.peak_mib,
            run.seconds / streamed.seconds
        );
    }
    println!("ratio: {:.3}x the whole-file load's peak memory", streamed.peak_mib / whole.peak_mib);
    Ok(())
}
