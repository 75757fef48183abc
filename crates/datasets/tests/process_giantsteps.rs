//! GiantSteps against the reference's `giantsteps_clips` metadata, from the real annotation zips in
//! ../shared. The MP3s are not here: their durations (ffprobe's, the one input we cannot recompute)
//! come from the reference metadata, and the audio path is proven on small stand-in WAVs.

use jukemir_datasets::process::giantsteps::GiantSteps;
use jukemir_datasets::process::meta_json::read_meta_json;
use jukemir_datasets::process::run::{process_dataset, Silent};
use jukemir_datasets::process::{AssetSource, AudioDuration, DecodedDuration, ProcessContext};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
mod common;
use common::assert_same;

const MTG_TOP: &str = "giantsteps-mtg-key-dataset-fd7b8c584f7bd6d720d170c325a6d42c9bf75a6b";
const KEY_TOP: &str = "giantsteps-key-dataset-c8cb8aad2cb53f165be51ea099d0dc75c64a844f";

fn shared() -> PathBuf {
    jukemir_test_support::test_data()
}

fn annotation_zip(name: &str) -> PathBuf {
    shared().join("data/annotations/giantsteps").join(name)
}

/// The reference's clips metadata, or `None` (test skipped) where ../shared is absent.
fn reference() -> Option<Map<String, Value>> {
    let path = shared().join("reference/jukemir/metadata/giantsteps_clips.json.gz");
    if !path.is_file() || !annotation_zip("mtg-key-annotations.zip").is_file() {
        eprintln!("skipped: {} or the GiantSteps annotation zips are missing", path.display());
        return None;
    }
    match read_meta_json(&path).unwrap() {
        Value::Object(map) => Some(map),
        other => panic!("not an object: {other}"),
    }
}

type Mp3Lookup = Box<dyn Fn(&str) -> Option<PathBuf> + Sync>;

/// Annotation tags to files; MP3 tags to whatever `mp3` says (absent: an error, so a test can
/// prove the MP3s are never asked for).
struct Assets {
    mtg: PathBuf,
    key: PathBuf,
    mp3: Mp3Lookup,
}

impl AssetSource for Assets {
    fn asset(&self, tag: &str) -> anyhow::Result<PathBuf> {
        match tag {
            "GIANTSTEPS_MTG_KEY_ANNOTATIONS" => Ok(self.mtg.clone()),
            "GIANTSTEPS_KEY_ANNOTATIONS" => Ok(self.key.clone()),
            _ => (self.mp3)(tag).ok_or_else(|| anyhow::anyhow!("the test has no asset {tag}")),
        }
    }
}

/// The reference's (ffprobe) duration of the track a dummy path `<tag>.mp3` stands for.
struct ReferenceDurations(HashMap<String, f64>);

impl AudioDuration for ReferenceDurations {
    fn duration(&self, path: &Path) -> anyhow::Result<f64> {
        let tag = path.file_stem().unwrap().to_str().unwrap();
        let did: u64 = tag.rsplit('_').next().unwrap().parse()?;
        let uid = format!("{did:07}");
        self.0.get(&uid).copied().ok_or_else(|| anyhow::anyhow!("the reference has no clips of track {uid}"))
    }
}

fn dummy_mp3(tag: &str) -> Option<PathBuf> {
    tag.starts_with("GIANTSTEPS_").then(|| PathBuf::from(format!("/nonexistent/{tag}.mp3")))
}

fn without_clip_duration(meta: &Map<String, Value>) -> Map<String, Value> {
    let mut meta = meta.clone();
    for m in meta.values_mut() {
        m["clip"].as_object_mut().unwrap().remove("clip_duration");
    }
    meta
}

fn run(
    processor: &GiantSteps,
    assets: &Assets,
    durations: &dyn AudioDuration,
    metadata_only: bool,
) -> anyhow::Result<(tempfile::TempDir, Map<String, Value>)> {
    let out = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let ctx = ProcessContext { assets, workdir: work.path(), metadata_only, durations };
    let report = process_dataset(processor, &ctx, out.path(), &Silent)?;
    match read_meta_json(&report.meta_path)? {
        Value::Object(map) => Ok((out, map)),
        other => panic!("not an object: {other}"),
    }
}

