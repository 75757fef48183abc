//! `jukemir assets gtzan -j 8 && jukemir datasets process gtzan_ff`, end to end, against an HTTP
//! server on 127.0.0.1 that serves a GTZAN archive in the original layout (tiny clips standing in
//! for the music) and the real split lists. The resulting meta.json must equal the reference's.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::http::FileServer;
use common::{sha256_hex, GENRES};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(rel)
}

/// genres.tar.gz with genres/<genre>/<genre>.000NN.wav, each a 0.1 s 16-bit mono WAV.
fn gtzan_archive(dir: &Path) -> Vec<u8> {
    let wav = dir.join("clip.wav");
    let samples: Vec<f32> = (0..2205).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
    jukemir_audio::write_wav_pcm16(&wav, &jukemir_audio::Audio::mono(samples, 22050)).unwrap();
    let wav = std::fs::read(&wav).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        for genre in GENRES {
            for i in 0..100 {
                let mut header = tar::Header::new_gnu();
                header.set_size(wav.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(&mut header, format!("genres/{genre}/{genre}.{i:05}.wav"), &wav[..]).unwrap();
            }
        }
        tar.finish().unwrap();
    }
    gz.finish().unwrap()
}

#[test]
fn assets_then_process_gtzan_ff_reproduces_the_reference_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = gtzan_archive(tmp.path());
    let mut files = vec![("/genres.tar.gz".to_string(), archive)];
    for split in ["train", "valid", "test"] {
        let bytes = std::fs::read(shared(&format!("data/annotations/gtzan/{split}_filtered.txt"))).unwrap();
        files.push((format!("/{split}_filtered.txt"), bytes));
    }
    let registry: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(url_path, bytes)| {
            let tag = match url_path.as_str() {
                "/genres.tar.gz" => "GTZAN".to_string(),
                other => format!("GTZAN_{}", other[1..].split('_').next().unwrap().to_uppercase()),
            };
            let value = serde_json::json!({
                "path_rel": format!("datasets/gtzan{url_path}"),
                "url": "",
                "checksum": sha256_hex(bytes),
            });
            (tag, value)
        })
        .collect();
    let server = FileServer::start(files.into_iter().collect::<BTreeMap<_, _>>(), None);
    let mut registry = serde_json::Value::Object(registry);
    for (_, asset) in registry.as_object_mut().unwrap().iter_mut() {
        let name = asset["path_rel"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        asset["url"] = server.url(&format!("/{name}")).into();
    }
    let registry_path = tmp.path().join("registry.json");
    std::fs::write(&registry_path, registry.to_string()).unwrap();
    let cache = tmp.path().join("cache");

    let jukemir = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_jukemir"))
            .args(args)
            .env("JUKEMIR_REGISTRY", &registry_path)
            .env("JUKEMIR_CACHE_DIR", &cache)
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "jukemir {args:?} failed:\n{text}");
        text
    };
    jukemir(&["assets", "gtzan", "-j", "8"]);
    assert!(cache.join("datasets/gtzan/genres.tar.gz").is_file());
    jukemir(&["datasets", "process", "gtzan_ff"]);

    let processed = cache.join("processed/gtzan_ff");
    let ours = jukemir_datasets::process::meta_json::read_meta_json(&processed.join("meta.json")).unwrap();
    let reference =
        jukemir_datasets::process::meta_json::read_meta_json(&shared("reference/jukemir/metadata/gtzan_ff.json.gz"))
            .unwrap();
    assert_eq!(ours, reference);
    let wavs = std::fs::read_dir(processed.join("wav")).unwrap().count();
    assert_eq!(wavs, 930);

    // Running both again changes nothing and downloads nothing.
    let again = jukemir(&["assets", "gtzan"]);
    assert!(again.contains("4 ok, 0 downloaded"), "{again}");
    jukemir(&["datasets", "process", "gtzan_ff"]);
}
