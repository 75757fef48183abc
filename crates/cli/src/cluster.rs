//! `jukemir cluster`: job scripts that run extraction or the probe grid on a Slurm cluster (job
//! arrays) or on Kubernetes (Indexed Jobs), one task per batch of files or per probe config.

mod k8s;
mod slurm;
mod yaml;

use anyhow::{bail, ensure, Context};
use clap::{Args, Subcommand};
use jukemir_representations::inputs::{check_unique_outputs, list_input_files};
use slurm::{shell_command, ArrayJob, Tasks};
use std::path::{Path, PathBuf};

const CLUSTER_LONG_ABOUT: &str = "Write job scripts that run `jukemir extract` or the probe grid on a cluster, one \
task per batch of input files or per probe config: a Slurm job-array script (`cluster slurm …`, submit with \
sbatch) or a Kubernetes Indexed Job manifest (`cluster k8s …`, submit with kubectl create -f).

Every task runs the ordinary jukemir command with its index taken from SLURM_ARRAY_TASK_ID or \
JOB_COMPLETION_INDEX, so the scripts need no wrapper. Work already finished is skipped (extract outputs that \
exist and are valid, probes whose metrics.json exists) and every output is written atomically, so a script \
can be resubmitted as often as needed: only what is missing runs again. The cache folder must be on a \
filesystem that every node sees. docs/cluster.md describes the layout and the whole workflow.

Examples:
  jukemir cluster slurm extract mfcc wav/ features/mfcc -o mfcc.sbatch && sbatch mfcc.sbatch
  jukemir cluster slurm grid gtzan_ff mfcc -o grid.sbatch && sbatch grid.sbatch
  jukemir cluster k8s extract chroma wav features/chroma --image IMAGE --pvc CLAIM -o chroma.yaml
  kubectl create -f chroma.yaml";

const SLURM_LONG_ABOUT: &str = "Write an sbatch script for a Slurm job array: `extract` runs one array task per \
batch of input files, `grid` one per probe config. Submit with `sbatch FILE`; resubmitting the same script is \
safe and computes only what is missing. See `jukemir cluster slurm extract --help` for the resource defaults.";

const K8S_LONG_ABOUT: &str = "Write a Kubernetes Indexed Job manifest (batch/v1 Job with completionMode: \
Indexed): `extract` runs one pod per batch of input files, `grid` one per probe config. Pods read their index \
from JOB_COMPLETION_INDEX and share a volume (--pvc NAME or --host-path DIR) mounted at --mount-path, which \
holds the inputs, outputs and cache; paths are given relative to that volume. Submit with `kubectl create -f \
FILE`; to run it again, `kubectl delete job NAME` then create it again: finished work is skipped.";

/// `cluster … extract --help`: the contract, then each representation's task defaults (from the
/// registry), then the caveats.
fn extract_long_about() -> String {
    let mut text = String::from(
        "Count the inputs of INPUT_DIR now (its non-hidden regular files, sorted by name, as `jukemir extract` \
lists them) and write a job with one task per batch of --batch-size files: task I runs `jukemir extract \
REPRESENTATION INPUT_DIR OUTPUT_DIR --batch-size N -j CPUS` with I taken from SLURM_ARRAY_TASK_ID (Slurm) or \
JOB_COMPLETION_INDEX (Kubernetes), so it processes files [I·N, I·N+N) (choi: batch I of the reference's \
shuffled batches, the same number of them). Finished outputs are skipped and new ones written atomically, so \
resubmitting is safe. If files are added to INPUT_DIR, write the job again.

Defaults per task, by representation and without its options (--batch-size, --cpus, --mem, --gpus and \
--time override them):
  representation  batch  cpus   mem  gpus  time
",
    );
    for plugin in jukemir_representations::PLUGINS {
        let Ok(options) = plugin.parse_options::<_, &str>([]) else { continue };
        let t = (plugin.task)(&options);
        text += &format!(
            "  {:<14} {:>6} {:>5} {:>4}G {:>5}  {}\n",
            plugin.name, t.batch_size, t.cpus, t.mem_gib, t.gpus, t.time
        );
    }
    text += "
choi's batch size is part of its definition: its batch norms use the statistics of the batch, so \
another --batch-size gives other vectors (a warning says so). jukebox keeps about 6 GB resident, or \
about 1.3 GB with --stream-weights (its tasks then ask for 3G).

Only jukebox with --device cuda (a jukemir built with --features cuda) uses a GPU; for the other \
networks the GPU requested only reserves one, so --gpus 0 is sensible and usually schedules sooner; give \
them more --cpus instead.";
    text
}

