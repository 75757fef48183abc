//! EmoMusic against the reference's metadata. The annotation CSVs are not here, but the reference
//! keeps every (stripped) row of every CSV in `extra`, so annotations.tar.gz is rebuilt from it in
//! the original layout and processed; the result must equal the reference. The audio path is
//! proven on a small subset with a real MP3 and WAV stand-ins.

use jukemir_datasets::process::emomusic::Emomusic;
use jukemir_datasets::process::meta_json::read_meta_json;
use jukemir_datasets::process::run::{process_dataset, Silent};
use jukemir_datasets::process::{DecodedDuration, ProcessContext};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;
mod common;
use common::{assert_same, Assets};

const SONGS_INFO: [&str; 8] = [
    "song_id",
    "file_name",
    "Artist",
    "Song title",
    "start of the segment (min.sec)",
    "end of the segment (min.sec)",
    "Genre",
    "Mediaeval 2013 set",
];
const STATIC: [&str; 5] = ["song_id", "mean_arousal", "std_arousal", "mean_valence", "std_valence"];
const CONTINUOUS: [&str; 4] = ["valence_cont_average", "valence_cont_std", "arousal_cont_average", "arousal_cont_std"];

fn reference() -> Option<Map<String, Value>> {
    let path = jukemir_test_support::test_file("reference/jukemir/metadata/emomusic.json.gz");
    if !path.is_file() {
        eprintln!("skipped: {} is missing", path.display());
        return None;
    }
    match read_meta_json(&path).unwrap() {
        Value::Object(map) => Some(map),
        other => panic!("not an object: {other}"),
    }
}

/// One CSV field as a writer might have left it: padded (the reference strips), and quoted where
/// it has spaces (Python's csv unquotes).
fn field(value: &str) -> String {
    if value.contains([' ', ',', '"']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        format!("{value} ")
    }
}

/// `<stem>.csv` from the rows the reference stored for `songs` (in the given order).
fn csv(songs: &[&Value], stem: &str) -> String {
    let columns: Vec<String> = match stem {
        "songs_info" => SONGS_INFO.map(String::from).to_vec(),
        "static_annotations" => STATIC.map(String::from).to_vec(),
        _ => {
            let mut samples: Vec<String> =
                songs[0]["extra"][stem].as_object().unwrap().keys().filter(|k| *k != "song_id").cloned().collect();
            samples.sort_by_key(|k| k.trim_start_matches("sample_").trim_end_matches("ms").parse::<u32>().unwrap());
            std::iter::once("song_id".to_string()).chain(samples).collect()
        }
    };
    let mut text = columns.join(",") + "\r\n";
    for song in songs {
        let row = song["extra"][stem].as_object().unwrap();
        let mut keys: Vec<&String> = row.keys().collect();
        keys.sort();
        let mut expected: Vec<&String> = columns.iter().collect();
        expected.sort();
        assert_eq!(keys, expected, "the reference's {stem} columns");
        let fields: Vec<String> = columns.iter().map(|c| field(row[c].as_str().unwrap())).collect();
        text += &(fields.join(",") + "\r\n");
    }
    text
}

fn tar_gz(path: &Path, members: &[(String, Vec<u8>)]) {
    std::fs::write(path, jukemir_test_support::tar_gz(members.iter().map(|(n, b)| (n, b)))).unwrap();
}

/// annotations.tar.gz for `songs`, CSVs at the archive's root as the reference expects.
fn annotations(songs: &[&Value], path: &Path) {
    let stems = ["songs_info", "static_annotations"].into_iter().chain(CONTINUOUS);
    let members: Vec<(String, Vec<u8>)> = stems.map(|s| (format!("{s}.csv"), csv(songs, s).into_bytes())).collect();
    tar_gz(path, &members);
}

