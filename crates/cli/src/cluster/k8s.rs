//! Kubernetes Indexed Jobs: one pod per batch or config, selected by `JOB_COMPLETION_INDEX`.

use super::yaml::{self, map, str, strs, Node};
use super::{
    emit_grid, grid_comments, grid_tasks, invocation, text, write_output, ExtractPaths, ExtractSpec, GridSpec,
    Resources, TaskPaths, GRID_DEFAULTS,
};
use anyhow::{bail, ensure, Context};
use clap::Args;
use std::path::{Component, Path, PathBuf};

/// Kubernetes' limit on an Indexed Job's completions.
const MAX_COMPLETIONS: usize = 100_000;

/// The shared volume: exactly one of a claim or a node folder.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct VolumeSource {
    /// Mount this PersistentVolumeClaim (ReadWriteMany, e.g. NFS or CephFS, when pods run on several
    /// nodes) as the shared volume.
    #[arg(long, value_name = "NAME")]
    pvc: Option<String>,
    /// Mount this folder of the node (hostPath) as the shared volume: for one-node clusters, or a
    /// network filesystem mounted at the same place on every node.
    #[arg(long, value_name = "DIR")]
    host_path: Option<PathBuf>,
}

/// Options of every manifest.
#[derive(Args)]
pub struct K8sOptions {
    /// Container image with jukemir in it (e.g. registry.example.org/jukemir:0.1).
    #[arg(long, value_name = "IMAGE")]
    image: String,
    #[command(flatten)]
    volume: VolumeSource,
    /// Where the volume is mounted in the container; the paths given are relative to it.
    #[arg(long, value_name = "DIR", default_value = "/data")]
    mount_path: PathBuf,
    /// Where this machine sees the same volume, to count the inputs and write configs now
    /// [default: --host-path if given, else the current folder].
    #[arg(long, value_name = "DIR")]
    local_root: Option<PathBuf>,
    /// The Job's name (lowercase letters, digits and '-', at most 50 characters) [default:
    /// jukemir-<what>].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The Job's namespace [default: kubectl's current one].
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// At most N pods at once [default: all of them].
    #[arg(long, value_name = "N")]
    parallelism: Option<usize>,
    /// Failed pods retried before the whole Job is marked failed (Kubernetes' backoffLimit).
    #[arg(long, value_name = "N", default_value_t = 6)]
    backoff_limit: u32,
    /// The extended resource that requests GPUs.
    #[arg(long, value_name = "NAME", default_value = "nvidia.com/gpu")]
    gpu_resource: String,
    /// The jukemir executable inside the image.
    #[arg(long, value_name = "PATH", default_value = "jukemir")]
    exe: String,
    /// Where to write the manifest ("-": standard output) [default: jukemir-<what>.yaml].
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct ExtractArgs {
    #[command(subcommand)]
    chosen: crate::chosen::Chosen<ExtractRest>,
}

/// `cluster k8s extract <representation>`'s own arguments.
#[derive(Args)]
pub struct ExtractRest {
    #[command(flatten)]
    paths: ExtractPaths,
    /// The cache folder (weights), relative to the volume ("." is the volume itself); the pods get
    /// it as JUKEMIR_CACHE_DIR.
    #[arg(long, value_name = "DIR", default_value = ".")]
    cache_dir: PathBuf,
    /// The number of input files, when this machine does not see the volume (normally they are
    /// counted in --local-root/INPUT_DIR).
    #[arg(long, value_name = "N")]
    num_inputs: Option<usize>,
    #[command(flatten)]
    resources: Resources,
    #[command(flatten)]
    k8s: K8sOptions,
}

#[derive(Args)]
pub struct GridArgs {
    #[command(flatten)]
    grid: GridSpec,
    /// The cache folder, relative to the volume ("." is the volume itself).
    #[arg(long, value_name = "DIR", default_value = ".")]
    cache_dir: PathBuf,
    #[command(flatten)]
    resources: Resources,
    #[command(flatten)]
    k8s: K8sOptions,
}

/// Paths on the shared volume, as the pods and as this machine see them.
struct Volume {
    mount: PathBuf,
    local_root: PathBuf,
}

impl Volume {
    fn new(options: &K8sOptions) -> anyhow::Result<Volume> {
        let mount = normalise(&options.mount_path);
        ensure!(
            mount.is_absolute() && mount != Path::new("/"),
            "--mount-path must be an absolute folder other than / (e.g. /data), not {}",
            options.mount_path.display()
        );
        if let Some(host) = &options.volume.host_path {
            ensure!(host.is_absolute(), "--host-path must be an absolute folder of the node, not {}", host.display());
        }
        let local_root = options.local_root.clone().or_else(|| options.volume.host_path.clone()).unwrap_or_default();
        let local_root =
            std::path::absolute(if local_root.as_os_str().is_empty() { Path::new(".") } else { &local_root })
                .context("cannot resolve --local-root")?;
        Ok(Volume { mount, local_root })
    }

