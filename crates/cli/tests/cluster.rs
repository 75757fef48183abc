//! `jukemir cluster`: the Slurm scripts and Kubernetes manifests it writes are well-formed (the
//! manifests validate against the batch/v1 Job schema of Kubernetes v1.30, `fixtures/k8s/`), and
//! their tasks, run here as the scheduler would run them, process exactly the batch or config of
//! their index.

mod common;

use ndarray::Array1;
use ndarray_npy::ReadNpyExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn jukemir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jukemir")).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `count` short mono 16-bit WAVs (a different pitch each), named clip00.wav, clip01.wav, …
fn write_clips(dir: &Path, count: usize) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let rate = 22050u32;
    let samples = rate as usize * 3 / 2;
    (0..count)
        .map(|i| {
            let freq = 220.0 * 2f64.powf(i as f64 / 12.0);
            let mut bytes = Vec::with_capacity(44 + samples * 2);
            let data_len = (samples * 2) as u32;
            bytes.extend_from_slice(b"RIFF");
            bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
            bytes.extend_from_slice(b"WAVEfmt ");
            bytes.extend_from_slice(&16u32.to_le_bytes());
            bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
            bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
            bytes.extend_from_slice(&rate.to_le_bytes());
            bytes.extend_from_slice(&(rate * 2).to_le_bytes());
            bytes.extend_from_slice(&2u16.to_le_bytes());
            bytes.extend_from_slice(&16u16.to_le_bytes());
            bytes.extend_from_slice(b"data");
            bytes.extend_from_slice(&data_len.to_le_bytes());
            for n in 0..samples {
                let t = n as f64 / rate as f64;
                let v = (0.5 * (2.0 * std::f64::consts::PI * freq * t).sin() * 32767.0) as i16;
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            let name = format!("clip{i:02}");
            std::fs::write(dir.join(format!("{name}.wav")), bytes).unwrap();
            name
        })
        .collect()
}

/// The stems of the .npy files in `dir`, sorted.
fn outputs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".npy").map(str::to_string))
            .collect(),
        Err(_) => vec![],
    };
    names.sort();
    names
}

fn check_vector(path: &Path, dim: usize) {
    let v = Array1::<f32>::read_npy(std::fs::File::open(path).unwrap()).unwrap();
    assert_eq!(v.len(), dim, "{}", path.display());
    assert!(v.iter().all(|x| x.is_finite()), "{}", path.display());
}

// ---------------------------------------------------------------- Slurm

