//! `jukemir probe train`: train one probe from a config file, as the reference's
//! `python -m jukemir.probe.execute <cfg.json>`.

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jukemir_datasets::assets::cache_root;
use jukemir_probe::config::{paper_grid, ProbeConfig};
use jukemir_probe::grid::GridOutcome;
use std::path::{Path, PathBuf};

pub const LONG_ABOUT: &str = "Train linear / MLP probes on extracted representations with the paper's \
protocol: features standardised on the training split, Adam on random minibatches, early stopping on the \
validation split's primary metric (accuracy, ROC-AUC, R² or key score).\n\n\
A config is the reference's JSON (dataset, representation, hidden_layer_sizes, batch_size, learning_rate, \
dropout_p, l2_weight_decay, early_stopping_*, seed, …; unknown fields are errors). Its uid is the sha1 of \
its JSON as the reference writes it, so probe folders line up with the reference's.";

#[derive(Subcommand)]
pub enum ProbeCommand {
    /// Train one probe and save it under probes/<dataset>/<representation>/<uid>/.
    #[command(long_about = TRAIN_LONG_ABOUT)]
    Train(TrainArgs),
    /// Train the paper's 216-config grid, skipping configs already saved.
    #[command(long_about = GRID_LONG_ABOUT)]
    Grid(GridArgs),
    /// Score the best-on-valid probe of a grid on the test split.
    #[command(long_about = EVALUATE_LONG_ABOUT)]
    Evaluate(EvaluateArgs),
}

const GRID_LONG_ABOUT: &str = "Train the paper's grid of 216 probe configs (standardisation × hidden layers × \
batch size × learning rate × dropout × L2 weight decay) for one dataset and representation, as the reference's \
reproduce/5_grid_train_serial.py, on several threads. Each probe is saved as `probe train` saves it; configs \
whose probes/<dataset>/<representation>/<uid>/metrics.json exists are skipped, so an interrupted grid resumes. \
Prints the best validation primary metric.\n\n\
For clusters, --emit-configs writes the configs as files (probes/<dataset>/<representation>/<uid>.json, as the \
reference's 4_grid_config.py does) and --slurm FILE also writes a job-array script that trains one config per \
array task; the cache folder must be on a filesystem every node sees. Resubmitting the script is safe. \
`jukemir cluster slurm grid` and `jukemir cluster k8s grid` write the same jobs with more options (partition, \
CPUs, GPUs, log folder; Kubernetes Indexed Jobs).";

const EVALUATE_LONG_ABOUT: &str = "Pick the saved probe of <dataset> / <representation> with the best \
validation primary metric (ties: the first uid in sorted order), reload its weights and scaler, and print its \
metrics on the test split, as the reference's `jukemir.probe.aggregate --evaluate test`. The result is saved \
as evaluations/<dataset>/<representation>.json for `jukemir report`.";

#[derive(Args)]
pub struct GridArgs {
    dataset: String,
    representation: String,
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Probes trained at once [default: the number of CPUs].
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
    /// Only the first N configs of the grid (for quick runs).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Only N configs spread evenly over the grid, so that every learning rate, batch size, depth
    /// and regulariser is represented (what `bench probe --limit` runs).
    #[arg(long, value_name = "N", conflicts_with = "limit")]
    spread: Option<usize>,
    /// Write the configs as probes/<dataset>/<representation>/<uid>.json (the reference's layout) and
    /// train nothing.
    #[arg(long)]
    emit_configs: bool,
    /// Also write a Slurm job-array script to FILE: one array task per config, each running
    /// `jukemir probe train --skip-done <cfg>`. Implies --emit-configs. Submit with `sbatch FILE`.
    #[arg(long, value_name = "FILE")]
    slurm: Option<PathBuf>,
    /// The jukemir executable the Slurm tasks run [default: this one].
    #[arg(long, value_name = "PATH", requires = "slurm")]
    exe: Option<PathBuf>,
    /// Slurm memory per task.
    #[arg(long, value_name = "SIZE", default_value = "8G", requires = "slurm")]
    mem: String,
    /// Slurm time limit per task.
    #[arg(long, value_name = "D-HH:MM:SS", default_value = "04:00:00", requires = "slurm")]
    time: String,
    /// At most N array tasks running at once.
    #[arg(long, value_name = "N", requires = "slurm")]
    max_parallel: Option<usize>,
}

#[derive(Args)]
pub struct EvaluateArgs {
    dataset: String,
    representation: String,
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

const TRAIN_LONG_ABOUT: &str = "Train one probe from a config file. Reads processed/<dataset>/meta.json and \
representations/<dataset>/<representation>/<uid>.npy from the cache, and writes cfg.json, scaler.json, \
probe.safetensors and metrics.json (validation metrics) to probes/<dataset>/<representation>/<config uid>/, \
replacing any earlier run of the same config. Prints the best validation metric.";

#[derive(Args)]
pub struct TrainArgs {
    /// The probe config (JSON).
    cfg: PathBuf,
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do nothing if this config's probe is already saved (for resubmitted cluster jobs).
    #[arg(long)]
    skip_done: bool,
}

pub fn run(command: ProbeCommand) -> anyhow::Result<()> {
    match command {
        ProbeCommand::Train(args) => train(args),
        ProbeCommand::Grid(args) => grid(args),
        ProbeCommand::Evaluate(args) => evaluate(args),
    }
}

/// Probes are small: candle's intra-op threads cost more in synchronisation than they save (a
/// linear probe on 4800-dim features trains 15% faster on one thread), and grid workers already
/// fill the cores. Called before any thread starts; an explicit RAYON_NUM_THREADS or
/// CANDLE_NUM_THREADS wins.
pub fn single_threaded_kernels() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() && std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    keep_freed_buffers();
}