    /// A path on the volume relative to its root: relative paths as they are, absolute ones must
    /// lie under the mount path.
    fn relative(&self, path: &Path, what: &str) -> anyhow::Result<PathBuf> {
        let path = normalise(path);
        let relative = if path.is_absolute() {
            match path.strip_prefix(&self.mount) {
                Ok(rest) => rest.to_path_buf(),
                Err(_) => bail!(
                    "{what} {} is not on the volume: give it relative to the volume (e.g. processed/gtzan_ff/wav) \
                     or under --mount-path {}",
                    path.display(),
                    self.mount.display()
                ),
            }
        } else {
            path
        };
        ensure!(
            !relative.components().any(|c| c == Component::ParentDir),
            "{what} {} leaves the volume ('..'); give a path inside it",
            relative.display()
        );
        Ok(relative)
    }

    fn in_container(&self, relative: &Path) -> String {
        text(&normalise(&self.mount.join(relative)))
    }

    fn local(&self, relative: &Path) -> PathBuf {
        normalise(&self.local_root.join(relative))
    }

    /// A path that this machine wrote under the local root, as the pods see it.
    fn local_to_container(&self, local: &Path) -> anyhow::Result<String> {
        let relative = local
            .strip_prefix(&self.local_root)
            .with_context(|| format!("{} is not under --local-root {}", local.display(), self.local_root.display()))?;
        Ok(self.in_container(relative))
    }
}

/// Drop `.` components and trailing slashes (no filesystem access).
fn normalise(path: &Path) -> PathBuf {
    path.components().filter(|c| *c != Component::CurDir).collect()
}

/// A Kubernetes object name: the default made valid, or the user's checked.
fn job_name(given: Option<&str>, default: &str) -> anyhow::Result<String> {
    const MAX: usize = 50;
    if let Some(name) = given {
        let valid = !name.is_empty()
            && name.len() <= MAX
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name.starts_with(|c: char| c.is_ascii_lowercase());
        ensure!(
            valid,
            "--name {name:?} is not a valid Job name: use lowercase letters, digits and '-', starting with a letter, \
             at most {MAX} characters (pod host names add the index to it)"
        );
        return Ok(name.to_string());
    }
    let mut name: String =
        default.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    name.truncate(MAX);
    Ok(name.trim_matches('-').to_string())
}

/// Kubernetes expands `$(VAR)` in command and args and turns `$$` into `$`; double the `$` of
/// those two so every string reaches the container as written.
pub fn escape_expansion(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('$') | Some('(')) {
            out.push('$');
        }
    }
    out
}

/// The pieces of one manifest.
struct Job<'a> {
    name: String,
    component: &'a str,
    completions: usize,
    command: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cpus: usize,
    mem: super::Mem,
    gpus: usize,
    comments: Vec<String>,
}