const GRID_LONG_ABOUT: &str = "Write the paper's probe grid for DATASET / REPRESENTATION as config files \
(probes/<dataset>/<representation>/<uid>.json in the cache, as `jukemir probe grid --emit-configs` does) and a \
job with one task per config, each running `jukemir probe train --skip-done CONFIG`. A config whose \
metrics.json exists is skipped, so resubmitting trains only what is missing. The representations \
(representations/<dataset>/<representation>/*.npy) and processed/<dataset>/meta.json must be in the cache \
when the tasks run: submit after the extraction has finished (with Slurm, e.g. sbatch \
--dependency=afterok:JOBID FILE). Then collect with `jukemir probe evaluate DATASET REPRESENTATION` and \
`jukemir report`.

Defaults: 1 cpu, 8G of memory, no GPU, 04:00:00 per task.";

#[derive(Subcommand)]
#[command(after_help = CLUSTER_LONG_ABOUT)]
pub enum ClusterCommand {
    /// Write a Slurm job-array script (sbatch) for extraction or the probe grid.
    #[command(subcommand, long_about = SLURM_LONG_ABOUT)]
    Slurm(SlurmCommand),
    /// Write a Kubernetes Indexed Job manifest (YAML) for extraction or the probe grid.
    #[command(subcommand, long_about = K8S_LONG_ABOUT)]
    K8s(K8sCommand),
}

#[derive(Subcommand)]
pub enum SlurmCommand {
    /// One array task per batch of input files, each running `jukemir extract … --batch-size N`.
    #[command(long_about = extract_long_about(), after_help = SLURM_EXTRACT_EXAMPLES)]
    Extract(Box<SlurmExtractArgs>),
    /// Emit the probe-grid configs and one array task per config (`jukemir probe train --skip-done`).
    #[command(long_about = GRID_LONG_ABOUT, after_help = SLURM_GRID_EXAMPLES)]
    Grid(Box<SlurmGridArgs>),
}

#[derive(Subcommand)]
pub enum K8sCommand {
    /// One pod per batch of input files, each running `jukemir extract … --batch-size N`.
    #[command(long_about = extract_long_about(), after_help = K8S_EXTRACT_EXAMPLES)]
    Extract(Box<k8s::ExtractArgs>),
    /// Emit the probe-grid configs and one pod per config (`jukemir probe train --skip-done`).
    #[command(long_about = GRID_LONG_ABOUT, after_help = K8S_GRID_EXAMPLES)]
    Grid(Box<k8s::GridArgs>),
}

const SLURM_EXTRACT_EXAMPLES: &str = "Examples:
  jukemir cluster slurm extract chroma wav/ out/chroma -o chroma.sbatch && sbatch chroma.sbatch
  jukemir cluster slurm extract musicnn wav/ out/musicnn --gpus 0 --cpus 8 --partition cpu
  jukemir cluster slurm extract jukebox wav/ out/jukebox --stream-weights --batch-size 4";
const SLURM_GRID_EXAMPLES: &str = "Examples:
  jukemir cluster slurm grid gtzan_ff mfcc -o grid.sbatch && sbatch grid.sbatch
  sbatch --dependency=afterok:1234 grid.sbatch     # after the extraction job 1234";
