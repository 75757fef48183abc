//! `debug`: one clip labelled "guitar", converted like any other dataset's audio.

use jukemir_datasets::process::debug::Debug;
use jukemir_datasets::process::meta_json::read_meta_json;
use jukemir_datasets::process::run::{process_dataset, Silent};
use jukemir_datasets::process::{AssetSource, DatasetProcessor, DecodedDuration, ProcessContext};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Stands in for the librosa recording the registry names.
struct Mp3;

impl AssetSource for Mp3 {
    fn asset(&self, tag: &str) -> anyhow::Result<PathBuf> {
        anyhow::ensure!(tag == "DEBUG_MP3", "unexpected asset {tag}");
        Ok(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio/mp3_mono.mp3"))
    }
}

struct NoAssets;

impl AssetSource for NoAssets {
    fn asset(&self, tag: &str) -> anyhow::Result<PathBuf> {
        anyhow::bail!("metadata-only debug must not need {tag}")
    }
}

#[test]
fn debug_is_one_guitar_clip() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ProcessContext { assets: &Mp3, workdir: dir.path(), metadata_only: false, durations: &DecodedDuration };
    let report = process_dataset(&Debug, &ctx, &dir.path().join("out"), &Silent).unwrap();
    assert_eq!(report.wavs, 1);
    assert_eq!(read_meta_json(&report.meta_path).unwrap(), json!({ "debug": { "y": "guitar" } }));
    let spec = hound::WavReader::open(dir.path().join("out/wav/debug.wav")).unwrap().spec();
    assert_eq!((spec.channels, spec.bits_per_sample), (1, 16));

    let ctx =
        ProcessContext { assets: &NoAssets, workdir: dir.path(), metadata_only: true, durations: &DecodedDuration };
    let examples = Debug.examples(&ctx).unwrap();
    assert_eq!((examples.len(), examples[0].audio.is_none()), (1, true));
    assert_eq!(examples[0].meta, json!({ "y": "guitar" }));
}
