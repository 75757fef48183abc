//! `jukemir bench probe`: the paper's probe grid, jukemir against the reference's PyTorch loop.

use super::network::measure;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use jukemir_probe::config::{paper_grid, ProbeConfig};
use jukemir_probe::evaluate::best_on_valid;
use jukemir_probe::synthetic::{write_task, Shape};
use std::path::{Path, PathBuf};
use std::process::Command;

const TORCH_SCRIPT: &str = include_str!("../../../../tools/reference/probe_torch.py");
const REPRESENTATION: &str = "synthetic";

pub const LONG_ABOUT: &str = "Time the paper's grid of 216 probe configs on seeded synthetic tasks shaped like the \
paper's datasets, first with jukemir (`jukemir probe grid` in its own process), then with the reference's PyTorch \
training loop (tools/reference/probe_torch.py) on the same files with the same number of cores, and print wall \
times, their ratio, peak memory, and each side's best-on-valid test score. The scores are a sanity check that both \
learned the same task; they are not expected to be equal (the two use different random initialisations and \
dropout masks).\n\n\
Tasks: gtzan (443 / 197 / 290 clips, 10 genres, 4800-dim features like Jukebox's: bound by arithmetic, so \
jukemir's achieved GFLOP/s is printed as a fraction of this machine's GEMM peak); giantsteps (3687 / 942 / 2406 \
clips of 923 / 236 / 604 songs, 24 keys, 72-dim features like chroma's, scored per song at every evaluation: \
bound by per-step overhead); magnatagatune (18 706 / 1 825 / 5 329 clips, 50 tags, 4800-dim). \
--reference-limit N runs only N configs spread over the grid on the reference side and extrapolates its time to \
the whole grid (for magnatagatune, whose reference grid takes many hours); the output says so.\n\n\
The reference needs Python with torch 2.1.2 (pip install -r tools/reference/requirements-torch.txt); pass it \
with --python or JUKEMIR_REFERENCE_PYTHON.";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Task {
    Gtzan,
    Giantsteps,
    Magnatagatune,
}

impl Task {
    fn shape(self) -> Shape {
        match self {
            Task::Gtzan => Shape::GtzanFf,
            Task::Giantsteps => Shape::GiantstepsClips,
            Task::Magnatagatune => Shape::Magnatagatune,
        }
    }