const K8S_EXTRACT_EXAMPLES: &str = "Examples:
  jukemir cluster k8s extract chroma processed/gtzan_ff/wav representations/gtzan_ff/chroma \\
    --image registry.example.org/jukemir:0.1 --pvc jukemir-cache --local-root /mnt/jukemir
  kubectl create -f jukemir-extract-chroma.yaml";
const K8S_GRID_EXAMPLES: &str = "Examples:
  jukemir cluster k8s grid gtzan_ff mfcc --image IMAGE --host-path /srv/jukemir -o grid.yaml
  kubectl create -f grid.yaml";

/// Where an extract job reads and writes, and how it splits the inputs.
#[derive(Args)]
pub struct ExtractPaths {
    /// Folder of audio files.
    input_dir: PathBuf,
    /// Folder for the .npy outputs (created if missing).
    output_dir: PathBuf,
    /// Files per task [default: the representation's, see above].
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// The network's weights in their original format [default: what `jukemir weights fetch` put in
    /// the cache]. For `cluster k8s`: relative to the volume, or an absolute path inside the image.
    #[arg(long, value_name = "PATH")]
    weights: Option<PathBuf>,
}

/// What every extract task runs, apart from where the paths point: the chosen representation with
/// its options, and the paths.
pub struct ExtractSpec {
    plugin: &'static jukemir_representations::Plugin,
    options: clap::ArgMatches,
    input_dir: PathBuf,
    output_dir: PathBuf,
    batch_size: Option<usize>,
    weights: Option<PathBuf>,
}

impl ExtractSpec {
    pub fn new(
        plugin: &'static jukemir_representations::Plugin,
        options: clap::ArgMatches,
        paths: ExtractPaths,
    ) -> Self {
        ExtractSpec {
            plugin,
            options,
            input_dir: paths.input_dir,
            output_dir: paths.output_dir,
            batch_size: paths.batch_size,
            weights: paths.weights,
        }
    }

    /// The representation's cluster defaults for these options.
    pub fn defaults(&self) -> Defaults {
        let task = (self.plugin.task)(&self.options);
        Defaults {
            batch_size: task.batch_size,
            cpus: task.cpus,
            mem: Mem::gib(task.mem_gib as u64),
            gpus: task.gpus,
            time: task.time,
        }
    }
}

/// Per-task resources, shared by Slurm and Kubernetes.
#[derive(Args)]
pub struct Resources {
    /// CPUs per task (also passed to the task as -j) [default: see above].
    #[arg(long, value_name = "N")]
    cpus: Option<usize>,
    /// Memory per task, e.g. 4G or 512M (binary units, as Slurm reads them) [default: see above].
    #[arg(long, value_name = "SIZE", value_parser = Mem::parse)]
    mem: Option<Mem>,
    /// GPUs per task (0: none; only jukebox --device cuda uses one) [default: see above].
    #[arg(long, value_name = "N")]
    gpus: Option<usize>,
}

