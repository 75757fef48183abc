//! `jukemir bench features`: chroma and MFCC throughput next to librosa's.

use anyhow::{bail, Context};
use clap::Args;
use jukemir_representations::handcrafted::{Handcrafted, HandcraftedFeature, SAMPLE_RATE};
use jukemir_representations::Representation;
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const LIBROSA_SCRIPT: &str = include_str!("../../../../tools/reference/bench_librosa.py");

#[derive(Args)]
pub struct FeaturesArgs {
    /// Folder searched recursively for audio (wav, mp3, au, flac, ogg).
    #[arg(default_value = "../shared/data/music")]
    clips: PathBuf,
    /// Seconds read from the start of each file (the benchmark datasets use 30 s clips).
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Use at most this many files.
    #[arg(long)]
    limit: Option<usize>,
    /// Threads for the parallel jukemir run (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    threads: usize,
    /// Python with the reference environment (pip install -r tools/reference/requirements.txt).
    #[arg(long, env = "JUKEMIR_REFERENCE_PYTHON", default_value = "python3")]
    python: String,
    /// Skip the librosa measurement.
    #[arg(long)]
    no_reference: bool,
}

pub fn features(args: FeaturesArgs) -> anyhow::Result<()> {
    let mut files = super::audio_files(&args.clips)?;
    if let Some(limit) = args.limit {
        files.truncate(limit);
    }
    if files.is_empty() {
        bail!("no audio files under {}", args.clips.display());
    }
    let threads =
        if args.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.threads };
    eprintln!("{} files, first {} s of each, at {SAMPLE_RATE} Hz", files.len(), args.duration);

    let reference = if args.no_reference { None } else { librosa_seconds(&args.python, &files, args.duration) };
    println!(
        "{:<8} {:>16} {:>20} {:>18} {:>14}",
        "feature",
        "jukemir 1 thread",
        format!("jukemir {threads} threads"),
        "librosa (1 core)",
        "ratio (1 core)"
    );
    for feature in [HandcraftedFeature::Chroma, HandcraftedFeature::Mfcc] {
        let repr = Handcrafted::new(feature);
        let one = clips_per_second(&repr, &files, args.duration, 1)?;
        let many = clips_per_second(&repr, &files, args.duration, threads)?;
        let (librosa, ratio) = match reference.as_ref().and_then(|r| r.get(repr.name())) {
            Some(&seconds) => {
                let rate = files.len() as f64 / seconds;
                (format!("{rate:.2} clips/s"), format!("{:.1}x", one / rate))
            }
            None => ("n/a".into(), "n/a".into()),
        };
        println!(
            "{:<8} {:>16} {:>20} {:>18} {:>14}",
            repr.name(),
            format!("{one:.2} clips/s"),
            format!("{many:.2} clips/s"),
            librosa,
            ratio
        );
    }
    Ok(())
}

fn clips_per_second(repr: &Handcrafted, files: &[PathBuf], duration: f64, threads: usize) -> anyhow::Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let options =
        jukemir_audio::LoadOptions { sample_rate: Some(SAMPLE_RATE), duration: Some(duration), ..Default::default() };
    let start = Instant::now();
    pool.install(|| {
        files.par_iter().try_for_each(|path| -> anyhow::Result<()> {
            let audio = jukemir_audio::load(path, &options)?;
            repr.from_signal(audio.samples).with_context(|| path.display().to_string())?;
            Ok(())
        })
    })?;
    Ok(files.len() as f64 / start.elapsed().as_secs_f64())
}

/// Seconds librosa needs per feature for all files, or `None` (with the reason on stderr) when the
/// reference environment is not available.
fn librosa_seconds(python: &str, files: &[PathBuf], duration: f64) -> Option<std::collections::HashMap<String, f64>> {
    let script = std::env::temp_dir().join(format!("jukemir-bench-librosa-{}.py", std::process::id()));
    std::fs::write(&script, LIBROSA_SCRIPT).ok()?;
    eprintln!("measuring librosa with {python} …");
    let output = Command::new(python).arg(&script).arg("--duration").arg(duration.to_string()).args(files).output();
    let _ = std::fs::remove_file(&script);
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!(
                "librosa reference not measured ({python} failed: {}); install it with \
                 `pip install -r tools/reference/requirements.txt` and pass --python",
                String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
            );
            return None;
        }
        Err(e) => {
            eprintln!("librosa reference not measured: cannot run {python}: {e}");
            return None;
        }
    };
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    if let Some(versions) = value.get("versions") {
        eprintln!("reference: {versions}");
    }
    let seconds = value.get("seconds")?.as_object()?;
    Some(seconds.iter().filter_map(|(k, v)| Some((k.clone(), v.as_f64()?))).collect())
}
