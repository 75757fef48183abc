//! Slurm job-array scripts: one array task per command, selected by `SLURM_ARRAY_TASK_ID`.

use std::fmt::Write;
use std::path::Path;

/// Resources and naming for one array job.
pub struct ArrayJob<'a> {
    pub name: &'a str,
    /// One argument list per array task (program first).
    pub tasks: &'a [Vec<String>],
    pub cpus_per_task: usize,
    pub mem: &'a str,
    pub time: &'a str,
    /// At most this many tasks at once (`--array=0-N%limit`).
    pub max_parallel: Option<usize>,
    /// Where Slurm writes each task's log (`%A_%a.out`).
    pub log_dir: &'a Path,
}

/// POSIX shell single-quoting.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c)) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The sbatch script. Each task runs its command with `exec`, so Slurm sees its exit status.
pub fn script(job: &ArrayJob) -> String {
    let mut s = String::from("#!/bin/bash\n");
    let last = job.tasks.len().saturating_sub(1);
    let throttle = job.max_parallel.map_or(String::new(), |n| format!("%{n}"));
    let _ = writeln!(s, "#SBATCH --job-name={}", shell_quote(job.name));
    let _ = writeln!(s, "#SBATCH --array=0-{last}{throttle}");
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", job.cpus_per_task);
    let _ = writeln!(s, "#SBATCH --mem={}", job.mem);
    let _ = writeln!(s, "#SBATCH --time={}", job.time);
    let _ = writeln!(s, "#SBATCH --output={}", shell_quote(&job.log_dir.join("%A_%a.out").to_string_lossy()));
    s.push_str("# Written by jukemir. Resubmitting is safe: finished tasks are skipped.\n");
    s.push_str("set -euo pipefail\n");
    s.push_str("case \"${SLURM_ARRAY_TASK_ID:-}\" in\n");
    for (i, task) in job.tasks.iter().enumerate() {
        let command: Vec<String> = task.iter().map(|a| shell_quote(a)).collect();
        let _ = writeln!(s, "  {i}) exec {} ;;", command.join(" "));
    }
    s.push_str("  *) echo \"SLURM_ARRAY_TASK_ID=${SLURM_ARRAY_TASK_ID:-} is not a task of this array (0-");
    let _ = write!(s, "{last}");
    s.push_str(")\" >&2; exit 2 ;;\nesac\n");
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

    #[test]
    fn script_has_one_case_per_task_and_the_array_range() {
        let tasks = vec![vec!["jukemir".into(), "probe".into()], vec!["jukemir".into(), "x y".into()]];
        let s = script(&ArrayJob {
            name: "g",
            tasks: &tasks,
            cpus_per_task: 2,
            mem: "4G",
            time: "01:00:00",
            max_parallel: Some(8),
            log_dir: Path::new("/logs"),
        });
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("#SBATCH --array=0-1%8\n"));
        assert!(s.contains("  0) exec jukemir probe ;;\n"));
        assert!(s.contains("  1) exec jukemir 'x y' ;;\n"));
        assert!(s.contains("#SBATCH --output=/logs/%A_%a.out\n"));
    }
}