/// Slurm-only options.
#[derive(Args)]
pub struct SlurmOptions {
    /// Partition (queue) to submit to [default: the cluster's default partition].
    #[arg(long, value_name = "NAME")]
    partition: Option<String>,
    /// Time limit per task (Slurm syntax: HH:MM:SS or D-HH:MM:SS) [default: see above].
    #[arg(long, value_name = "D-HH:MM:SS")]
    time: Option<String>,
    /// At most N array tasks running at once [default: no limit].
    #[arg(long, value_name = "N")]
    max_parallel: Option<usize>,
    /// Where Slurm writes each task's log, <jobid>_<task>.out (created now) [default:
    /// <cache>/logs/…].
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// The jukemir executable the tasks run, as the compute nodes see it [default: this one].
    #[arg(long, value_name = "PATH")]
    exe: Option<PathBuf>,
    /// Where to write the script ("-": standard output) [default: jukemir-<what>.sbatch].
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct SlurmExtractArgs {
    #[command(subcommand)]
    chosen: crate::chosen::Chosen<SlurmExtractRest>,
}

/// `cluster slurm extract <representation>`'s own arguments.
#[derive(Args)]
pub struct SlurmExtractRest {
    #[command(flatten)]
    paths: ExtractPaths,
    /// Cache folder for the weights [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir]; also where the
    /// logs go.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    resources: Resources,
    #[command(flatten)]
    slurm: SlurmOptions,
}

/// Which probe grid.
#[derive(Args)]
pub struct GridSpec {
    /// Dataset (as under processed/ in the cache), e.g. gtzan_ff.
    dataset: String,
    /// Representation (as under representations/<dataset>/ in the cache), e.g. mfcc.
    representation: String,
    /// Only the first N configs of the paper's 216 (for quick runs).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

#[derive(Args)]
pub struct SlurmGridArgs {
    #[command(flatten)]
    grid: GridSpec,
    /// Cache folder, on a filesystem every node sees [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    resources: Resources,
    #[command(flatten)]
    slurm: SlurmOptions,
}

pub fn run(command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Slurm(SlurmCommand::Extract(args)) => slurm_extract(*args),
        ClusterCommand::Slurm(SlurmCommand::Grid(args)) => slurm_grid(*args),
        ClusterCommand::K8s(K8sCommand::Extract(args)) => k8s::extract(*args),
        ClusterCommand::K8s(K8sCommand::Grid(args)) => k8s::grid(*args),
    }
}

/// A memory size, kept in MiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mem {
    mib: u64,
}

impl Mem {
    const fn gib(n: u64) -> Mem {
        Mem { mib: n * 1024 }
    }

    /// `4G`, `512M`, `1.5G`, `4Gi`, `4GB`, `4096` (MiB, as Slurm reads a bare number).
    fn parse(text: &str) -> Result<Mem, String> {
        let bad = || format!("{text:?} is not a memory size: write e.g. 4G, 512M or 1.5G (binary units)");
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let value: f64 = number.parse().map_err(|_| bad())?;
        let unit = unit.trim().to_ascii_uppercase();
        let unit = unit.trim_end_matches('B').trim_end_matches('I');
        let scale = match unit {
            "K" => 1.0 / 1024.0,
            "" | "M" => 1.0,
            "G" => 1024.0,
            "T" => 1024.0 * 1024.0,
            _ => return Err(bad()),
        };
        let mib = (value * scale).ceil();
        if !(1.0..1e12).contains(&mib) {
            return Err(bad());
        }
        Ok(Mem { mib: mib as u64 })
    }

    /// Slurm's `--mem` syntax.
    pub fn slurm(self) -> String {
        if self.mib.is_multiple_of(1024) {
            format!("{}G", self.mib / 1024)
        } else {
            format!("{}M", self.mib)
        }
    }

    /// A Kubernetes quantity.
    pub fn k8s(self) -> String {
        if self.mib.is_multiple_of(1024) {
            format!("{}Gi", self.mib / 1024)
        } else {
            format!("{}Mi", self.mib)
        }
    }
}

/// Per-task defaults for one kind of work.
#[derive(Clone, Copy, Debug)]
pub struct Defaults {
    pub batch_size: usize,
    pub cpus: usize,
    pub mem: Mem,
    pub gpus: usize,
    pub time: &'static str,
}

pub const GRID_DEFAULTS: Defaults = Defaults { batch_size: 1, cpus: 1, mem: Mem::gib(8), gpus: 0, time: "04:00:00" };

/// Resources after applying the defaults.
pub struct Chosen {
    pub cpus: usize,
    pub mem: Mem,
    pub gpus: usize,
}

impl Resources {
    fn choose(&self, defaults: &Defaults) -> anyhow::Result<Chosen> {
        let cpus = self.cpus.unwrap_or(defaults.cpus);
        ensure!(cpus >= 1, "--cpus must be at least 1");
        Ok(Chosen { cpus, mem: self.mem.unwrap_or(defaults.mem), gpus: self.gpus.unwrap_or(defaults.gpus) })
    }
}