/// Every training step allocates and frees several parameter-sized buffers (10 MB for a
/// 4800×512 layer); above glibc's mmap threshold each is a fresh mapping whose pages fault in
/// again, which cost an MLP probe a fifth of its time. Keep such blocks in the heap for reuse.
fn keep_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

pub fn resolve_cache(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match dir {
        Some(dir) => std::path::absolute(&dir).with_context(|| format!("cannot use {} as cache", dir.display())),
        None => Ok(cache_root()),
    }
}

fn emit(args: &GridArgs, root: &Path, configs: &[ProbeConfig]) -> anyhow::Result<()> {
    let paths = jukemir_probe::grid::emit_configs(configs, root)?;
    let grid_dir = root.join("probes").join(&args.dataset).join(&args.representation);
    println!("{} configs in {}", paths.len(), grid_dir.display());
    let Some(script) = &args.slurm else { return Ok(()) };
    let exe = match &args.exe {
        Some(exe) => exe.clone(),
        None => std::env::current_exe().context("cannot locate this executable; pass --exe")?,
    };
    // The same script as `jukemir cluster slurm grid` writes.
    crate::cluster::write_slurm_grid(&crate::cluster::SlurmGrid {
        dataset: &args.dataset,
        representation: &args.representation,
        root,
        configs: &paths,
        exe: &exe.to_string_lossy(),
        cpus: 1,
        mem: &args.mem,
        gpus: 0,
        time: &args.time,
        partition: None,
        max_parallel: args.max_parallel,
        log_dir: None,
        output: script,
    })
}

fn grid(args: GridArgs) -> anyhow::Result<()> {
    let root = resolve_cache(args.cache_dir.clone())?;
    let mut configs = paper_grid(&args.dataset, &args.representation);
    configs.truncate(args.limit.unwrap_or(usize::MAX));
    if let Some(n) = args.spread {
        configs = jukemir_probe::grid::spread(&configs, n);
    }
    if args.emit_configs || args.slurm.is_some() {
        return emit(&args, &root, &configs);
    }
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let outcomes = train_grid(&configs, &root, jobs)?;
    if let Some(best) =
        outcomes.iter().min_by(|a, b| b.valid_primary.total_cmp(&a.valid_primary).then_with(|| a.uid.cmp(&b.uid)))
    {
        // Ties: the first uid, as `probe evaluate` picks.
        println!("best valid primary {:.4}: {}", best.valid_primary, best.dir.display());
    }
    Ok(())
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Train `configs` (skipping saved ones) on `jobs` threads with a progress bar; prints what was done.
pub fn train_grid(configs: &[ProbeConfig], root: &Path, jobs: usize) -> anyhow::Result<Vec<GridOutcome>> {
    let bar = ProgressBar::new(configs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {bar:40} {pos}/{len} configs (ETA {eta}) {msg}")
            .expect("the template is valid"),
    );
    let outcomes = jukemir_probe::grid::run_configs(configs, root, jobs, &|o| {
        bar.set_message(format!(
            "{} valid {:.4}{}",
            &o.uid[..8.min(o.uid.len())],
            o.valid_primary,
            if o.trained { "" } else { " (saved)" }
        ));
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let trained = outcomes.iter().filter(|o| o.trained).count();
    println!("{} configs ({trained} trained, {} already saved)", outcomes.len(), outcomes.len() - trained);
    if trained > 0 {
        let steps: usize = outcomes.iter().map(|o| o.steps).sum();
        let gflop = outcomes.iter().map(|o| o.flops).sum::<f64>() / 1e9;
        println!("products: {gflop:.1} GFLOP over {steps} optimiser steps");
    }
    Ok(outcomes)
}

fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    let root = resolve_cache(args.cache_dir)?;
    let best = jukemir_probe::evaluate::best_on_valid(&args.dataset, &args.representation, &root)?;
    if best.num_runs != 216 {
        eprintln!("note: {} saved runs (the paper's grid has 216)", best.num_runs);
    }
    let saved =
        jukemir_probe::evaluate::Evaluation::from_best(&args.dataset, &args.representation, &best).save(&root)?;
    println!("best on valid: {} ({} runs)", best.uid, best.num_runs);
    println!("{:<32} {:>10} {:>10}", "metric", "valid", "test");
    for (name, test) in &best.test {
        let valid = best.valid.get(name).map_or("-".to_string(), |v| format!("{v:.4}"));
        println!("{name:<32} {valid:>10} {test:>10.4}");
    }
    println!("saved {} (read by `jukemir report`)", saved.display());
    Ok(())
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let root = resolve_cache(args.cache_dir)?;
    let cfg = ProbeConfig::from_file(&args.cfg)?;
    if args.skip_done {
        let dir = jukemir_probe::train::probe_dir(&root.join("probes"), &cfg.dataset, &cfg.representation, &cfg.uid());
        if dir.join("metrics.json").is_file() {
            println!("already trained: {}", dir.display());
            return Ok(());
        }
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("the template is valid"));
    bar.set_message(format!("loading {} / {}", cfg.dataset, cfg.representation));
    let (trained, dir) = jukemir_probe::train::execute(&cfg, &root, &mut |p| {
        bar.set_message(format!(
            "step {} (epoch {:.1}): valid {} {:.4}, best {:.4}, {}/{} evals without improvement",
            p.step, p.epoch, cfg.early_stopping_metric, p.score, p.best_score, p.boredom, cfg.early_stopping_boredom
        ));
        bar.tick();
    })?;
    bar.finish_and_clear();
    let m = &trained.valid_metrics;
    println!("{} steps; valid primary {:.4}, loss {:.4}", trained.steps, m["primary"], m["loss"]);
    println!("saved {}", dir.display());
    Ok(())
}
