//! GTZAN against the reference's own `gtzan_ff` metadata, from an archive in the original layout
//! (1000 tiny `.au` clips) and the real split lists.

use jukemir_datasets::process::gtzan::Gtzan;
use jukemir_datasets::process::meta_json::read_meta_json;
use jukemir_datasets::process::run::{process_dataset, Silent};
use jukemir_datasets::process::{DatasetProcessor, DecodedDuration, ProcessContext};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
mod common;
use common::{shared, Assets};

const GENRES: [&str; 10] =
    ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];

/// A Sun `.au` header (big-endian: offset, size, 16-bit linear PCM, 22050 Hz, mono) and samples.
fn au_bytes(samples: &[i16]) -> Vec<u8> {
    let mut bytes = b".snd".to_vec();
    for word in [24u32, samples.len() as u32 * 2, 3, 22050, 1] {
        bytes.extend(word.to_be_bytes());
    }
    samples.iter().for_each(|s| bytes.extend(s.to_be_bytes()));
    bytes
}

/// `genres.tar.gz` as distributed: `genres/<genre>/<genre>.000NN.<ext>`, written in reverse
/// order so the processor has to sort.
fn write_genres_tar(path: &Path, ext: &str) {
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (g, genre) in GENRES.iter().enumerate().rev() {
        for n in (0..100).rev() {
            let data = au_bytes(&[g as i16 * 100, n as i16, -1000, 1000, 0, 7]);
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, format!("genres/{genre}/{genre}.{n:05}.{ext}"), data.as_slice()).unwrap();
        }
    }
    tar.into_inner().unwrap().finish().unwrap();
}

fn assets(archive: &Path) -> Assets {
    let annotations = shared("data/annotations/gtzan");
    Assets(HashMap::from([
        ("GTZAN", archive.to_path_buf()),
        ("GTZAN_TRAIN", annotations.join("train_filtered.txt")),
        ("GTZAN_VALID", annotations.join("valid_filtered.txt")),
        ("GTZAN_TEST", annotations.join("test_filtered.txt")),
    ]))
}

fn run(processor: &dyn DatasetProcessor, archive: &Path, out: &Path, metadata_only: bool) -> anyhow::Result<Value> {
    let work = tempfile::tempdir().unwrap();
    let assets = assets(archive);
    let ctx = ProcessContext { assets: &assets, workdir: work.path(), metadata_only, durations: &DecodedDuration };
    let report = process_dataset(processor, &ctx, out, &Silent)?;
    read_meta_json(&report.meta_path)
}

fn reference() -> Value {
    read_meta_json(&shared("reference/jukemir/metadata/gtzan_ff.json.gz")).unwrap()
}

#[test]
fn gtzan_ff_metadata_equals_the_reference_and_wav_members_give_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference();
    for ext in ["au", "wav"] {
        let archive = dir.path().join(format!("genres-{ext}.tar.gz"));
        write_genres_tar(&archive, ext);
        let meta = run(&Gtzan { fault_filtered: true }, &archive, &dir.path().join(ext), true).unwrap();
        assert_eq!(meta.as_object().unwrap().len(), 930);
        assert!(meta == reference, "{ext}: gtzan_ff meta.json differs from the reference");
        assert!(!dir.path().join(ext).join("wav").exists(), "metadata-only wrote audio");
    }
}

#[test]
fn gtzan_keeps_every_clip_in_sorted_genre_order() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("genres.tar.gz");
    write_genres_tar(&archive, "au");
    let work = tempfile::tempdir().unwrap();
    let assets = assets(&archive);
    let ctx =
        ProcessContext { assets: &assets, workdir: work.path(), metadata_only: true, durations: &DecodedDuration };
    let examples = Gtzan { fault_filtered: false }.examples(&ctx).unwrap();
    assert_eq!(examples.len(), 1000);
    let ids: Vec<&str> = examples.iter().map(|e| e.meta["extra"]["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = GENRES.iter().flat_map(|g| (0..100).map(move |n| format!("{g}.{n:05}"))).collect();
    assert_eq!(ids, expected);
    // The same entries as gtzan_ff without `split`, plus the 70 clips the filter drops.
    let reference = reference();
    for e in &examples {
        assert!(e.audio.is_none() && e.meta.get("split").is_none());
        if let Some(r) = reference.get(&e.uid) {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("split");
            assert_eq!(e.meta, r);
        }
    }
}

#[test]
fn gtzan_ff_with_audio_writes_mono_16_bit_wavs_and_skips_them_on_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("genres.tar.gz");
    write_genres_tar(&archive, "au");
    let out = dir.path().join("out");
    let meta = run(&Gtzan { fault_filtered: true }, &archive, &out, false).unwrap();
    assert!(meta == reference());
    let wavs = std::fs::read_dir(out.join("wav")).unwrap().count();
    assert_eq!(wavs, 930);
    for uid in meta.as_object().unwrap().keys() {
        let reader = hound::WavReader::open(out.join("wav").join(format!("{uid}.wav"))).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.bits_per_sample, spec.sample_rate, reader.len()), (1, 16, 22050, 6));
    }
    // A complete output is kept as it is: overwrite one and see a rerun leave it alone.
    let uid = meta.as_object().unwrap().keys().next().unwrap();
    let one = out.join("wav").join(format!("{uid}.wav"));
    jukemir_audio::write_wav_pcm16(&one, &jukemir_audio::Audio::mono(vec![0.5; 3], 8000)).unwrap();
    let before = std::fs::read(&one).unwrap();
    assert!(run(&Gtzan { fault_filtered: true }, &archive, &out, false).unwrap() == meta);
    assert_eq!(std::fs::read(&one).unwrap(), before);
}

#[test]
fn a_truncated_archive_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("genres.tar.gz");
    write_genres_tar(&archive, "au");
    let bytes = std::fs::read(&archive).unwrap();
    let truncated = dir.path().join("truncated-genres.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    for metadata_only in [true, false] {
        let out = dir.path().join(format!("out-{metadata_only}"));
        let err = run(&Gtzan { fault_filtered: true }, &truncated, &out, metadata_only).unwrap_err();
        assert!(format!("{err:#}").contains("truncated-genres.tar.gz"), "{err:#}");
        assert!(!out.join("meta.json").exists());
    }
}