#[test]
fn slurm_extract_script_runs_one_batch_per_array_task() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let output = dir.path().join("out");
    let clips = write_clips(&input, 7);
    std::fs::write(input.join(".hidden.wav"), b"not audio").unwrap();
    let script = dir.path().join("chroma.sbatch");
    let logs = dir.path().join("logs");
    let out = jukemir(&[
        "cluster",
        "slurm",
        "extract",
        "chroma",
        s(&input),
        s(&output),
        "--batch-size",
        "3",
        "--cpus",
        "1",
        "--mem",
        "1G",
        "--partition",
        "debug",
        "--log-dir",
        s(&logs),
        "-o",
        s(&script),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 array tasks for 7 files in batches of 3"), "{}", text(&out));
    let body = std::fs::read_to_string(&script).unwrap();
    for line in [
        "#SBATCH --array=0-2\n",
        "#SBATCH --partition=debug\n",
        "#SBATCH --cpus-per-task=1\n",
        "#SBATCH --mem=1G\n",
        "#SBATCH --time=02:00:00\n",
    ] {
        assert!(body.contains(line), "{line:?} missing in\n{body}");
    }
    assert!(!body.contains("--gres"), "chroma needs no GPU:\n{body}");
    assert!(body.contains("Idempotent and resumable"), "{body}");
    assert!(body.contains(&format!("#SBATCH --output={}/%A_%a.out", s(&logs))), "{body}");
    assert!(logs.is_dir(), "the log folder is created for Slurm");

    let task = |id: Option<&str>| {
        let mut command = Command::new("bash");
        command.arg(&script).env_remove("SLURM_ARRAY_TASK_ID").env_remove("JOB_COMPLETION_INDEX");
        if let Some(id) = id {
            command.env("SLURM_ARRAY_TASK_ID", id);
        }
        command.output().unwrap()
    };
    let one = task(Some("1"));
    assert!(one.status.success(), "{}", text(&one));
    assert_eq!(outputs(&output), clips[3..6].to_vec(), "task 1 is files 3..6 of the sorted listing");
    let last = task(Some("2"));
    assert!(last.status.success(), "{}", text(&last));
    assert_eq!(outputs(&output), clips[3..7].to_vec());
    for name in &clips[3..7] {
        check_vector(&output.join(format!("{name}.npy")), 72);
    }
    let again = task(Some("1"));
    assert!(again.status.success() && text(&again).contains("3 skipped"), "{}", text(&again));

    let outside = task(Some("3"));
    assert_eq!(outside.status.code(), Some(2), "{}", text(&outside));
    assert!(text(&outside).contains("not a task of this array (0-2)"), "{}", text(&outside));
    let by_hand = task(None);
    assert!(!by_hand.status.success());
    assert!(text(&by_hand).contains("submit it with sbatch"), "{}", text(&by_hand));
}

#[test]
fn slurm_extract_defaults_follow_the_representation() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_clips(&input, 5);
    let cache = dir.path().join("cache");
    let script = |args: &[&str]| -> (String, String) {
        let path = dir.path().join("x.sbatch");
        let mut all = vec!["cluster", "slurm", "extract"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--cache-dir", s(&cache), "-o", s(&path)]);
        let out = jukemir(&all);
        assert!(out.status.success(), "{}", text(&out));
        (std::fs::read_to_string(&path).unwrap(), text(&out))
    };
    let (musicnn, _) = script(&["musicnn", s(&input), "out"]);
    assert!(musicnn.contains("#SBATCH --gres=gpu:1\n"), "{musicnn}");
    assert!(musicnn.contains("jukemir runs on CPUs: the GPU requested here is only reserved"), "{musicnn}");
    assert!(musicnn.contains("#SBATCH --cpus-per-task=4\n#SBATCH --mem=4G\n"), "{musicnn}");
    assert!(musicnn.contains("--batch-size 256 -j 4 --cache-dir"), "the weights come from the cache:\n{musicnn}");
    let (on_gpu, _) = script(&["jukebox", s(&input), "out", "--device", "cuda", "--compute", "bf16"]);
    assert!(on_gpu.contains("--device cuda --compute bf16") && on_gpu.contains("--gres=gpu:1"), "{on_gpu}");
    assert!(!on_gpu.contains("only reserved"), "{on_gpu}");
    let (cpu_only, _) = script(&["musicnn", s(&input), "out", "--gpus", "0", "--model", "MSD_musicnn"]);
    assert!(!cpu_only.contains("--gres"), "{cpu_only}");
    assert!(cpu_only.contains("--model MSD_musicnn"), "{cpu_only}");
    let (jukebox, _) = script(&["jukebox", s(&input), "out", "--stream-weights", "--layers", "12,36"]);
    assert!(jukebox.contains("#SBATCH --array=0-0\n"), "{jukebox}");
    assert!(jukebox.contains("#SBATCH --mem=3G\n") && jukebox.contains("#SBATCH --cpus-per-task=8\n"), "{jukebox}");
    assert!(jukebox.contains("--batch-size 8 -j 8 --layers 12,36 --stream-weights"), "{jukebox}");
    let (choi, warning) = script(&["choi", s(&input), "out", "--batch-size", "2"]);
    assert!(choi.contains("#SBATCH --array=0-2\n"), "{choi}");
    assert!(choi.contains("shuffled"), "{choi}");
    assert!(warning.contains("warning: choi's vectors depend on the other files of their batch"), "{warning}");
    let (_, quiet) = script(&["choi", s(&input), "out"]);
    assert!(!quiet.contains("warning"), "{quiet}");
}

#[test]
fn slurm_errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::create_dir(empty.join("sub")).unwrap();
    let o = dir.path().join("x.sbatch");
    let out = jukemir(&["cluster", "slurm", "extract", "chroma", s(&empty), "out", "-o", s(&o)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no input files") && text(&out).contains("not subfolders"), "{}", text(&out));
    let missing = dir.path().join("missing");
    let out = jukemir(&["cluster", "slurm", "extract", "chroma", s(&missing), "out", "-o", s(&o)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("cannot count the input files"), "{}", text(&out));
    let out = jukemir(&["cluster", "slurm", "extract", "chroma", s(&empty), "out", "--mem", "lots"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("write e.g. 4G"), "{}", text(&out));
    assert!(!o.exists());
}

#[test]
fn help_teaches_the_workflow_and_the_defaults() {
    let out = jukemir(&["cluster", "slurm", "extract", "--help"]);
    let help = text(&out);
    for needle in [
        "SLURM_ARRAY_TASK_ID",
        "jukebox",
        "--gpus 0",
        "Only jukebox with --device cuda",
        "1.3 GB",
        "resubmitting is safe",
    ] {
        assert!(help.contains(needle), "{needle:?} missing in\n{help}");
    }
    let out = jukemir(&["cluster", "k8s", "--help"]);
    assert!(text(&out).contains("JOB_COMPLETION_INDEX"), "{}", text(&out));
}

// ---------------------------------------------------------------- Kubernetes

/// The manifest parsed back with a YAML 1.2 parser, as JSON.
fn parse_yaml(body: &str) -> Value {
    use yaml_rust2::{Yaml, YamlLoader};
    fn convert(y: &Yaml) -> Value {
        match y {
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Integer(i) => Value::from(*i),
            Yaml::Real(r) => Value::from(r.parse::<f64>().unwrap()),
            Yaml::Boolean(b) => Value::Bool(*b),
            Yaml::Null => Value::Null,
            Yaml::Array(items) => Value::Array(items.iter().map(convert).collect()),
            Yaml::Hash(map) => Value::Object(
                map.iter().map(|(k, v)| (k.as_str().expect("string keys").to_string(), convert(v))).collect(),
            ),
            other => panic!("unexpected YAML node {other:?}"),
        }
    }
    let docs = YamlLoader::load_from_str(body).expect("the manifest is valid YAML");
    assert_eq!(docs.len(), 1, "one document");
    convert(&docs[0])
}

fn job_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/k8s/job-batch-v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the committed schema compiles")
}

fn assert_valid_job(job: &Value) {
    let validator = job_schema();
    let errors: Vec<String> = validator.iter_errors(job).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "not a valid batch/v1 Job: {errors:#?}\n{job:#}");
    // Rules of the Job API that the OpenAPI schema does not express.
    let spec = &job["spec"];
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(spec["completionMode"], "Indexed");
    let completions = spec["completions"].as_i64().expect("Indexed Jobs need completions");
    assert!((1..=100_000).contains(&completions));
    assert!(spec["parallelism"].as_i64().unwrap() <= completions);
    assert!(spec["backoffLimit"].as_i64().unwrap() >= 0);
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never", "Jobs need Never or OnFailure");
    let container = &spec["template"]["spec"]["containers"][0];
    let name = job["metadata"]["name"].as_str().unwrap();
    assert!(name.len() <= 63 && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    let mounts: Vec<&str> =
        container["volumeMounts"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    let volumes: Vec<&str> =
        spec["template"]["spec"]["volumes"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert!(mounts.iter().all(|m| volumes.contains(m)), "every mount names a volume");
    for resource in container["resources"]["limits"].as_object().unwrap().keys() {
        if resource.contains('/') {
            assert_eq!(container["resources"]["limits"][resource], container["resources"]["requests"][resource]);
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

/// Run the container's command as the kubelet would, with the manifest's environment and the index.
fn run_container(job: &Value, index: usize) -> Output {
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let mut argv = strings(&container["command"]);
    argv.extend(strings(&container["args"]));
    assert!(argv.iter().all(|a| !a.contains("$(") && !a.contains("$$")), "no Kubernetes expansions: {argv:?}");
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).env_remove("SLURM_ARRAY_TASK_ID").env("JOB_COMPLETION_INDEX", index.to_string());
    for var in container["env"].as_array().unwrap() {
        command.env(var["name"].as_str().unwrap(), var["value"].as_str().unwrap());
    }
    command.output().unwrap()
}

#[test]
fn k8s_extract_manifest_is_a_valid_indexed_job_whose_pods_select_their_batch() {
    let dir = tempfile::tempdir().unwrap();
    // The volume is this folder; mounting it at the same path lets its pods' commands run here.
    let root = dir.path().join("volume");
    let clips = write_clips(&root.join("processed/wav"), 8);
    let manifest = dir.path().join("job.yaml");
    let out = jukemir(&[
        "cluster",
        "k8s",
        "extract",
        "mfcc",
        "processed/wav",
        "representations/mfcc",
        "--batch-size",
        "3",
        "--cpus",
        "1",
        "--mem",
        "1536M",
        "--image",
        "registry.example.org/jukemir:0.1",
        "--host-path",
        s(&root),
        "--mount-path",
        s(&root),
        "--exe",
        env!("CARGO_BIN_EXE_jukemir"),
        "-o",
        s(&manifest),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let body = std::fs::read_to_string(&manifest).unwrap();
    assert!(body.starts_with("# Written by jukemir"), "{body}");
    let job = parse_yaml(&body);
    assert_valid_job(&job);
    let spec = &job["spec"];
    assert_eq!(spec["completions"], 3);
    assert_eq!(spec["parallelism"], 3);
    assert_eq!(job["metadata"]["name"], "jukemir-extract-mfcc");
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.example.org/jukemir:0.1");
    assert_eq!(container["resources"]["requests"]["cpu"], "1");
    assert_eq!(container["resources"]["requests"]["memory"], "1536Mi");
    assert_eq!(container["resources"]["limits"]["memory"], "1536Mi");
    assert!(container["resources"]["limits"].get("nvidia.com/gpu").is_none(), "mfcc needs no GPU");
    assert_eq!(pod["volumes"][0]["hostPath"]["path"], s(&root));
    assert_eq!(container["volumeMounts"][0]["mountPath"], s(&root));
    let args = strings(&container["args"]);
    assert_eq!(
        args[..7],
        [
            "extract",
            "mfcc",
            &format!("{}/processed/wav", s(&root)),
            &format!("{}/representations/mfcc", s(&root)),
            "--batch-size",
            "3",
            "-j"
        ]
    );

    let output = root.join("representations/mfcc");
    let pod1 = run_container(&job, 1);
    assert!(pod1.status.success(), "{}", text(&pod1));
    assert_eq!(outputs(&output), clips[3..6].to_vec(), "index 1 is files 3..6");
    for name in &clips[3..6] {
        check_vector(&output.join(format!("{name}.npy")), 120);
    }
    let pod2 = run_container(&job, 2);
    assert!(pod2.status.success(), "{}", text(&pod2));
    assert_eq!(outputs(&output), clips[3..8].to_vec());
    let past = run_container(&job, 3);
    assert!(!past.status.success() && text(&past).contains("past the end"), "{}", text(&past));
}

#[test]
fn k8s_manifest_with_a_claim_and_gpus_validates_and_errors_are_helpful() {
    let dir = tempfile::tempdir().unwrap();
    write_clips(&dir.path().join("wav"), 5);
    let manifest = dir.path().join("job.yaml");
    let base = [
        "cluster",
        "k8s",
        "extract",
        "musicnn",
        "/mnt/shared/wav",
        "out/musicnn",
        "--image",
        "jukemir:latest",
        "--mount-path",
        "/mnt/shared",
        "--local-root",
        s(dir.path()),
    ];
    let mut args = base.to_vec();
    args.extend(["--pvc", "jukemir-cache", "--namespace", "mir", "--parallelism", "4", "--batch-size", "2"]);
    args.extend(["--cache-dir", "cache", "--weights", "weights/musicnn-0.1.0-py3-none-any.whl", "-o", s(&manifest)]);
    let out = jukemir(&args);
    assert!(out.status.success(), "{}", text(&out));
    let job = parse_yaml(&std::fs::read_to_string(&manifest).unwrap());
    assert_valid_job(&job);
    assert_eq!(job["metadata"]["namespace"], "mir");
    let spec = &job["spec"];
    assert_eq!((spec["completions"].as_i64(), spec["parallelism"].as_i64()), (Some(3), Some(3)));
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "jukemir-cache");
    let container = &pod["containers"][0];
    assert_eq!(container["resources"]["limits"]["nvidia.com/gpu"], "1");
    assert_eq!(container["env"][0]["value"], "/mnt/shared/cache");
    let args = strings(&container["args"]);
    assert!(args.contains(&"/mnt/shared/weights/musicnn-0.1.0-py3-none-any.whl".to_string()), "{args:?}");
    assert_eq!(strings(&container["command"]), ["jukemir"]);

    // A field the Job API does not have is refused by the committed (strict) schema.
    let mut broken = job.clone();
    broken["spec"]["completionmode"] = Value::from("Indexed");
    assert!(!job_schema().is_valid(&broken), "the schema is strict");
    let mut broken = job.clone();
    broken["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = Value::Bool(true);
    assert!(!job_schema().is_valid(&broken), "quantities are checked");

    // Without the volume, without an image, with paths off the volume: errors that say what to do.
    let out = jukemir(&base);
    assert!(!out.status.success() && text(&out).contains("--pvc"), "{}", text(&out));
    let out =
        jukemir(&["cluster", "k8s", "extract", "chroma", "wav", "out", "--pvc", "x", "--local-root", s(dir.path())]);
    assert!(!out.status.success() && text(&out).contains("--image"), "{}", text(&out));
    let out = jukemir(&["cluster", "k8s", "extract", "chroma", "/elsewhere/wav", "out", "--image", "i", "--pvc", "x"]);
    assert!(!out.status.success() && text(&out).contains("not on the volume"), "{}", text(&out));
    let out = jukemir(&["cluster", "k8s", "extract", "chroma", "nowhere", "out", "--image", "i", "--pvc", "x"]);
    assert!(!out.status.success() && text(&out).contains("--num-inputs"), "{}", text(&out));
    let o = dir.path().join("n.yaml");
    let out = jukemir(&[
        "cluster",
        "k8s",
        "extract",
        "chroma",
        "nowhere",
        "out",
        "--image",
        "i",
        "--pvc",
        "x",
        "--num-inputs",
        "1000",
        "-o",
        s(&o),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(parse_yaml(&std::fs::read_to_string(&o).unwrap())["spec"]["completions"], 4);
}

/// A small separable gtzan_ff-shaped task in `root`'s cache layout.
fn write_task(root: &Path) {
    common::write_gtzan_task(root, [60, 20, 20], |i, class| {
        (0..10).map(|d| if d == class { 3.0 } else { 0.0 } + ((i * 7 + d * 13) % 11) as f32 / 11.0).collect()
    });
}

fn trained(grid_dir: &Path) -> Vec<PathBuf> {
    let mut done: Vec<PathBuf> = std::fs::read_dir(grid_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("metrics.json").is_file())
        .collect();
    done.sort();
    done
}

#[test]
fn grid_jobs_train_the_config_of_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("volume");
    write_task(&root);
    let manifest = dir.path().join("grid.yaml");
    let out = jukemir(&[
        "cluster",
        "k8s",
        "grid",
        "gtzan_ff",
        "synth",
        "--limit",
        "3",
        "--image",
        "jukemir:latest",
        "--host-path",
        s(&root),
        "--mount-path",
        s(&root),
        "--exe",
        env!("CARGO_BIN_EXE_jukemir"),
        "-o",
        s(&manifest),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let job = parse_yaml(&std::fs::read_to_string(&manifest).unwrap());
    assert_valid_job(&job);
    assert_eq!(job["metadata"]["name"], "jukemir-grid-gtzan-ff-synth");
    assert_eq!(job["spec"]["completions"], 3);
    let grid_dir = root.join("probes/gtzan_ff/synth");
    let configs: Vec<PathBuf> = std::fs::read_dir(&grid_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(configs.len(), 3);
    let script = strings(&job["spec"]["template"]["spec"]["containers"][0]["args"]).remove(0);
    let second = script.lines().find(|l| l.trim_start().starts_with("1) exec")).unwrap();
    let uid = second.rsplit('/').next().unwrap().trim_end_matches(" ;;").trim_end_matches(".json").to_string();

    let pod = run_container(&job, 1);
    assert!(pod.status.success(), "{}", text(&pod));
    assert_eq!(trained(&grid_dir), [grid_dir.join(&uid)], "index 1 trains the second config only");
    let again = run_container(&job, 1);
    assert!(again.status.success() && text(&again).contains("already trained"), "{}", text(&again));
    let outside = run_container(&job, 3);
    assert_eq!(outside.status.code(), Some(2), "{}", text(&outside));

    // The Slurm script for the same grid runs the same commands.
    let script = dir.path().join("grid.sbatch");
    let out = jukemir(&[
        "cluster",
        "slurm",
        "grid",
        "gtzan_ff",
        "synth",
        "--limit",
        "3",
        "--cache-dir",
        s(&root),
        "--partition",
        "cpu",
        "--mem",
        "2G",
        "-o",
        s(&script),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(
        body.contains("#SBATCH --array=0-2\n#SBATCH --partition=cpu\n#SBATCH --cpus-per-task=1\n#SBATCH --mem=2G\n"),
        "{body}"
    );
    assert!(body.contains(&format!("probe train --skip-done --cache-dir {}", s(&root))), "{body}");
    assert!(body.contains(&format!("{uid}.json ;;")), "{body}");
    let task = Command::new("bash").arg(&script).env("SLURM_ARRAY_TASK_ID", "1").output().unwrap();
    assert!(task.status.success() && text(&task).contains("already trained"), "{}", text(&task));
    assert!(body.contains("jukemir probe evaluate gtzan_ff synth"), "{body}");
}