    fn default_dim(self) -> usize {
        match self {
            Task::Giantsteps => 72,
            Task::Gtzan | Task::Magnatagatune => 4800,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Task::Gtzan => "gtzan",
            Task::Giantsteps => "giantsteps",
            Task::Magnatagatune => "magnatagatune",
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReferenceMode {
    /// --jobs processes with one torch thread each (as jukemir's -j workers).
    Processes,
    /// The reference's 5_grid_train_serial.py: one process, --jobs intra-op threads.
    Serial,
}

#[derive(Args)]
pub struct ProbeArgs {
    /// Tasks to time, comma-separated (default: all three).
    #[arg(long, value_enum, value_delimiter = ',')]
    task: Vec<Task>,
    /// Feature width (default: 4800 for gtzan and magnatagatune, 72 for giantsteps).
    #[arg(long)]
    dim: Option<usize>,
    /// Only N of the 216 configs on both sides, spread evenly over the grid (so every learning
    /// rate, batch size, depth and regulariser is represented).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Only N configs (spread over the grid) on the reference side; its time is extrapolated to
    /// jukemir's number of configs.
    #[arg(long, value_name = "N")]
    reference_limit: Option<usize>,
    /// Cores for both (0: one per core).
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
    configs: usize,
    seconds: f64,
    peak_mib: f64,
    best_valid: f64,
    best_test: f64,
    gflop: Option<f64>,
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
    let tasks =
        if args.task.is_empty() { vec![Task::Gtzan, Task::Giantsteps, Task::Magnatagatune] } else { args.task.clone() };
    // The grouped trainer runs one single-threaded GEMM per worker: the peak is one core's, times the workers.
    let peak = jukemir_models::linalg::peak_gflops(1024, 1) * jobs as f64;
    let mut rows = Vec::new();
    for task in tasks {
        let dim = args.dim.unwrap_or(task.default_dim());
        let (ours, theirs) = bench_task(&args, task, dim, jobs, &root.join(task.name()))?;
        rows.push((task, dim, ours, theirs));
    }

    println!("probe grid, {jobs} cores (reference: {})", reference_layout(&args, jobs));
    println!(
        "{:<14} {:>5} {:<10} {:>8} {:>10} {:>10} {:>11} {:>13} {:>9}",
        "task", "dim", "side", "configs", "wall", "peak RSS", "best valid", "its test", "GFLOP/s"
    );
    for (task, dim, ours, theirs) in &rows {
        let line = |side: &str, m: &Measured, note: &str| {
            let rate = m
                .gflop
                .map_or(String::new(), |g| format!("{:.0} ({:.0} %)", g / m.seconds, 100.0 * g / m.seconds / peak));
            println!(
                "{:<14} {dim:>5} {side:<10} {:>8} {:>9.1}s {:>7.0} MiB {:>11.4} {:>13.4} {rate:>9}{note}",
                task.name(),
                m.configs,
                m.seconds,
                m.peak_mib,
                m.best_valid,
                m.best_test
            )
        };
        line("jukemir", ours, "");
        if let Some((version, theirs)) = theirs {
            let extrapolated = theirs.configs != ours.configs;
            line(&format!("torch {version}"), theirs, if extrapolated { "  (subset)" } else { "" });
            let their_seconds = theirs.seconds * ours.configs as f64 / theirs.configs as f64;
            println!(
                "{:<14} ratio (pytorch time / jukemir time): {:.2}x{}",
                task.name(),
                their_seconds / ours.seconds,
                if extrapolated {
                    format!(
                        " — pytorch's {} configs took {:.0} s, extrapolated to {}",
                        theirs.configs, theirs.seconds, ours.configs
                    )
                } else {
                    String::new()
                }
            );
        }
    }
    println!("GEMM peak: {peak:.0} GFLOP/s ({jobs} × one core's n=1024 product with the gemm crate)");
    Ok(())
}

fn reference_layout(args: &ProbeArgs, jobs: usize) -> String {
    match args.reference_mode {
        ReferenceMode::Processes => format!("{jobs} processes × 1 torch thread"),
        ReferenceMode::Serial => format!("1 process × {jobs} torch threads"),
    }
}

fn bench_task(
    args: &ProbeArgs,
    task: Task,
    dim: usize,
    jobs: usize,
    root: &Path,
) -> anyhow::Result<(Measured, Option<(String, Measured)>)> {
    let dataset = task.shape().dataset();
    let grid = paper_grid(dataset, REPRESENTATION);
    let configs = jukemir_probe::grid::spread(&grid, args.limit.unwrap_or(grid.len()));
    if root.join("probes").exists() {
        bail!("{} already holds probes; pass an empty --keep folder", root.display());
    }
    eprintln!("{}: writing the synthetic task ({dim} features) to {}", task.name(), root.display());
    write_task(task.shape(), root, REPRESENTATION, dim, 0)?;

    eprintln!("{}: jukemir, {} configs on {jobs} cores …", task.name(), configs.len());
    let exe = std::env::current_exe().context("cannot locate this executable")?;
    let mut command = Command::new(exe);
    command.args(["probe", "grid", dataset, REPRESENTATION, "--cache-dir"]).arg(root).args([
        "-j",
        &jobs.to_string(),
        "--spread",
        &configs.len().to_string(),
    ]);
    let (run, stdout) = measure(command, "jukemir probe grid")?;
    let stdout = String::from_utf8_lossy(&stdout);
    let gflop =
        stdout.lines().find_map(|l| l.strip_prefix("products: ")?.split_whitespace().next()?.parse::<f64>().ok());
    let best = best_on_valid(dataset, REPRESENTATION, root)?;
    let primary = |m: &jukemir_probe::train::Metrics| m.get("primary").copied().unwrap_or(f64::NAN);
    let ours = Measured {
        configs: configs.len(),
        seconds: run.seconds,
        peak_mib: run.peak_mib,
        best_valid: primary(&best.valid),
        best_test: primary(&best.test),
        gflop,
    };
    if args.no_reference {
        return Ok((ours, None));
    }
    let reference_configs = match args.reference_limit {
        Some(n) => jukemir_probe::grid::spread(&configs, n),
        None => configs,
    };
    let theirs = torch_grid(args, dataset, root, &reference_configs, jobs)
        .map_err(|e| eprintln!("PyTorch reference not measured: {e:#}"))
        .ok();
    Ok((ours, theirs))
}

/// Run the reference loop on the same data (read from `root`) and return its torch version and
/// measurements.
fn torch_grid(
    args: &ProbeArgs,
    dataset: &str,
    root: &Path,
    configs: &[ProbeConfig],
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
    eprintln!("{dataset}: pytorch ({}), {} configs, {} …", args.python, configs.len(), reference_layout(args, jobs));
    let mut command = Command::new(&args.python);
    command
        .arg(&script)
        .args(["--cache-dir".as_ref(), root.as_os_str()])
        .args(["--dataset", dataset, "--representation", REPRESENTATION])
        .args(["--configs-json".as_ref(), configs_path.as_os_str()])
        .args(["--jobs", &procs.to_string(), "--threads", &threads.to_string(), "--quiet"])
        .args(["--out".as_ref(), out_path.as_os_str()]);
    let (run, _) = measure(command, &format!("{} {}", args.python, script.display()))
        .context("is torch installed there (pip install -r tools/reference/requirements-torch.txt)?")?;
    let text = std::fs::read_to_string(&out_path).with_context(|| format!("cannot read {}", out_path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    let number = |v: &serde_json::Value, what: &str| v.as_f64().with_context(|| format!("no `{what}` in {text}"));
    let best = &value["best_on_valid"];
    Ok((
        value["torch_version"].as_str().unwrap_or("?").to_string(),
        Measured {
            configs: configs.len(),
            // The script's own wall time: training only, as jukemir's process is (interpreter and
            // torch start-up excluded; its data loading included, as jukemir's is).
            seconds: number(&value["wall_seconds"], "wall_seconds")?.min(run.seconds),
            peak_mib: run.peak_mib,
            best_valid: number(&best["valid_primary"], "best_on_valid.valid_primary")?,
            best_test: number(&best["test"]["primary"], "best_on_valid.test.primary")?,
            gflop: None,
        },
    ))
}
