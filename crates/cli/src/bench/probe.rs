//! `jukemir bench probe`: the paper's probe grid, jukemir against the reference's PyTorch loop.

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use jukemir_probe::config::paper_grid;
use jukemir_probe::evaluate::best_on_valid;
use jukemir_probe::grid::run_configs;
use jukemir_probe::synthetic::write_gtzan_shaped;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TORCH_SCRIPT: &str = include_str!("../../../../tools/reference/probe_torch.py");
const REPRESENTATION: &str = "synthetic";

pub const LONG_ABOUT: &str = "Time the paper's grid of 216 probe configs on a seeded synthetic task shaped like \
GTZAN-ff (443 / 197 / 290 clips, 10 genres) with 4800-dim features (Jukebox's width), first with jukemir, then \
with the reference's PyTorch training loop (tools/reference/probe_torch.py) on the same files, with the same \
number of threads, and print the ratio. Both pick their best config on valid and report its test accuracy, as a \
sanity check that they learned the same task (they are not expected to be equal: the two use different random \
initialisations and dropout masks).\n\n\
The reference needs Python with torch 2.1.2 (pip install -r tools/reference/requirements-torch.txt); pass it \
with --python or JUKEMIR_REFERENCE_PYTHON. A full grid takes hours on a laptop: --limit N trains N configs \
spread evenly over the grid.";

#[derive(Clone, Copy, ValueEnum)]
pub enum ReferenceMode {
    /// --jobs processes with one torch thread each (as jukemir's -j workers).
    Processes,
    /// The reference's 5_grid_train_serial.py: one process, --jobs intra-op threads.
    Serial,
}

#[derive(Args)]
pub struct ProbeArgs {
    /// Feature width (4800 is Jukebox's).
    #[arg(long, default_value_t = 4800)]
    dim: usize,
    /// Only N of the 216 configs, spread evenly over the grid (so every learning rate, batch
    /// size, depth and regulariser is represented).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Threads for both (0: one per core).
    #[arg(short = 'j', long, default_value_t = 0)]
    jobs: usize,
    /// How the PyTorch reference uses its threads.
    #[arg(long, value_enum, default_value = "processes")]
    reference_mode: ReferenceMode,
    /// Python with torch (pip install -r tools/reference/requirements-torch.txt).
    #[arg(long, env = "JUKEMIR_REFERENCE_PYTHON", default_value = "python3")]
    python: String,
    /// Skip the PyTorch measurement.
    #[arg(long)]
    no_reference: bool,
    /// Keep the synthetic data and both grids' outputs here instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

struct Measured {
    seconds: f64,
    best_valid: f64,
    best_test: f64,
}

pub fn probe(args: ProbeArgs) -> anyhow::Result<()> {
    let jobs = if args.jobs == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.jobs };
    let tmp;
    let root = match &args.keep {
        Some(dir) => dir.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let grid = paper_grid("gtzan_ff", REPRESENTATION);
    let configs = jukemir_probe::grid::spread(&grid, args.limit.unwrap_or(grid.len()));
    let rust_root = root.join("jukemir");
    eprintln!("writing the synthetic GTZAN-ff-shaped task ({} features) to {}", args.dim, rust_root.display());
    write_gtzan_shaped(&rust_root, REPRESENTATION, args.dim, 0)?;
    if rust_root.join("probes").exists() {
        bail!("{} already holds probes; pass an empty --keep folder", rust_root.display());
    }

    eprintln!("jukemir: {} configs on {jobs} threads …", configs.len());
    let bar = indicatif::ProgressBar::new(configs.len() as u64);
    let start = Instant::now();
    run_configs(&configs, &rust_root, jobs, &|_| bar.inc(1))?;
    let seconds = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let best = best_on_valid("gtzan_ff", REPRESENTATION, &rust_root)?;
    let ours = Measured { seconds, best_valid: best.valid["accuracy"], best_test: best.test["accuracy"] };

    let reference = if args.no_reference {
        None
    } else {
        torch_grid(&args, &rust_root, &root, &configs, jobs)
            .map_err(|e| eprintln!("PyTorch reference not measured: {e:#}"))
            .ok()
    };

    println!(
        "synthetic GTZAN-ff-shaped task: 443 / 197 / 290 clips × {} features, {} configs, {jobs} threads",
        args.dim,
        configs.len()
    );
    println!("{:<22} {:>10} {:>12} {:>12} {:>14}", "", "wall", "per probe", "best valid", "its test acc");
    let line = |name: &str, m: &Measured| {
        println!(
            "{name:<22} {:>9.1}s {:>11.2}s {:>12.4} {:>14.4}",
            m.seconds,
            m.seconds / configs.len() as f64,
            m.best_valid,
            m.best_test
        )
    };
    line("jukemir", &ours);
    if let Some((version, theirs)) = &reference {
        line(&format!("pytorch {version}"), theirs);
        println!("ratio (pytorch time / jukemir time): {:.2}x", theirs.seconds / ours.seconds);
    }
    Ok(())
}

/// Run the reference loop on the same data (read from `data_root`) and return its torch version
/// and measurements.
fn torch_grid(
    args: &ProbeArgs,
    data_root: &Path,
    root: &Path,
    configs: &[jukemir_probe::config::ProbeConfig],
    jobs: usize,
) -> anyhow::Result<(String, Measured)> {
    let script = root.join("probe_torch.py");
    std::fs::write(&script, TORCH_SCRIPT)?;
    let list: Vec<serde_json::Value> =
        configs.iter().map(|c| serde_json::from_str(&c.to_json())).collect::<Result<_, _>>()?;
    let configs_path = root.join("configs.json");
    std::fs::write(&configs_path, serde_json::to_string(&list)?)?;
    let out_path = root.join("torch_results.json");
    let (procs, threads) = match args.reference_mode {
        ReferenceMode::Processes => (jobs, 1),
        ReferenceMode::Serial => (1, jobs),
    };
    eprintln!("pytorch ({}): {} configs, {procs} process(es) × {threads} thread(s) …", args.python, configs.len());
    let status = Command::new(&args.python)
        .arg(&script)
        .args(["--cache-dir".as_ref(), data_root.as_os_str()])
        .args(["--dataset", "gtzan_ff", "--representation", REPRESENTATION])
        .args(["--configs-json".as_ref(), configs_path.as_os_str()])
        .args(["--jobs", &procs.to_string(), "--threads", &threads.to_string()])
        .args(["--out".as_ref(), out_path.as_os_str()])
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", args.python))?;
    if !status.success() {
        bail!("{} {} failed ({status}); is torch installed there?", args.python, script.display());
    }
    let text = std::fs::read_to_string(&out_path).with_context(|| format!("cannot read {}", out_path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    let number = |v: &serde_json::Value, what: &str| v.as_f64().with_context(|| format!("no `{what}` in {text}"));
    let best = &value["best_on_valid"];
    Ok((
        value["torch_version"].as_str().unwrap_or("?").to_string(),
        Measured {
            seconds: number(&value["wall_seconds"], "wall_seconds")?,
            best_valid: number(&best["valid_primary"], "best_on_valid.valid_primary")?,
            best_test: number(&best["test"]["accuracy"], "best_on_valid.test.accuracy")?,
        },
    ))
}
