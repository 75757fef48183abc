//! The embedded asset registry: the reference's facts, checked on load with the reference's rules.

use jukemir_datasets::assets::{check_file, Algorithm, Asset, Checksum, Registry};
use std::path::Path;

#[test]
fn embedded_registry_holds_every_reference_asset() {
    let registry = Registry::embedded();
    assert_eq!(registry.len(), 2132);
    let groups = registry.groups();
    assert_eq!(groups["GIANTSTEPS"], 2092);
    assert_eq!(groups["GTZAN"], 4);
    assert_eq!(groups["MAGNATAGATUNE"], 8);
    assert_eq!(groups["EMOMUSIC"], 3);
    assert_eq!(groups["PRECOMPUTED"], 24);
    assert_eq!(groups["DEBUG"], 1);
    assert!(registry.iter().all(|a| a.url.is_some()), "every reference asset has a URL");
}

#[test]
fn gtzan_assets_match_the_reference() {
    let registry = Registry::embedded();
    let gtzan = registry.get("GTZAN").unwrap();
    assert_eq!(gtzan.path_rel, "datasets/gtzan/genres.tar.gz");
    assert_eq!(gtzan.url.as_deref(), Some("http://opihi.cs.uvic.ca/sound/genres.tar.gz"));
    assert_eq!(gtzan.checksum.hex(), "24347e0223d2ba798e0a558c4c172d9d4a19c00bb7963fe055d183dadb4ef2c6");
    for tag in ["GTZAN_TRAIN", "GTZAN_VALID", "GTZAN_TEST"] {
        assert!(registry.get(tag).is_some(), "{tag}");
    }
    assert_eq!(
        registry.get("GTZAN_TRAIN").unwrap().path(Path::new("/cache")),
        Path::new("/cache/datasets/gtzan/train_filtered.txt")
    );
}

#[test]
fn shared_annotation_files_verify_against_the_registry() {
    // ../shared holds the exact GTZAN split lists the reference pins; their checksums must match.
    let shared = jukemir_test_support::test_file("data/annotations/gtzan");
    if !shared.is_dir() {
        eprintln!("skipped: {} is missing", shared.display());
        return;
    }
    for (tag, file) in [("GTZAN_TRAIN", "train"), ("GTZAN_VALID", "valid"), ("GTZAN_TEST", "test")] {
        let asset = Registry::embedded().get(tag).unwrap();
        let path = shared.join(format!("{file}_filtered.txt"));
        assert_eq!(check_file(&path, &asset.checksum).unwrap(), None, "{tag}");
    }
}

#[test]
fn prefix_selection_is_case_insensitive_and_trimmed() {
    let registry = Registry::embedded();
    let tags =
        |prefix: Option<&str>| -> Vec<String> { registry.select(prefix).iter().map(|a| a.tag.clone()).collect() };
    assert_eq!(tags(Some("GTZAN")), ["GTZAN", "GTZAN_TEST", "GTZAN_TRAIN", "GTZAN_VALID"]);
    assert_eq!(tags(Some("  gtzan_t ")), ["GTZAN_TEST", "GTZAN_TRAIN"]);
    assert_eq!(tags(Some("precomputed-gtzan")).len(), 6);
    assert_eq!(tags(None).len(), 2132);
    assert!(tags(Some("nothing")).is_empty());
}

#[test]
fn checksum_kind_follows_its_length() {
    assert_eq!(Checksum::parse(&"a".repeat(32)).unwrap().algorithm(), Algorithm::Md5);
    assert_eq!(Checksum::parse(&"b".repeat(40)).unwrap().algorithm(), Algorithm::Sha1);
    assert_eq!(Checksum::parse(&"C".repeat(64)).unwrap(), Checksum::Sha256("c".repeat(64)));
    assert!(Checksum::parse(&"a".repeat(33)).is_err());
    assert!(Checksum::parse(&"g".repeat(32)).is_err());
    let registry = Registry::embedded();
    assert_eq!(registry.get("GIANTSTEPS_MTG_KEY_299547").unwrap().checksum.algorithm(), Algorithm::Md5);
    assert_eq!(registry.get("DEBUG_MP3").unwrap().checksum.algorithm(), Algorithm::Sha256);
    let md5 = registry.iter().filter(|a| a.checksum.algorithm() == Algorithm::Md5).count();
    assert_eq!(md5, 2090);
}