/// The executable and paths of an extract task, as the task sees them.
pub struct TaskPaths {
    pub exe: String,
    pub input: String,
    pub output: String,
    pub weights: Option<String>,
    /// Passed as --cache-dir when set.
    pub cache: Option<String>,
}

/// How the inputs split into tasks.
pub struct ExtractPlan {
    pub files: usize,
    pub batch_size: usize,
    pub tasks: usize,
}

impl ExtractSpec {
    /// Whether the tasks compute on their GPU (jukebox's `--device cuda`).
    pub fn uses_gpu(&self) -> bool {
        (self.plugin.uses_gpu)(&self.options)
    }

    fn batch_size(&self, defaults: &Defaults) -> anyhow::Result<usize> {
        let size = self.batch_size.unwrap_or(defaults.batch_size);
        ensure!(size >= 1, "--batch-size must be at least 1");
        if let Some(dependence) = self.plugin.batch_dependence.filter(|d| d.default_batch_size != size) {
            let (name, reference) = (self.plugin.name, dependence.default_batch_size);
            eprintln!(
                "warning: {name}'s vectors depend on the other files of their batch, so on the batch size: the \
                 reference used {reference}, and --batch-size {size} gives other vectors (drop --batch-size to use \
                 {reference})"
            );
        }
        Ok(size)
    }

    /// Count the inputs as `jukemir extract` will list them (or take the count given).
    fn plan(&self, defaults: &Defaults, local_input: &Path, count: Option<usize>) -> anyhow::Result<ExtractPlan> {
        let batch_size = self.batch_size(defaults)?;
        let files = match count {
            Some(n) => n,
            None => {
                let files = list_input_files(local_input).with_context(|| {
                    format!("cannot count the input files; check that {} is the folder of audio", local_input.display())
                })?;
                check_unique_outputs(&files)?;
                files.len()
            }
        };
        if files == 0 {
            bail!(
                "no input files in {}: extract reads the non-hidden regular files directly inside INPUT_DIR \
                 (not subfolders); give the folder that holds the audio",
                local_input.display()
            );
        }
        Ok(ExtractPlan { files, batch_size, tasks: files.div_ceil(batch_size) })
    }

    /// `EXE extract REPR IN OUT --batch-size N -j CPUS [options]`.
    fn command(&self, paths: &TaskPaths, plan: &ExtractPlan, cpus: usize) -> Vec<String> {
        let mut command = vec![
            paths.exe.clone(),
            "extract".into(),
            self.plugin.name.to_string(),
            paths.input.clone(),
            paths.output.clone(),
            "--batch-size".into(),
            plan.batch_size.to_string(),
            "-j".into(),
            cpus.to_string(),
        ];
        if let Some(weights) = &paths.weights {
            command.extend(["--weights".into(), weights.clone()]);
        }
        command.extend(self.plugin.options_as_words(&self.options));
        if let Some(cache) = &paths.cache {
            command.extend(["--cache-dir".into(), cache.clone()]);
        }
        command
    }

    /// Whether the tasks need the cache (for weights fetched there).
    fn needs_cache(&self) -> bool {
        self.plugin.weights.is_some() && self.weights.is_none()
    }

    fn describe(&self, plan: &ExtractPlan, input: &str, output: &str, index_var: &str) -> Vec<String> {
        let selection = if self.plugin.batch_dependence.is_some() {
            "batch I of the reference's batches (the sorted listing shuffled as Python 2's random.seed(0) does)"
                .to_string()
        } else {
            format!("files [I*{0}, I*{0}+{0}) of the sorted listing", plan.batch_size)
        };
        vec![
            format!(
                "Extracts {} from the {} input files of {input} (its non-hidden files, sorted by name)",
                self.plugin.name, plan.files
            ),
            format!("into {output}: {} tasks; task I={index_var} processes {selection}.", plan.tasks),
            "Idempotent and resumable: a task skips outputs that already exist as valid vectors and writes each new"
                .into(),
            "one to a temporary file renamed into place, so resubmitting (after time-outs, node failures or a fix)"
                .into(),
            "computes only what is missing; delete an .npy to compute it again. If files are added to the input".into(),
            "folder, write this job again: the number of tasks was counted when it was written.".into(),
        ]
    }
}

