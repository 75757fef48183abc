//! `jukemir bench network`: a pretrained-network representation, jukemir against its reference
//! framework (TensorFlow for musicnn, PyTorch for clmr), on the same clips with the same threads.

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const SCRIPT: &str = include_str!("../../../../tools/reference/bench_networks.py");

pub const LONG_ABOUT: &str = "Extract a network representation from the same clips twice, each in its own process: \
with `jukemir extract` and with the reference (the musicnn package on TensorFlow; CLMR's SampleCNN on PyTorch, \
tools/reference/bench_networks.py), both with --threads threads (jukemir: that many files at once, one thread \
each; the reference: that many intra-op threads). Prints clips/s, the ratio, and each process's peak RSS. Model \
loading is included on both sides.\n\n\
musicnn needs a Python with tensorflow-cpu 2.15.1, librosa 0.7.0 and the musicnn wheel \
(tools/reference/requirements-musicnn.txt) and uses the wheel's MSD_musicnn unless --model/--weights say \
otherwise. clmr needs torch 2.1.2 and librosa 0.8.1 (requirements-torch.txt); without --weights a random \
full-size SampleCNN is written by the reference script and loaded by both (speed does not depend on the values).";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Network {
    Musicnn,
    Clmr,
}

#[derive(Args)]
pub struct NetworkArgs {
    #[arg(value_enum)]
    network: Network,
    /// Folder searched recursively for clips (wav, mp3, au, flac, ogg).
    #[arg(default_value = "../shared/data/music/musicnn")]
    clips: PathBuf,
    /// Threads for both sides (0: one per core).
    #[arg(short = 'j', long, default_value_t = 0)]
    threads: usize,
    /// Weights, as for `jukemir extract`.
    #[arg(long, value_name = "PATH")]
    weights: Option<PathBuf>,
    /// musicnn model [default: MSD_musicnn, which the PyPI wheel has].
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Python with the reference environment.
    #[arg(long, env = "JUKEMIR_REFERENCE_PYTHON", default_value = "python3")]
    python: String,
    /// Cache folder for fetched weights [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

pub(super) struct Run {
    pub seconds: f64,
    pub peak_mib: f64,
}

/// Run `command` to completion; its wall time and peak RSS (from `wait4`).
pub(super) fn measure(mut command: Command, what: &str) -> anyhow::Result<(Run, Vec<u8>)> {
    let start = Instant::now();
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let pid = child.id() as libc::pid_t;
    // Read the pipes on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.expect("piped");
    let mut stderr = child.stderr.expect("piped");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).map(|_| v)
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).map(|_| v)
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for; the pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = start.elapsed().as_secs_f64();
    let stdout = out.join().expect("reader thread")?;
    let stderr = err.join().expect("reader thread")?;
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let tail: Vec<&str> = std::str::from_utf8(&stderr).unwrap_or("").lines().rev().take(5).collect();
        bail!("{what} failed: {}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    Ok((Run { seconds, peak_mib: usage.ru_maxrss as f64 / 1024.0 }, stdout))
}

pub fn network(args: NetworkArgs) -> anyhow::Result<()> {
    let threads =
        if args.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.threads };
    let files = super::audio_files(&args.clips)?;
    if files.is_empty() {
        bail!("no audio files in {}", args.clips.display());
    }
    let work = tempfile::tempdir()?;
    let input = work.path().join("in");
    std::fs::create_dir(&input)?;
    for f in &files {
        let link = input.join(f.file_name().expect("a file"));
        std::os::unix::fs::symlink(std::path::absolute(f)?, &link)
            .with_context(|| format!("cannot add {} to the clip set (two clips named alike?)", f.display()))?;
    }
    let script = work.path().join("bench_networks.py");
    std::fs::write(&script, SCRIPT)?;

    let name = match args.network {
        Network::Musicnn => "musicnn",
        Network::Clmr => "clmr",
    };
    let mut weights = args.weights.clone();
    let model = match args.network {
        Network::Musicnn => Some(args.model.clone().unwrap_or_else(|| "MSD_musicnn".into())),
        Network::Clmr => None,
    };
    if args.network == Network::Clmr && weights.is_none() {
        let ckpt = work.path().join("sample_cnn.ckpt");
        let mut make = Command::new(&args.python);
        make.arg(&script).args(["make-clmr-checkpoint", "--out"]).arg(&ckpt);
        measure(make, "the reference script (make-clmr-checkpoint)")?;
        weights = Some(ckpt);
    }

    let mut ours = Command::new(std::env::current_exe()?);
    ours.args(["extract", name]).arg(&input).arg(work.path().join("out")).args(["-j", &threads.to_string()]);
    ours.env("RAYON_NUM_THREADS", "1");
    if let Some(w) = &weights {
        ours.arg("--weights").arg(w);
    }
    if let Some(m) = &model {
        ours.args(["--model", m]);
    }
    if let Some(c) = &args.cache_dir {
        ours.arg("--cache-dir").arg(c);
    }
    eprintln!("jukemir extract {name}: {} files, {threads} threads …", files.len());
    let (jukemir, _) = measure(ours, "jukemir extract")?;

    let mut theirs = Command::new(&args.python);
    theirs.arg(&script).arg(name).args(["--threads", &threads.to_string()]);
    match args.network {
        Network::Musicnn => {
            theirs.args(["--model", model.as_deref().expect("set for musicnn")]);
        }
        Network::Clmr => {
            theirs.arg("--checkpoint").arg(weights.as_deref().expect("set above"));
        }
    }
    theirs.args(&files);
    eprintln!("reference ({}) …", args.python);
    let (reference, stdout) = measure(theirs, "the reference")?;
    let report: serde_json::Value =
        serde_json::from_slice(stdout.rsplit(|&b| b == b'\n').find(|l| !l.is_empty()).unwrap_or(b"{}"))
            .context("the reference printed no JSON report")?;

    let n = files.len() as f64;
    println!("{name}: {} clips from {}, {threads} threads", files.len(), args.clips.display());
    println!("{:<34} {:>10} {:>10} {:>14}", "", "wall", "clips/s", "peak RSS");
    let line = |label: &str, r: &Run| {
        println!("{label:<34} {:>9.2}s {:>10.2} {:>10.0} MiB", r.seconds, n / r.seconds, r.peak_mib)
    };
    line("jukemir", &jukemir);
    line(&format!("reference {}", report["versions"]), &reference);
    println!(
        "ratio: {:.2}x the reference's clips/s, {:.2}x its peak memory",
        reference.seconds / jukemir.seconds,
        jukemir.peak_mib / reference.peak_mib
    );
    Ok(())
}