#[test]
fn invalid_registries_are_refused_with_the_tag_named() {
    let sha = "0".repeat(64);
    let refuse = |json: String, needle: &str| {
        let err = Registry::from_json(&json).unwrap_err().to_string();
        assert!(err.contains(needle), "{needle:?} not in {err:?}");
    };
    refuse(format!(r#"{{"lower": {{"path_rel": "a", "checksum": "{sha}"}}}}"#), "uppercase");
    refuse(r#"{"A": {"path_rel": "a", "url": null}}"#.into(), "checksum is missing");
    refuse(r#"{"A": {"path_rel": "a", "checksum": "abc"}}"#.into(), "32 (md5)");
    refuse(format!(r#"{{"A": {{"path_rel": "/etc/a", "checksum": "{sha}"}}}}"#), "relative");
    refuse(format!(r#"{{"A": {{"path_rel": "x/../../a", "checksum": "{sha}"}}}}"#), "..");
    refuse(format!(r#"{{"A": {{"path_rel": "a", "url": "ftp://x/a", "checksum": "{sha}"}}}}"#), "http");
    refuse(
        format!(
            r#"{{"A": {{"path_rel": "d/a", "checksum": "{sha}"}}, "B": {{"path_rel": "d/./a ", "checksum": "{sha}"}}}}"#
        ),
        "share the path d/a",
    );
    let ok = Registry::from_json(&format!(r#"{{"A": {{"path_rel": " d//a ", "checksum": "{sha}"}}}}"#)).unwrap();
    assert_eq!(ok.get("A").unwrap().path_rel, "d/a");
    assert_eq!(ok.get("A").unwrap().url, None);
}

#[test]
fn assets_built_in_code_obey_the_same_rules() {
    let asset = Asset::new("X", "datasets/x.bin", Some("http://127.0.0.1:1/x.bin"), &"1".repeat(40)).unwrap();
    assert_eq!(asset.checksum.algorithm(), Algorithm::Sha1);
    assert!(Asset::new("x", "a", None, &"1".repeat(40)).is_err());
    assert!(Registry::new([asset.clone(), asset]).is_err(), "duplicates are refused");
}

#[test]
fn cache_root_follows_jukemir_cache_dir() {
    // The only test in this binary that touches the environment, so no other thread reads it.
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var(jukemir_datasets::assets::CACHE_ENV, dir.path());
    assert_eq!(jukemir_datasets::assets::cache_root(), dir.path());
    std::env::remove_var(jukemir_datasets::assets::CACHE_ENV);
    assert!(jukemir_datasets::assets::cache_root().ends_with(".jukemir"));
}

#[test]
fn weights_registry_pins_released_files_and_git_blobs() {
    let weights = Registry::weights();
    let wheel = weights.get("MUSICNN_WHEEL").unwrap();
    assert_eq!(wheel.checksum.algorithm(), Algorithm::Sha256);
    assert!(wheel.url.as_deref().unwrap().starts_with("https://files.pythonhosted.org/"));
    let big = weights.get("MUSICNN_BIG_DATA").unwrap();
    assert_eq!(big.checksum, Checksum::GitBlobSha1("8797b12a184750ac483685d294a715259922b1b4".into()));
    assert!(big.path_rel.starts_with("weights/"));
    assert_eq!(weights.select(Some("choi")).len(), 5);
    // Nothing is published for Jukebox's checkpoints but their URLs: they are verified by structure.
    let jukebox = weights.select(Some("jukebox"));
    assert_eq!(jukebox.len(), 2);
    for asset in jukebox {
        assert_eq!(asset.checksum.algorithm(), Algorithm::Structure);
        assert!(asset.url.as_deref().unwrap().starts_with("https://openaipublic.azureedge.net/jukebox/models/5b/"));
        assert!(asset.path_rel.starts_with("weights/jukebox/5b/"));
    }
    assert!(Checksum::parse("structure:jukebox-1b").unwrap_err().to_string().contains("no such published model"));
    assert!(Checksum::parse("git-blob-sha1:ABC").unwrap_err().to_string().contains("40"));
    // The shared copies are the published files.
    let shared = jukemir_test_support::test_file("weights");
    if shared.is_dir() {
        let index = shared.join("musicnn_big/.index");
        let expected = weights.get("MUSICNN_BIG_INDEX").unwrap();
        assert_eq!(check_file(&index, &expected.checksum).unwrap(), None);
        let wheel_file = shared.join("musicnn-0.1.0-py3-none-any.whl");
        assert_eq!(check_file(&wheel_file, &wheel.checksum).unwrap(), None);
    }
}