fn run(assets: &Assets, metadata_only: bool) -> anyhow::Result<(tempfile::TempDir, Map<String, Value>)> {
    let out = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let ctx = ProcessContext { assets, workdir: work.path(), metadata_only, durations: &DecodedDuration };
    let report = process_dataset(&Emomusic, &ctx, out.path(), &Silent)?;
    match read_meta_json(&report.meta_path)? {
        Value::Object(map) => Ok((out, map)),
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn metadata_from_the_rebuilt_annotations_equals_the_reference() {
    let Some(reference) = reference() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Zero-padded uids sort like the song ids, the CSVs' order.
    let songs: Vec<&Value> = reference.values().collect();
    annotations(&songs, &dir.path().join("annotations.tar.gz"));
    // No EMOMUSIC_CLIPS: metadata-only must not ask for it.
    let assets = Assets(HashMap::from([("EMOMUSIC_ANNOTATIONS", dir.path().join("annotations.tar.gz"))]));
    let (out, got) = run(&assets, true).unwrap();

    let mut want = reference.clone();
    for meta in want.values_mut() {
        // Measured from the converted audio, which metadata-only does not produce.
        meta["clip"].as_object_mut().unwrap().remove("clip_duration");
    }
    assert_eq!(got.len(), 744);
    let count = |split: &str| got.values().filter(|m| m["split"] == split).count();
    assert_eq!((count("train"), count("valid"), count("test")), (504, 115, 125));
    assert_same(&Value::Object(got), &Value::Object(want));
    assert!(!out.path().join("wav").exists());
}

fn wav(path: &Path, frames: u32) -> Vec<u8> {
    let spec =
        hound::WavSpec { channels: 2, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames * 2 {
        w.write_sample((i % 1000) as i16).unwrap();
    }
    w.finalize().unwrap();
    std::fs::read(path).unwrap()
}

/// Five songs (four development, one evaluation) with clips: a real MP3 and WAV stand-ins, or a
/// corrupt file for the song at `corrupt`.
fn subset(reference: &Map<String, Value>, dir: &Path, corrupt: Option<usize>) -> (Vec<String>, Assets) {
    let dev = reference.iter().filter(|(_, m)| m["split"] != "test").take(4);
    let eval = reference.iter().filter(|(_, m)| m["split"] == "test").take(1);
    let chosen: Vec<(&String, &Value)> = dev.chain(eval).collect();
    annotations(&chosen.iter().map(|(_, m)| *m).collect::<Vec<_>>(), &dir.join("annotations.tar.gz"));
    let mp3 = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio/mp3_mono.mp3")).unwrap();
    let clips: Vec<(String, Vec<u8>)> = chosen
        .iter()
        .enumerate()
        .map(|(i, (uid, _))| {
            let bytes = match i {
                _ if Some(i) == corrupt => b"ID3\x03\0\0\0\0\0\0 not audio".to_vec(),
                0 => mp3.clone(),
                _ => wav(&dir.join(format!("{i}.wav")), 4000 * i as u32),
            };
            (format!("clips_45seconds/{}.mp3", uid.trim_start_matches('0')), bytes)
        })
        .collect();
    tar_gz(&dir.join("clips.tar.gz"), &clips);
    let assets = Assets(HashMap::from([
        ("EMOMUSIC_ANNOTATIONS", dir.join("annotations.tar.gz")),
        ("EMOMUSIC_CLIPS", dir.join("clips.tar.gz")),
    ]));
    (chosen.into_iter().map(|(uid, _)| uid.clone()).collect(), assets)
}

#[test]
fn clips_are_converted_whole_and_their_durations_recorded() {
    let Some(reference) = reference() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (uids, assets) = subset(&reference, dir.path(), None);
    let (out, got) = run(&assets, false).unwrap();
    let mut sorted = uids.clone();
    sorted.sort();
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), sorted);
    for (i, uid) in uids.iter().enumerate() {
        let meta = &got[uid];
        let wav = out.path().join("wav").join(format!("{uid}.wav"));
        let reader = hound::WavReader::open(&wav).unwrap();
        assert_eq!(reader.spec().channels, 1);
        let seconds = reader.len() as f64 / reader.spec().sample_rate as f64;
        assert_eq!(meta["clip"]["clip_duration"], seconds, "{uid}");
        if i > 0 {
            assert_eq!(seconds, i as f64 * 0.5, "{uid}");
        }
        // Everything but the labels (standardised over this subset) is the reference's.
        let want = &reference[uid];
        assert_eq!(meta["extra"], want["extra"]);
        assert_eq!(meta["clip"]["clip_offset"], want["clip"]["clip_offset"]);
        assert_eq!(meta["clip"]["audio_uid"], want["clip"]["audio_uid"]);
        assert!(meta["y"].as_array().unwrap().iter().all(|v| v.as_f64().unwrap().is_finite()));
    }
}

#[test]
fn a_corrupt_clip_is_an_error_naming_it() {
    let Some(reference) = reference() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (uids, assets) = subset(&reference, dir.path(), Some(2));
    let err = format!("{:#}", run(&assets, false).unwrap_err());
    let name = format!("clips_45seconds/{}.mp3", uids[2].trim_start_matches('0'));
    assert!(err.contains(&name), "{err}");
}
