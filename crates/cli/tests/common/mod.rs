//! What several CLI tests build: a GTZAN-ff-shaped probe task in a cache folder.

#![allow(dead_code)] // each test binary uses its own part

pub mod http;

use ndarray_npy::WriteNpyExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

/// The binary, with no scheduler index or proxy inherited from the environment (a proxy must not
/// intercept requests to the tests' loopback servers).
pub fn jukemir() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jukemir"));
    cmd.env_remove("SLURM_ARRAY_TASK_ID").env_remove("JOB_COMPLETION_INDEX");
    for proxy in ["ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
        cmd.env_remove(proxy);
    }
    cmd
}

/// Runs `cmd`, which must succeed.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

/// SIGKILL after `delay`: no chance to clean up, as when a scheduler or the OOM killer ends a job.
pub fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// The entries of `dir` whose names start with a dot (where temporaries live).
pub fn hidden_entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect()
}

pub const GENRES: [&str; 10] =
    ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];

/// `processed/gtzan_ff/meta.json` with `train`/`valid`/`test` examples (`train000`, …) labelled
/// round-robin with the ten genres, and `representations/gtzan_ff/synth/<uid>.npy` holding
/// `features(i, class)` for example `i` of its split.
pub fn write_gtzan_task(root: &Path, counts: [usize; 3], features: impl Fn(usize, usize) -> Vec<f32>) {
    let rep = root.join("representations/gtzan_ff/synth");
    std::fs::create_dir_all(&rep).unwrap();
    std::fs::create_dir_all(root.join("processed/gtzan_ff")).unwrap();
    let mut meta = serde_json::Map::new();
    for (split, count) in ["train", "valid", "test"].into_iter().zip(counts) {
        for i in 0..count {
            let class = i % 10;
            let uid = format!("{split}{i:03}");
            let file = std::fs::File::create(rep.join(format!("{uid}.npy"))).unwrap();
            ndarray::Array1::from(features(i, class)).write_npy(file).unwrap();
            meta.insert(uid, serde_json::json!({"split": split, "y": GENRES[class]}));
        }
    }
    std::fs::write(root.join("processed/gtzan_ff/meta.json"), serde_json::to_string(&meta).unwrap()).unwrap();
}

/// Lower-case hex sha256, as the asset registry writes checksums.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// genres.tar.gz with genres/<genre>/<genre>.000NN.wav, each a 0.1 s 16-bit mono WAV.
pub fn gtzan_archive(dir: &Path) -> Vec<u8> {
    let wav = dir.join("clip.wav");
    let samples: Vec<f32> = (0..2205).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
    jukemir_audio::write_wav_pcm16(&wav, &jukemir_audio::Audio::mono(samples, 22050)).unwrap();
    let wav = std::fs::read(&wav).unwrap();
    tar_gz(GENRES.iter().flat_map(|genre| {
        (0..100).map(|i| (format!("genres/{genre}/{genre}.{i:05}.wav"), wav.clone())).collect::<Vec<_>>()
    }))
}

/// A `.tar.gz` of regular files.
pub fn tar_gz(members: impl IntoIterator<Item = (String, Vec<u8>)>) -> Vec<u8> {
    jukemir_test_support::tar_gz(members)
}

/// A file of `../shared` (the read-only test data beside the checkout).
pub fn shared(rel: &str) -> PathBuf {
    jukemir_test_support::test_file(rel)
}

/// Serves `assets` (tag, path under the cache, bytes) on a loopback server and writes a registry
/// for them (sha256 checksums) to `dir/registry.json`, for `JUKEMIR_REGISTRY`.
pub fn serve_registry(dir: &Path, assets: Vec<(String, String, Vec<u8>)>) -> (http::FileServer, PathBuf) {
    let mut files = std::collections::BTreeMap::new();
    let mut entries = Vec::new();
    for (tag, path_rel, bytes) in assets {
        let url_path = format!("/{}", path_rel.replace('/', "_"));
        entries.push((tag, path_rel, sha256_hex(&bytes), url_path.clone()));
        files.insert(url_path, bytes);
    }
    let server = http::FileServer::start(files, None);
    let registry: serde_json::Map<String, serde_json::Value> = entries
        .into_iter()
        .map(|(tag, path_rel, checksum, url_path)| {
            (tag, serde_json::json!({"path_rel": path_rel, "url": server.url(&url_path), "checksum": checksum}))
        })
        .collect();
    let path = dir.join("registry.json");
    std::fs::write(&path, serde_json::Value::Object(registry).to_string()).unwrap();
    (server, path)
}