/// The command line that wrote a script, for its header.
fn invocation() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("jukemir {}", shell_command(&args))
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot make {} absolute", path.display()))
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn exe_path(exe: &Option<PathBuf>) -> anyhow::Result<String> {
    Ok(match exe {
        Some(exe) => text(exe),
        None => text(&std::env::current_exe().context("cannot locate this executable; pass --exe PATH")?),
    })
}

/// Write `text` to `output`, or print it for "-"; say how to submit it.
fn write_output(output: &Path, body: &str, submit: &str, summary: &str) -> anyhow::Result<()> {
    if output == Path::new("-") {
        print!("{body}");
        eprintln!("{summary}");
        return Ok(());
    }
    std::fs::write(output, body)
        .with_context(|| format!("cannot write {}; choose another file with -o", output.display()))?;
    let shown = shell_command(&[text(output)]);
    println!("wrote {} ({summary}); submit with: {submit} {shown}", output.display());
    Ok(())
}

fn warn_array_size(tasks: usize) {
    if tasks > slurm::DEFAULT_MAX_ARRAY_SIZE - 1 {
        eprintln!(
            "warning: {tasks} array tasks: Slurm's default MaxArraySize only allows indices up to {} \
             (`scontrol show config | grep MaxArraySize` shows this cluster's); use a larger --batch-size if \
             sbatch refuses the script",
            slurm::DEFAULT_MAX_ARRAY_SIZE - 1
        );
    }
}

fn create_log_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the log folder {}; choose another with --log-dir", dir.display()))
}

fn slurm_extract(args: SlurmExtractArgs) -> anyhow::Result<()> {
    let crate::chosen::Chosen { plugin, options, args } = args.chosen;
    let spec = &ExtractSpec::new(plugin, options, args.paths);
    let defaults = spec.defaults();
    let chosen = args.resources.choose(&defaults)?;
    let input = absolute(&spec.input_dir)?;
    let output = absolute(&spec.output_dir)?;
    let plan = spec.plan(&defaults, &input, None)?;
    warn_array_size(plan.tasks);
    let cache = crate::probe::resolve_cache(args.cache_dir.clone())?;
    let weights = match &spec.weights {
        Some(w) => {
            ensure!(w.exists(), "--weights {} does not exist; give the weights' path as the nodes see it", w.display());
            Some(text(&absolute(w)?))
        }
        None => None,
    };
    let pass_cache = (spec.needs_cache() || args.cache_dir.is_some()).then(|| text(&cache));
    let exe = exe_path(&args.slurm.exe)?;
    let paths = TaskPaths { exe, input: text(&input), output: text(&output), weights, cache: pass_cache };
    let command = spec.command(&paths, &plan, chosen.cpus);
    let log_dir = match &args.slurm.log_dir {
        Some(dir) => absolute(dir)?,
        None => cache.join("logs").join("extract").join(spec.plugin.name),
    };
    create_log_dir(&log_dir)?;
    let mut comments = vec![format!("Written by jukemir {}: {}", env!("CARGO_PKG_VERSION"), invocation())];
    comments.extend(spec.describe(&plan, &text(&input), &text(&output), "$SLURM_ARRAY_TASK_ID"));
    comments.push(format!("Submit: sbatch FILE. Follow: squeue --me. Logs: {}/<jobid>_<task>.out.", log_dir.display()));
    if chosen.gpus > 0 && !spec.uses_gpu() {
        comments.push(
            "Without --device cuda jukemir runs on CPUs: the GPU requested here is only reserved (write the script \
             with --gpus 0 to leave it free, or with jukebox --device cuda to use it)."
                .into(),
        );
    }
    let time = args.slurm.time.clone().unwrap_or_else(|| defaults.time.to_string());
    let body = slurm::script(&ArrayJob {
        name: &format!("jukemir-extract-{}", spec.plugin.name),
        tasks: Tasks::Same { count: plan.tasks, command: &command },
        cpus_per_task: chosen.cpus,
        mem: &chosen.mem.slurm(),
        time: &time,
        partition: args.slurm.partition.as_deref(),
        gpus: chosen.gpus,
        max_parallel: args.slurm.max_parallel,
        log_dir: &log_dir,
        comments: &comments,
    });
    let out =
        args.slurm.output.clone().unwrap_or_else(|| format!("jukemir-extract-{}.sbatch", spec.plugin.name).into());
    let summary = format!("{} array tasks for {} files in batches of {}", plan.tasks, plan.files, plan.batch_size);
    write_output(&out, &body, "sbatch", &summary)
}

