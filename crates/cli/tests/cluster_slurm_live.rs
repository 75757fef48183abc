//! A real Slurm cluster of one node, on this machine: the script `jukemir cluster slurm extract`
//! writes is submitted with sbatch, every array task runs under slurmd, every output is checked, and
//! a resubmission recomputes nothing.
//!
//! Ignored by default (it installs Debian's slurm-wlm and munge with apt-get when they are missing,
//! and starts daemons): run it with
//!   cargo test --release -p jukemir-cli --test cluster_slurm_live -- --ignored --nocapture
//! as root on Debian. Without root or apt-get it prints why and passes without testing anything.
//! munged, slurmctld and slurmd run in the foreground as children of the test, with every file
//! (key, socket, state, spool, logs, pid files) in a temporary folder and their own ports, and are
//! shut down at the end (killed by process id if they do not stop).

use ndarray::Array1;
use ndarray_npy::ReadNpyExt;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

const PROGRAMS: [&str; 8] = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo"];

/// Install slurm-wlm and munge when missing; `Err` says why the test cannot run here.
fn ensure_slurm() -> Result<(), String> {
    if PROGRAMS.iter().all(|p| have(p)) {
        return Ok(());
    }
    if !is_root() || !have("apt-get") {
        return Err(format!(
            "Slurm and munge are not installed ({} missing) and cannot be installed here: this needs root and \
             apt-get (Debian's slurm-wlm and munge)",
            PROGRAMS.iter().filter(|p| !have(p)).copied().collect::<Vec<_>>().join(", ")
        ));
    }
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends", "slurm-wlm", "munge"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .expect("apt-get runs")
    };
    eprintln!("installing slurm-wlm and munge with apt-get …");
    let mut out = install();
    if !out.status.success() {
        let update = Command::new("apt-get").args(["update", "-q"]).output().expect("apt-get runs");
        assert!(update.status.success(), "apt-get update failed:\n{}", text(&update));
        out = install();
    }
    assert!(out.status.success(), "apt-get install slurm-wlm munge failed:\n{}", text(&out));
    let missing: Vec<_> = PROGRAMS.iter().filter(|p| !have(p)).collect();
    assert!(missing.is_empty(), "still missing after the install: {missing:?}");
    Ok(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The daemons, stopped (then killed by id) when dropped.
struct Daemons {
    children: Vec<(&'static str, Child)>,
    conf: PathBuf,
}

impl Daemons {
    fn start(&mut self, name: &'static str, command: &mut Command, log: &Path) {
        let log = std::fs::File::create(log).unwrap();
        let child = command
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.children.push((name, child));
    }

    /// Panic with the daemons' logs if one of them has exited.
    fn check_alive(&mut self, logs: &Path) {
        for (name, child) in &mut self.children {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{name} exited ({status}); logs:\n{}", read_logs(logs));
            }
        }
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        let _ = Command::new("scontrol").arg("shutdown").env("SLURM_CONF", &self.conf).output();
        let deadline = Instant::now() + Duration::from_secs(20);
        // Slurm's daemons stop on `scontrol shutdown`; munged (last) is stopped by its id.
        for (name, child) in self.children.iter_mut().rev() {
            if *name == "munged" {
                let _ = child.kill();
            }
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            if child.try_wait().ok().flatten().is_none() {
                eprintln!("{name} did not stop; killing it (pid {})", child.id());
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

fn read_logs(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "log") {
            let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let tail: Vec<&str> = body.lines().rev().take(40).collect();
            all += &format!("--- {}\n", entry.path().display());
            for line in tail.iter().rev() {
                all += line;
                all.push('\n');
            }
        }
    }
    all
}

fn slurm(conf: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).env("SLURM_CONF", conf).output().unwrap()
}

/// The node's line for slurm.conf, with its real CPUs and memory as slurmd detects them.
fn node_line() -> String {
    let out = Command::new("slurmd").arg("-C").output().unwrap();
    assert!(out.status.success(), "slurmd -C: {}", text(&out));
    let detected = String::from_utf8_lossy(&out.stdout).lines().next().unwrap().to_string();
    let fields: Vec<&str> = detected.split_whitespace().filter(|f| !f.starts_with("NodeName=")).collect();
    format!("NodeName=localhost NodeAddr=127.0.0.1 {} State=UNKNOWN", fields.join(" "))
}

fn write_conf(dir: &Path, socket: &Path, ctld_port: u16, slurmd_port: u16) -> PathBuf {
    let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
    for sub in ["state", "spool"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let conf = format!(
        "# A one-node test cluster written by crates/cli/tests/cluster_slurm_live.rs\n\
         ClusterName=jukemirtest\n\
         SlurmctldHost=localhost\n\
         SlurmctldPort={ctld_port}\n\
         SlurmdPort={slurmd_port}\n\
         SlurmUser=root\n\
         SlurmdUser=root\n\
         AuthType=auth/munge\n\
         AuthInfo=socket={socket}\n\
         CredType=cred/munge\n\
         StateSaveLocation={state}\n\
         SlurmdSpoolDir={spool}\n\
         SlurmctldPidFile={ctld_pid}\n\
         SlurmdPidFile={slurmd_pid}\n\
         SlurmctldLogFile={ctld_log}\n\
         SlurmdLogFile={slurmd_log}\n\
         ProctrackType=proctrack/linuxproc\n\
         TaskPlugin=task/none\n\
         SelectType=select/cons_tres\n\
         SelectTypeParameters=CR_CPU_Memory\n\
         SchedulerType=sched/backfill\n\
         MpiDefault=none\n\
         ReturnToService=2\n\
         AccountingStorageType=accounting_storage/none\n\
         JobAcctGatherType=jobacct_gather/none\n\
         JobCompType=jobcomp/none\n\
         MinJobAge=600\n\
         {node}\n\
         PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
        socket = socket.display(),
        state = d("state"),
        spool = d("spool"),
        ctld_pid = d("slurmctld.pid"),
        slurmd_pid = d("slurmd.pid"),
        ctld_log = d("slurmctld.log"),
        slurmd_log = d("slurmd.log"),
        node = node_line(),
    );
    let path = dir.join("slurm.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

fn wait_until(what: &str, timeout: Duration, daemons: &mut Daemons, logs: &Path, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        daemons.check_alive(logs);
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}; logs:\n{}",
            read_logs(logs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Submit the script, wait for every array task to finish, and check that each completed with
/// status 0. Returns the job id.
fn submit_and_wait(conf: &Path, script: &Path, tasks: usize, daemons: &mut Daemons, logs: &Path) -> String {
    let out = Command::new("sbatch").arg("--parsable").arg(script).env("SLURM_CONF", conf).output().unwrap();
    assert!(out.status.success(), "sbatch: {}", text(&out));
    let job = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap().to_string();
    eprintln!("submitted job array {job}");
    wait_until(&format!("job {job}"), Duration::from_secs(900), daemons, logs, || {
        let q = slurm(conf, "squeue", &["-h", "-j", &job, "-o", "%i %T"]);
        q.status.success() && String::from_utf8_lossy(&q.stdout).trim().is_empty()
    });
    let show = slurm(conf, "scontrol", &["-o", "show", "job", &job]);
    assert!(show.status.success(), "scontrol show job: {}", text(&show));
    let lines: Vec<String> = String::from_utf8_lossy(&show.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), tasks, "one record per array task:\n{}", lines.join("\n"));
    for line in &lines {
        assert!(
            line.contains("JobState=COMPLETED") && line.contains("ExitCode=0:0"),
            "an array task did not complete:\n{line}\nlogs:\n{}",
            read_logs(logs)
        );
    }
    job
}

fn mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().modified().unwrap()))
        .collect()
}

/// Audio to extract from: the real clips of ../shared/data/music when present, else synthetic WAVs.
fn gather_clips(dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let shared = jukemir_test_support::test_file("data/music");
    let mut stems = Vec::new();
    let mut stack = vec![shared];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| ["wav", "mp3", "ogg", "flac"].contains(&e.to_str().unwrap())) {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
                stems.push(path.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    if stems.len() < 9 {
        panic!("expected the real clips of ../shared/data/music (found {})", stems.len());
    }
    stems.sort();
    stems
}

#[test]
#[ignore = "installs Slurm and munge and runs a one-node cluster; run with --ignored as root"]
fn sbatch_runs_the_extract_array_and_a_resubmission_recomputes_nothing() {
    let started = Instant::now();
    if let Err(why) = ensure_slurm() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let installed = started.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let logs = root.join("daemons");
    std::fs::create_dir_all(&logs).unwrap();

    // munge: a fresh key and a private socket.
    let key = logs.join("munge.key");
    let out = Command::new("mungekey").arg("--create").arg(format!("--keyfile={}", key.display())).output().unwrap();
    assert!(out.status.success(), "mungekey: {}", text(&out));
    let socket = logs.join("munge.socket");
    let conf = write_conf(&logs, &socket, free_port(), free_port());
    let mut daemons = Daemons { children: vec![], conf: conf.clone() };
    daemons.start(
        "munged",
        Command::new("munged")
            .arg("--foreground")
            .arg("--force")
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--key-file={}", key.display()))
            .arg(format!("--pid-file={}", logs.join("munged.pid").display()))
            .arg(format!("--seed-file={}", logs.join("munged.seed").display()))
            .arg(format!("--log-file={}", logs.join("munged.log").display())),
        &logs.join("munged.out.log"),
    );
    wait_until("munged's socket", Duration::from_secs(30), &mut daemons, &logs, || socket.exists());
    daemons.start("slurmctld", Command::new("slurmctld").args(["-D", "-i"]), &logs.join("slurmctld.out.log"));
    daemons.start("slurmd", Command::new("slurmd").args(["-D", "-N", "localhost"]), &logs.join("slurmd.out.log"));
    wait_until("the node to be idle", Duration::from_secs(120), &mut daemons, &logs, || {
        let out = slurm(&conf, "sinfo", &["-h", "-N", "-o", "%T"]);
        String::from_utf8_lossy(&out.stdout).trim() == "idle"
    });
    let cluster_up = started.elapsed();
    eprintln!("cluster up after {:.1} s ({:.1} s installing)", cluster_up.as_secs_f64(), installed.as_secs_f64());

    // The job: chroma over real clips, 4 per task.
    let input = root.join("clips");
    let output = root.join("chroma");
    let stems = gather_clips(&input);
    let batch = 4;
    let tasks = stems.len().div_ceil(batch);
    assert!(tasks >= 3);
    let script = root.join("chroma.sbatch");
    let job_logs = root.join("job-logs");
    let out = Command::new(env!("CARGO_BIN_EXE_jukemir"))
        .args(["cluster", "slurm", "extract", "chroma"])
        .args([&input, &output])
        .args(["--batch-size", &batch.to_string(), "--cpus", "1", "--mem", "512M", "--time", "00:20:00"])
        .args(["--partition", "debug", "--log-dir"])
        .arg(&job_logs)
        .arg("-o")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(body.contains(&format!("#SBATCH --array=0-{}\n", tasks - 1)), "{body}");

    let first = Instant::now();
    let job = submit_and_wait(&conf, &script, tasks, &mut daemons, &logs);
    let first_run = first.elapsed();
    let mut expected: Vec<String> = stems.iter().map(|s| format!("{s}.npy")).collect();
    expected.sort();
    let written = mtimes(&output);
    assert_eq!(written.keys().cloned().collect::<Vec<_>>(), expected, "one .npy per clip, nothing else");
    for name in written.keys() {
        let v = Array1::<f32>::read_npy(std::fs::File::open(output.join(name)).unwrap()).unwrap();
        assert_eq!(v.len(), 72, "{name}");
        assert!(v.iter().all(|x| x.is_finite()), "{name}");
    }
    for task in 0..tasks {
        let log = std::fs::read_to_string(job_logs.join(format!("{job}_{task}.out"))).unwrap();
        let n = batch.min(stems.len() - task * batch);
        assert!(log.contains(&format!("{n} written, 0 skipped")) && log.contains(", 0 failed;"), "task {task}:\n{log}");
    }

    // Resubmitted: every task finds its outputs done and rewrites nothing.
    std::thread::sleep(Duration::from_millis(1100));
    let second = Instant::now();
    let again = submit_and_wait(&conf, &script, tasks, &mut daemons, &logs);
    let second_run = second.elapsed();
    assert_eq!(mtimes(&output), written, "a resubmission must not rewrite any output");
    for task in 0..tasks {
        let log = std::fs::read_to_string(job_logs.join(format!("{again}_{task}.out"))).unwrap();
        let n = batch.min(stems.len() - task * batch);
        assert!(log.contains(&format!("0 written, {n} skipped")) && log.contains(", 0 failed;"), "task {task}:\n{log}");
    }
    drop(daemons);
    eprintln!(
        "Slurm test: {} clips, {tasks} array tasks; setup {:.1} s (install {:.1} s), first run {:.1} s, \
         resubmission {:.1} s, total {:.1} s",
        stems.len(),
        cluster_up.as_secs_f64(),
        installed.as_secs_f64(),
        first_run.as_secs_f64(),
        second_run.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