fn manifest(options: &K8sOptions, volume: &Volume, job: &Job) -> anyhow::Result<String> {
    ensure!(
        job.completions <= MAX_COMPLETIONS,
        "{} pods: an Indexed Job may have at most {MAX_COMPLETIONS}; use a larger --batch-size",
        job.completions
    );
    let parallelism = options.parallelism.unwrap_or(job.completions).min(job.completions);
    ensure!(parallelism >= 1, "--parallelism must be at least 1");
    let labels = || {
        map([
            ("app.kubernetes.io/name", str("jukemir")),
            ("app.kubernetes.io/component", str(job.component)),
            ("app.kubernetes.io/instance", str(job.name.clone())),
        ])
    };
    let mut metadata = vec![("name", str(job.name.clone()))];
    if let Some(ns) = &options.namespace {
        metadata.push(("namespace", str(ns.clone())));
    }
    metadata.push(("labels", labels()));

    let mut requests = vec![("cpu".to_string(), str(job.cpus.to_string())), ("memory".into(), str(job.mem.k8s()))];
    let mut limits = vec![("memory".to_string(), str(job.mem.k8s()))];
    if job.gpus > 0 {
        requests.push((options.gpu_resource.clone(), str(job.gpus.to_string())));
        limits.push((options.gpu_resource.clone(), str(job.gpus.to_string())));
    }
    let escaped = |items: &[String]| strs(&items.iter().map(|s| escape_expansion(s)).collect::<Vec<_>>());
    let env: Vec<Node> =
        job.env.iter().map(|(k, v)| map([("name", str(k.clone())), ("value", str(escape_expansion(v)))])).collect();
    let container = map([
        ("name", str("jukemir")),
        ("image", str(options.image.clone())),
        ("command", escaped(&job.command)),
        ("args", escaped(&job.args)),
        ("env", Node::Seq(env)),
        ("resources", map([("requests", Node::Map(requests)), ("limits", Node::Map(limits))])),
        ("volumeMounts", Node::Seq(vec![map([("name", str("shared")), ("mountPath", str(text(&volume.mount)))])])),
    ]);
    let source = match (&options.volume.pvc, &options.volume.host_path) {
        (Some(claim), _) => ("persistentVolumeClaim", map([("claimName", str(claim.clone()))])),
        (None, Some(host)) => ("hostPath", map([("path", str(text(host))), ("type", str("Directory"))])),
        (None, None) => bail!("give the shared volume: --pvc NAME or --host-path DIR"),
    };
    let pod = map([
        ("restartPolicy", str("Never")),
        ("containers", Node::Seq(vec![container])),
        ("volumes", Node::Seq(vec![map([("name", str("shared")), source])])),
    ]);
    let root = map([
        ("apiVersion", str("batch/v1")),
        ("kind", str("Job")),
        ("metadata", map(metadata)),
        (
            "spec",
            map([
                ("completionMode", str("Indexed")),
                ("completions", Node::Int(job.completions as i64)),
                ("parallelism", Node::Int(parallelism as i64)),
                ("backoffLimit", Node::Int(options.backoff_limit.into())),
                ("template", map([("metadata", map([("labels", labels())])), ("spec", pod)])),
            ]),
        ),
    ]);
    Ok(yaml::document(&job.comments, &root))
}

fn submit_comments(name: &str, options: &K8sOptions) -> Vec<String> {
    let ns = options.namespace.as_ref().map_or(String::new(), |ns| format!(" -n {ns}"));
    let mut lines = vec![
        format!("Submit: kubectl create{ns} -f FILE. Follow: kubectl get job{ns} {name}; kubectl logs{ns} job/{name}."),
        format!("Resubmit (e.g. after failures): kubectl delete job{ns} {name}, then kubectl create{ns} -f FILE."),
        format!("Up to {} failed pods are retried in all (backoffLimit).", options.backoff_limit),
    ];
    if let Some(claim) = &options.volume.pvc {
        lines.push(format!(
            "The PersistentVolumeClaim {claim} must exist (ReadWriteMany when pods may run on several nodes)."
        ));
    }
    lines
}

pub fn extract(args: ExtractArgs) -> anyhow::Result<()> {
    let crate::chosen::Chosen { plugin, options: chosen_options, args } = args.chosen;
    let spec = &ExtractSpec::new(plugin, chosen_options, args.paths);
    let options = &args.k8s;
    let volume = Volume::new(options)?;
    let defaults = spec.defaults();
    let chosen = args.resources.choose(&defaults)?;
    let input = volume.relative(&spec.input_dir, "INPUT_DIR")?;
    let output = volume.relative(&spec.output_dir, "OUTPUT_DIR")?;
    let cache = volume.relative(&args.cache_dir, "--cache-dir")?;
    let local_input = volume.local(&input);
    if args.num_inputs.is_none() && !local_input.is_dir() {
        bail!(
            "cannot count the input files: {} is not a folder on this machine. Pass --local-root DIR (where this \
             machine sees the volume) or --num-inputs N (the number of files in INPUT_DIR)",
            local_input.display()
        );
    }
    let plan = spec.plan(&defaults, &local_input, args.num_inputs)?;
    // Relative weights are on the volume; absolute ones are paths inside the image.
    let weights = spec.weights.as_ref().map(|w| if w.is_absolute() { text(w) } else { volume.in_container(w) });
    let (container_input, container_output, container_cache) =
        (volume.in_container(&input), volume.in_container(&output), volume.in_container(&cache));
    let paths = TaskPaths {
        exe: options.exe.clone(),
        input: container_input.clone(),
        output: container_output.clone(),
        weights,
        cache: spec.needs_cache().then(|| container_cache.clone()),
    };
    let full = spec.command(&paths, &plan, chosen.cpus);
    let name = job_name(options.name.as_deref(), &format!("jukemir-extract-{}", spec.plugin.name))?;
    let mut comments = vec![format!("Written by jukemir {}: {}", env!("CARGO_PKG_VERSION"), invocation())];
    comments.extend(spec.describe(&plan, &container_input, &container_output, "$JOB_COMPLETION_INDEX"));
    comments.extend(submit_comments(&name, options));
    if chosen.gpus > 0 && !spec.uses_gpu() {
        comments.push(
            "Without --device cuda jukemir runs on CPUs: the GPU requested here is only reserved (--gpus 0 leaves it \
             free; jukebox --device cuda uses it)."
                .into(),
        );
    }
    let job = Job {
        name,
        component: "extract",
        completions: plan.tasks,
        command: full[..1].to_vec(),
        args: full[1..].to_vec(),
        env: vec![("JUKEMIR_CACHE_DIR".into(), container_cache)],
        cpus: chosen.cpus,
        mem: chosen.mem,
        gpus: chosen.gpus,
        comments,
    };
    let body = manifest(options, &volume, &job)?;
    let out = options.output.clone().unwrap_or_else(|| format!("{}.yaml", job.name).into());
    let summary = format!("{} indexed pods for {} files in batches of {}", plan.tasks, plan.files, plan.batch_size);
    write_output(&out, &body, "kubectl create -f", &summary)
}

