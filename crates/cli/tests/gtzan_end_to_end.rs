//! `jukemir assets gtzan -j 8 && jukemir datasets process gtzan_ff`, end to end, against an HTTP
//! server on 127.0.0.1 that serves a GTZAN archive in the original layout (tiny clips standing in
//! for the music) and the real split lists. The resulting meta.json must equal the reference's.

mod common;

use std::process::Command;

use common::{gtzan_archive, serve_registry, shared};

#[test]
fn assets_then_process_gtzan_ff_reproduces_the_reference_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = gtzan_archive(tmp.path());
    let mut assets = vec![("GTZAN".to_string(), "datasets/gtzan/genres.tar.gz".to_string(), archive)];
    for split in ["train", "valid", "test"] {
        let bytes = std::fs::read(shared(&format!("data/annotations/gtzan/{split}_filtered.txt"))).unwrap();
        assets.push((format!("GTZAN_{}", split.to_uppercase()), format!("datasets/gtzan/{split}_filtered.txt"), bytes));
    }
    let (_server, registry_path) = serve_registry(tmp.path(), assets);
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