fn real_assets(mp3: Mp3Lookup) -> Assets {
    Assets { mtg: annotation_zip("mtg-key-annotations.zip"), key: annotation_zip("key-annotations.zip"), mp3 }
}

fn reference_durations(reference: &Map<String, Value>) -> ReferenceDurations {
    ReferenceDurations(
        reference
            .values()
            .map(|m| {
                (m["clip"]["audio_uid"].as_str().unwrap().to_string(), m["clip"]["audio_duration"].as_f64().unwrap())
            })
            .collect(),
    )
}

#[test]
fn clips_metadata_equals_the_reference() {
    let Some(reference) = reference() else { return };
    let (out, got) =
        run(&GiantSteps::CLIPS, &real_assets(Box::new(dummy_mp3)), &reference_durations(&reference), true).unwrap();
    assert_eq!(got.len(), 7035);
    assert_same(&Value::Object(got), &Value::Object(without_clip_duration(&reference)));
    assert!(!out.path().join("wav").exists(), "metadata-only converts nothing");
}

/// Per track, the reference's clip metadata without the clip.
fn reference_tracks(reference: &Map<String, Value>) -> BTreeMap<String, Value> {
    reference
        .values()
        .map(|m| {
            let mut m = m.clone();
            let clip = m.as_object_mut().unwrap().remove("clip").unwrap();
            (clip["audio_uid"].as_str().unwrap().to_string(), m)
        })
        .collect()
}

#[test]
fn tracks_metadata_equals_the_reference_without_clips_and_needs_no_audio() {
    let Some(reference) = reference() else { return };
    // No MP3 tag resolves and no duration is known: metadata-only must ask for neither.
    let (_out, got) = run(&GiantSteps::TRACKS, &real_assets(Box::new(|_| None)), &DecodedDuration, true).unwrap();
    let want: Map<String, Value> = reference_tracks(&reference).into_iter().collect();
    assert_eq!(got.len(), 1763);
    assert_same(&Value::Object(got), &Value::Object(want));
}