/// The grid's configs, written into the cache as the reference's 4_grid_config.py does; their
/// paths in config order.
pub fn emit_grid(grid: &GridSpec, root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut configs = jukemir_probe::config::paper_grid(&grid.dataset, &grid.representation);
    configs.truncate(grid.limit.unwrap_or(usize::MAX));
    let paths = jukemir_probe::grid::emit_configs(&configs, root)?;
    let representations = root.join("representations").join(&grid.dataset).join(&grid.representation);
    let meta = root.join("processed").join(&grid.dataset).join("meta.json");
    for path in [&representations, &meta] {
        if !path.exists() {
            eprintln!(
                "note: {} does not exist yet; the tasks need it, so submit the job once the extraction (or \
                 `jukemir datasets process`) has finished",
                path.display()
            );
        }
    }
    Ok(paths)
}

/// `EXE probe train --skip-done --cache-dir ROOT CFG` for each config.
pub fn grid_tasks(exe: &str, root: &str, configs: &[String]) -> Vec<Vec<String>> {
    configs
        .iter()
        .map(|cfg| {
            vec![
                exe.to_string(),
                "probe".into(),
                "train".into(),
                "--skip-done".into(),
                "--cache-dir".into(),
                root.to_string(),
                cfg.clone(),
            ]
        })
        .collect()
}

fn grid_comments(dataset: &str, representation: &str, tasks: usize, root: &str, index_var: &str) -> Vec<String> {
    vec![
        format!(
            "Trains {tasks} probe configs of the paper's grid for {dataset} / {representation}: task I={index_var} runs"
        ),
        format!("`jukemir probe train --skip-done` on config I ({root}/probes/{dataset}/{representation}/<uid>.json)."),
        "Idempotent and resumable: a config whose metrics.json exists is skipped, so resubmitting trains only".into(),
        "what is missing. Needs representations/<dataset>/<representation>/*.npy and processed/<dataset>/meta.json"
            .into(),
        format!(
            "in the cache. Collect: jukemir probe evaluate {dataset} {representation} --cache-dir {root}, then jukemir \
             report --cache-dir {root}."
        ),
    ]
}

/// What the Slurm grid script needs; shared with `jukemir probe grid --slurm`.
pub struct SlurmGrid<'a> {
    pub dataset: &'a str,
    pub representation: &'a str,
    pub root: &'a Path,
    pub configs: &'a [PathBuf],
    pub exe: &'a str,
    pub cpus: usize,
    pub mem: &'a str,
    pub gpus: usize,
    pub time: &'a str,
    pub partition: Option<&'a str>,
    pub max_parallel: Option<usize>,
    pub log_dir: Option<&'a Path>,
    pub output: &'a Path,
}

