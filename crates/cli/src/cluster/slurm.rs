//! Slurm job-array scripts: one array task per batch or config, selected by `SLURM_ARRAY_TASK_ID`.

use std::fmt::Write;
use std::path::Path;

/// Slurm's default `MaxArraySize`: array indices must stay below it unless the cluster raised it.
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// What each array task runs.
pub enum Tasks<'a> {
    /// One command per task, picked by a `case` on `SLURM_ARRAY_TASK_ID` (program first).
    Each(&'a [Vec<String>]),
    /// `count` tasks running the same command, which reads `SLURM_ARRAY_TASK_ID` itself (as
    /// `jukemir extract --batch-size N` does).
    Same { count: usize, command: &'a [String] },
}

impl Tasks<'_> {
    pub fn len(&self) -> usize {
        match self {
            Tasks::Each(tasks) => tasks.len(),
            Tasks::Same { count, .. } => *count,
        }
    }
}

/// Resources and naming for one array job.
pub struct ArrayJob<'a> {
    pub name: &'a str,
    pub tasks: Tasks<'a>,
    pub cpus_per_task: usize,
    /// Memory per task in Slurm's syntax (`4G`, `512M`).
    pub mem: &'a str,
    /// Time limit per task in Slurm's syntax (`HH:MM:SS`, `D-HH:MM:SS`).
    pub time: &'a str,
    pub partition: Option<&'a str>,
    /// GPUs per task, requested as `--gres=gpu:N` (none when 0).
    pub gpus: usize,
    /// At most this many tasks at once (`--array=0-N%limit`).
    pub max_parallel: Option<usize>,
    /// Where Slurm writes each task's log (`%A_%a.out`); it must exist before the job starts.
    pub log_dir: &'a Path,
    /// Comment lines for the script's header (without `# `).
    pub comments: &'a [String],
}

/// POSIX shell single-quoting.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c)) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A command line as a shell would read it.
pub fn shell_command(args: &[String]) -> String {
    args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

/// The `case` statement that runs task `$var`'s command with `exec` (so the scheduler sees its exit
/// status), or exits with status 2 for an index outside `0..tasks.len()`.
pub fn case_dispatch(var: &str, tasks: &[Vec<String>], what: &str) -> String {
    let mut s = String::new();
    let last = tasks.len().saturating_sub(1);
    let _ = writeln!(s, "case \"${{{var}:-}}\" in");
    for (i, task) in tasks.iter().enumerate() {
        let _ = writeln!(s, "  {i}) exec {} ;;", shell_command(task));
    }
    let _ = writeln!(s, "  *) echo \"{var}=${{{var}:-}} is not a task of this {what} (0-{last})\" >&2; exit 2 ;;");
    s.push_str("esac\n");
    s
}

/// The sbatch script.
pub fn script(job: &ArrayJob) -> String {
    let mut s = String::from("#!/bin/bash\n");
    let last = job.tasks.len().saturating_sub(1);
    let throttle = job.max_parallel.map_or(String::new(), |n| format!("%{n}"));
    let _ = writeln!(s, "#SBATCH --job-name={}", shell_quote(job.name));
    let _ = writeln!(s, "#SBATCH --array=0-{last}{throttle}");
    if let Some(partition) = job.partition {
        let _ = writeln!(s, "#SBATCH --partition={}", shell_quote(partition));
    }
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", job.cpus_per_task);
    let _ = writeln!(s, "#SBATCH --mem={}", job.mem);
    if job.gpus > 0 {
        let _ = writeln!(s, "#SBATCH --gres=gpu:{}", job.gpus);
    }
    let _ = writeln!(s, "#SBATCH --time={}", job.time);
    let _ = writeln!(s, "#SBATCH --output={}", shell_quote(&job.log_dir.join("%A_%a.out").to_string_lossy()));
    s.push_str("#\n");
    for line in job.comments {
        let _ = writeln!(s, "# {line}");
    }
    s.push_str("set -euo pipefail\n");
    match &job.tasks {
        Tasks::Each(tasks) => s.push_str(&case_dispatch("SLURM_ARRAY_TASK_ID", tasks, "array")),
        Tasks::Same { command, .. } => {
            let _ = writeln!(
                s,
                ": \"${{SLURM_ARRAY_TASK_ID:?this is a Slurm job array: submit it with sbatch (or set \
                 SLURM_ARRAY_TASK_ID to 0-{last} to run one task by hand)}}\""
            );
            let _ = writeln!(
                s,
                "[ \"$SLURM_ARRAY_TASK_ID\" -le {last} ] || {{ echo \"SLURM_ARRAY_TASK_ID=$SLURM_ARRAY_TASK_ID is \
                 not a task of this array (0-{last})\" >&2; exit 2; }}"
            );
            let _ = writeln!(s, "exec {}", shell_command(command));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(shell_quote("/a/b.json"), "/a/b.json");
        assert_eq!(shell_quote("it's here"), "'it'\\''s here'");
        assert_eq!(shell_quote(""), "''");
    }

    fn job<'a>(tasks: Tasks<'a>, comments: &'a [String]) -> ArrayJob<'a> {
        ArrayJob {
            name: "g",
            tasks,
            cpus_per_task: 2,
            mem: "4G",
            time: "01:00:00",
            partition: None,
            gpus: 0,
            max_parallel: Some(8),
            log_dir: Path::new("/logs"),
            comments,
        }
    }

    #[test]
    fn script_has_one_case_per_task_and_the_array_range() {
        let tasks = vec![vec!["jukemir".into(), "probe".into()], vec!["jukemir".into(), "x y".into()]];
        let s = script(&job(Tasks::Each(&tasks), &[]));
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("#SBATCH --array=0-1%8\n"));
        assert!(s.contains("  0) exec jukemir probe ;;\n"));
        assert!(s.contains("  1) exec jukemir 'x y' ;;\n"));
        assert!(s.contains("#SBATCH --output=/logs/%A_%a.out\n"));
        assert!(!s.contains("--gres") && !s.contains("--partition"));
    }

    #[test]
    fn same_command_script_requests_gpus_and_checks_the_index() {
        let command = vec!["jukemir".to_string(), "extract".into()];
        let comments = vec!["hello".to_string()];
        let mut j = job(Tasks::Same { count: 3, command: &command }, &comments);
        j.gpus = 1;
        j.partition = Some("gpu");
        let s = script(&j);
        assert!(s.contains("#SBATCH --array=0-2%8\n#SBATCH --partition=gpu\n"), "{s}");
        assert!(s.contains("#SBATCH --gres=gpu:1\n"));
        assert!(s.contains("# hello\n"));
        assert!(s.ends_with("exec jukemir extract\n"), "{s}");
        assert!(s.contains("-le 2 ]"));
    }
}