/// A copy of a real annotation zip holding only the tables and the files of `dids`.
fn mini_zip(source: &Path, top: &str, dids: &[&str], dest: &Path) {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(source).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(dest).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let name = file.name().unwrap().into_owned();
        let table = name.starts_with(&format!("{top}/annotations/")) && name.ends_with(".txt");
        if file.is_dir() || !(table || dids.iter().any(|d| name.contains(&format!("/{d}.LOFI.")))) {
            continue;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        out.start_file(name, options).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap();
}

/// A mono 8 kHz WAV whose samples count up, so a clip's first sample tells where it was cut.
fn ramp_wav(path: &Path, seconds: f64) {
    let spec =
        hound::WavSpec { channels: 1, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(seconds * 8000.0) as u32 {
        w.write_sample(ramp(i)).unwrap();
    }
    w.finalize().unwrap();
}

fn ramp(i: u32) -> i16 {
    (i / 16 % 30000) as i16
}

fn wav_samples(path: &Path) -> Vec<i16> {
    hound::WavReader::open(path).unwrap().samples().map(|s| s.unwrap()).collect()
}

/// The first train, valid and test tracks of the reference, and small zips holding only them.
struct Mini {
    dir: tempfile::TempDir,
    train: String,
    valid: String,
    test: String,
}

impl Mini {
    fn new(reference: &Map<String, Value>) -> Mini {
        let tracks = reference_tracks(reference);
        let first = |split: &str| tracks.iter().find(|(_, m)| m["split"] == split).unwrap().0.clone();
        let (train, valid, test) = (first("train"), first("valid"), first("test"));
        let dir = tempfile::tempdir().unwrap();
        let did = |uid: &String| uid.trim_start_matches('0').to_string();
        mini_zip(
            &annotation_zip("mtg-key-annotations.zip"),
            MTG_TOP,
            &[&did(&train), &did(&valid)],
            &dir.path().join("mtg.zip"),
        );
        mini_zip(&annotation_zip("key-annotations.zip"), KEY_TOP, &[&did(&test)], &dir.path().join("key.zip"));
        Mini { dir, train, valid, test }
    }

    /// Assets where track uid → `audio[uid]` (a file in the mini folder).
    fn assets(&self, audio: &[(&str, &str)]) -> Assets {
        let by_did: HashMap<String, PathBuf> = audio
            .iter()
            .map(|(uid, file)| (uid.trim_start_matches('0').to_string(), self.dir.path().join(file)))
            .collect();
        Assets {
            mtg: self.dir.path().join("mtg.zip"),
            key: self.dir.path().join("key.zip"),
            mp3: Box::new(move |tag| by_did.get(tag.rsplit('_').next().unwrap()).cloned()),
        }
    }
}

#[test]
fn clips_are_cut_at_30_second_offsets_and_their_durations_recorded() {
    let Some(reference) = reference() else { return };
    let mini = Mini::new(&reference);
    // 65 s: clips at 0 and 30 (60 is short); 29.5 s: none; exactly 30 s: one.
    ramp_wav(&mini.dir.path().join("65.wav"), 65.0);
    ramp_wav(&mini.dir.path().join("29.wav"), 29.5);
    ramp_wav(&mini.dir.path().join("30.wav"), 30.0);
    let assets = mini.assets(&[(&mini.train, "65.wav"), (&mini.valid, "29.wav"), (&mini.test, "30.wav")]);
    let (out, got) = run(&GiantSteps::CLIPS, &assets, &DecodedDuration, false).unwrap();

    let uids: Vec<&String> = got.keys().collect();
    let (t0, t1, e0) = (format!("{}-0", mini.train), format!("{}-1", mini.train), format!("{}-0", mini.test));
    assert_eq!(uids, [&t0, &t1, &e0]);
    let tracks = reference_tracks(&reference);
    for (uid, duration, offset) in [(&t0, 65.0, 0.0), (&t1, 65.0, 30.0), (&e0, 30.0, 0.0)] {
        let mut meta = got[uid].clone();
        let clip = meta.as_object_mut().unwrap().remove("clip").unwrap();
        assert_eq!(clip["audio_duration"], duration, "{uid}");
        assert_eq!(clip["clip_offset"], offset, "{uid}");
        assert_eq!(clip["clip_duration"], 30.0, "{uid}");
        assert_eq!(clip["audio_uid"].as_str(), uid.split('-').next());
        assert_same(&meta, &tracks[uid.split('-').next().unwrap()]);
        let samples = wav_samples(&out.path().join("wav").join(format!("{uid}.wav")));
        assert_eq!(samples.len(), 240_000, "{uid}");
        let start = (offset * 8000.0) as u32;
        assert_eq!((samples[0], samples[239_999]), (ramp(start), ramp(start + 239_999)), "{uid}");
    }
}

#[test]
fn tracks_convert_whole_and_a_corrupt_mp3_is_named() {
    let Some(reference) = reference() else { return };
    let mini = Mini::new(&reference);
    ramp_wav(&mini.dir.path().join("short.wav"), 1.5);
    std::fs::write(mini.dir.path().join("corrupt.mp3"), b"ID3\x03\0\0\0\0\0\0 not audio at all").unwrap();

    let good = mini.assets(&[(&mini.train, "short.wav"), (&mini.valid, "short.wav"), (&mini.test, "short.wav")]);
    let (out, got) = run(&GiantSteps::TRACKS, &good, &DecodedDuration, false).unwrap();
    assert_eq!(got.len(), 3);
    for uid in [&mini.train, &mini.valid, &mini.test] {
        assert!(got[uid].get("clip").is_none());
        assert_eq!(wav_samples(&out.path().join("wav").join(format!("{uid}.wav"))).len(), 12_000);
    }

    let bad = mini.assets(&[(&mini.train, "short.wav"), (&mini.valid, "corrupt.mp3"), (&mini.test, "short.wav")]);
    let err = format!("{:#}", run(&GiantSteps::TRACKS, &bad, &DecodedDuration, false).unwrap_err());
    assert!(err.contains("corrupt.mp3") && err.contains(&mini.valid), "{err}");
    // Measuring a clip source's duration fails first, naming it too.
    let err = format!("{:#}", run(&GiantSteps::CLIPS, &bad, &DecodedDuration, false).unwrap_err());
    assert!(err.contains("corrupt.mp3"), "{err}");
}