pub fn grid(args: GridArgs) -> anyhow::Result<()> {
    let options = &args.k8s;
    let volume = Volume::new(options)?;
    let chosen = args.resources.choose(&GRID_DEFAULTS)?;
    let cache = volume.relative(&args.cache_dir, "--cache-dir")?;
    let local_cache = volume.local(&cache);
    ensure!(
        volume.local_root.is_dir(),
        "{} is not a folder on this machine: the configs are written into the volume now, so pass --local-root \
         DIR where this machine sees it",
        volume.local_root.display()
    );
    let configs = emit_grid(&args.grid, &local_cache)?;
    let grid = &args.grid;
    println!(
        "{} configs in {}",
        configs.len(),
        local_cache.join("probes").join(&grid.dataset).join(&grid.representation).display()
    );
    let container_cache = volume.in_container(&cache);
    let container_configs = configs.iter().map(|c| volume.local_to_container(c)).collect::<anyhow::Result<Vec<_>>>()?;
    let tasks = grid_tasks(&options.exe, &container_cache, &container_configs);
    let script = format!("set -eu\n{}", super::slurm::case_dispatch("JOB_COMPLETION_INDEX", &tasks, "Indexed Job"));
    let name = job_name(options.name.as_deref(), &format!("jukemir-grid-{}-{}", grid.dataset, grid.representation))?;
    let mut comments = vec![format!("Written by jukemir {}: {}", env!("CARGO_PKG_VERSION"), invocation())];
    comments.extend(grid_comments(
        &grid.dataset,
        &grid.representation,
        tasks.len(),
        &container_cache,
        "$JOB_COMPLETION_INDEX",
    ));
    comments
        .push("Each pod runs /bin/sh -c with a case on JOB_COMPLETION_INDEX: the image needs a POSIX shell.".into());
    comments.extend(submit_comments(&name, options));
    let job = Job {
        name,
        component: "probe-grid",
        completions: tasks.len(),
        command: vec!["/bin/sh".into(), "-c".into()],
        args: vec![script],
        env: vec![("JUKEMIR_CACHE_DIR".into(), container_cache)],
        cpus: chosen.cpus,
        mem: chosen.mem,
        gpus: chosen.gpus,
        comments,
    };
    let body = manifest(options, &volume, &job)?;
    let out = options.output.clone().unwrap_or_else(|| format!("{}.yaml", job.name).into());
    write_output(&out, &body, "kubectl create -f", &format!("{} indexed pods", tasks.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_parens_and_doubled_dollars_are_escaped() {
        assert_eq!(escape_expansion("a$(B)c"), "a$$(B)c");
        // Kubernetes reads "$$$" as "$$" (an escaped "$", then a lone one).
        assert_eq!(escape_expansion("$$"), "$$$");
        assert_eq!(escape_expansion("\"${JOB_COMPLETION_INDEX:-}\" $X"), "\"${JOB_COMPLETION_INDEX:-}\" $X");
    }

    #[test]
    fn job_names_are_made_valid_or_refused() {
        assert_eq!(job_name(None, "jukemir-grid-gtzan_ff-mfcc").unwrap(), "jukemir-grid-gtzan-ff-mfcc");
        assert!(job_name(Some("Bad_Name"), "x").is_err());
        assert_eq!(job_name(Some("ok-1"), "x").unwrap(), "ok-1");
    }
}