pub fn write_slurm_grid(g: &SlurmGrid) -> anyhow::Result<()> {
    let configs: Vec<String> = g.configs.iter().map(|p| text(p)).collect();
    let root = text(g.root);
    let tasks = grid_tasks(g.exe, &root, &configs);
    warn_array_size(tasks.len());
    let log_dir = match g.log_dir {
        Some(dir) => absolute(dir)?,
        None => g.root.join("logs").join("probe-grid").join(g.dataset).join(g.representation),
    };
    create_log_dir(&log_dir)?;
    let mut comments = vec![format!("Written by jukemir {}: {}", env!("CARGO_PKG_VERSION"), invocation())];
    comments.extend(grid_comments(g.dataset, g.representation, tasks.len(), &root, "$SLURM_ARRAY_TASK_ID"));
    comments.push(format!("Submit: sbatch FILE. Follow: squeue --me. Logs: {}/<jobid>_<task>.out.", log_dir.display()));
    let body = slurm::script(&ArrayJob {
        name: &format!("jukemir-grid-{}-{}", g.dataset, g.representation),
        tasks: Tasks::Each(&tasks),
        cpus_per_task: g.cpus,
        mem: g.mem,
        time: g.time,
        partition: g.partition,
        gpus: g.gpus,
        max_parallel: g.max_parallel,
        log_dir: &log_dir,
        comments: &comments,
    });
    write_output(g.output, &body, "sbatch", &format!("{} array tasks", tasks.len()))
}

fn slurm_grid(args: SlurmGridArgs) -> anyhow::Result<()> {
    let root = crate::probe::resolve_cache(args.cache_dir.clone())?;
    let chosen = args.resources.choose(&GRID_DEFAULTS)?;
    let configs = emit_grid(&args.grid, &root)?;
    let grid = &args.grid;
    println!(
        "{} configs in {}",
        configs.len(),
        root.join("probes").join(&grid.dataset).join(&grid.representation).display()
    );
    let exe = exe_path(&args.slurm.exe)?;
    let time = args.slurm.time.clone().unwrap_or_else(|| GRID_DEFAULTS.time.to_string());
    let output = args
        .slurm
        .output
        .clone()
        .unwrap_or_else(|| format!("jukemir-grid-{}-{}.sbatch", grid.dataset, grid.representation).into());
    write_slurm_grid(&SlurmGrid {
        dataset: &grid.dataset,
        representation: &grid.representation,
        root: &root,
        configs: &configs,
        exe: &exe,
        cpus: chosen.cpus,
        mem: &chosen.mem.slurm(),
        gpus: chosen.gpus,
        time: &time,
        partition: args.slurm.partition.as_deref(),
        max_parallel: args.slurm.max_parallel,
        log_dir: args.slurm.log_dir.as_deref(),
        output: &output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_read_as_slurm_reads_them() {
        assert_eq!(Mem::parse("4G").unwrap(), Mem::gib(4));
        assert_eq!(Mem::parse("4Gi").unwrap().k8s(), "4Gi");
        assert_eq!(Mem::parse("4GB").unwrap().slurm(), "4G");
        assert_eq!(Mem::parse("1.5G").unwrap().slurm(), "1536M");
        assert_eq!(Mem::parse("512").unwrap().k8s(), "512Mi");
        assert_eq!(Mem::parse("512m").unwrap().slurm(), "512M");
        for bad in ["", "G", "4X", "-1G", "0"] {
            assert!(Mem::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_follow_the_representation_and_its_options() {
        let defaults = |name: &str, words: &[&str]| {
            let plugin = jukemir_representations::plugin(name).unwrap();
            let paths =
                ExtractPaths { input_dir: "in".into(), output_dir: "out".into(), batch_size: None, weights: None };
            ExtractSpec::new(plugin, plugin.parse_options(words).unwrap(), paths).defaults()
        };
        assert_eq!(defaults("chroma", &[]).gpus, 0);
        assert_eq!(defaults("musicnn", &[]).gpus, 1);
        assert_eq!(defaults("choi", &[]).batch_size, 256);
        assert_eq!(defaults("jukebox", &["--stream-weights"]).mem, Mem::gib(3));
        assert_eq!(defaults("jukebox", &[]).mem, Mem::gib(8));
    }
}
