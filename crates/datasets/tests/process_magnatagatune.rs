//! MagnaTagATune against the reference's own metadata. The real CSVs are not here, but that
//! metadata carries every clip's whole clip-info row (`extra`) and its tags in column order
//! (`y_all`), so both CSVs are rebuilt from it in the original tab-separated, quoted format.

use jukemir_datasets::process::magnatagatune::{MagnaTagATune, CORRUPT_UIDS};
use jukemir_datasets::process::meta_json::read_meta_json;
use jukemir_datasets::process::run::{process_dataset, Silent};
use jukemir_datasets::process::{DatasetProcessor, DecodedDuration, ProcessContext};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
mod common;
use common::{shared, Assets};

/// clip_info_final.csv's columns, in the original order.
const CLIP_COLUMNS: [&str; 10] = [
    "clip_id",
    "track_number",
    "title",
    "artist",
    "album",
    "url",
    "segmentStart",
    "segmentEnd",
    "original_url",
    "mp3_path",
];

fn reference() -> Map<String, Value> {
    match read_meta_json(&shared("reference/jukemir/metadata/magnatagatune.json.gz")).unwrap() {
        Value::Object(map) => map,
        other => panic!("reference is not an object: {other}"),
    }
}

fn y_all(meta: &Value) -> Vec<&str> {
    meta["y_all"].as_array().map(|tags| tags.iter().map(|t| t.as_str().unwrap()).collect()).unwrap_or_default()
}

/// An annotation column order under which every clip's `y_all` is in column order: a topological
/// order of "a came before b in some clip", ties broken by first appearance.
fn tag_columns(reference: &Map<String, Value>) -> Vec<String> {
    let mut order: Vec<&str> = Vec::new();
    let mut edges: HashSet<(&str, &str)> = HashSet::new();
    for meta in reference.values() {
        let tags = y_all(meta);
        for tag in &tags {
            if !order.contains(tag) {
                order.push(tag);
            }
        }
        edges.extend(tags.windows(2).map(|w| (w[0], w[1])));
    }
    let mut columns = Vec::new();
    while !order.is_empty() {
        let next = order
            .iter()
            .position(|t| !edges.iter().any(|(a, b)| b == t && order.contains(a)))
            .expect("the clips' tag orders contradict each other");
        columns.push(order.remove(next).to_string());
    }
    columns
}

fn quoted(field: &str) -> String {
    format!("\"{}\"", field.replace('"', "\"\""))
}

/// Write clip_info_final.csv and annotations_final.csv for the clips `keep` accepts, in clip-id
/// order; clips without `y_all` get no annotation row, as in the original.
fn write_csvs(reference: &Map<String, Value>, dir: &Path, keep: impl Fn(&str) -> bool) -> Assets<String> {
    let columns = tag_columns(reference);
    let clip_info = dir.join("clip_info_final.csv");
    let annotations = dir.join("annotations_final.csv");
    let mut info = std::io::BufWriter::new(std::fs::File::create(&clip_info).unwrap());
    let mut tags = std::io::BufWriter::new(std::fs::File::create(&annotations).unwrap());
    // Different line endings in the two files: the reader must not care (universal newlines).
    let line = |fields: Vec<String>, end: &str| fields.join("\t") + end;
    write!(info, "{}", line(CLIP_COLUMNS.iter().map(|c| quoted(c)).collect(), "\r\n")).unwrap();
    let header = ["clip_id"].into_iter().chain(columns.iter().map(String::as_str)).chain(["mp3_path"]);
    write!(tags, "{}", line(header.map(quoted).collect(), "\n")).unwrap();
    for (uid, meta) in reference.iter().filter(|(uid, _)| keep(uid)) {
        let extra = &meta["extra"];
        let field = |c: &str| extra[c].as_str().unwrap_or_else(|| panic!("{uid} has no {c}"));
        write!(info, "{}", line(CLIP_COLUMNS.iter().map(|c| quoted(field(c))).collect(), "\r\n")).unwrap();
        if meta["y_all"].is_array() {
            let clip_tags: HashSet<&str> = y_all(meta).into_iter().collect();
            let flags = columns.iter().map(|t| quoted(if clip_tags.contains(t.as_str()) { "1" } else { "0" }));
            let row = [quoted(field("clip_id"))].into_iter().chain(flags).chain([quoted(field("mp3_path"))]);
            write!(tags, "{}", line(row.collect(), "\n")).unwrap();
        }
    }
    info.flush().unwrap();
    tags.flush().unwrap();
    Assets(HashMap::from([
        ("MAGNATAGATUNE_CLIP_METADATA".into(), clip_info),
        ("MAGNATAGATUNE_ANNOTATIONS".into(), annotations),
    ]))
}

/// A zip of `members`, stored as three byte-split parts like `mp3.zip.001..003`.
fn write_split_zip(dir: &Path, members: &[(String, Vec<u8>)], assets: &mut Assets<String>) {
    let mut whole = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut whole));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in members {
            zip.start_file(name.as_str(), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    let cuts = [0, whole.len() / 3, whole.len() * 2 / 3, whole.len()];
    for i in 0..3 {
        let path = dir.join(format!("mp3.zip.{:03}", i + 1));
        std::fs::write(&path, &whole[cuts[i]..cuts[i + 1]]).unwrap();
        assets.0.insert(format!("MAGNATAGATUNE_MP3_{:03}", i + 1), path);
    }
}

fn without_clip_duration(meta: &Value) -> Value {
    let mut meta = meta.clone();
    meta["clip"].as_object_mut().unwrap().remove("clip_duration");
    meta
}

fn mp3_path(meta: &Value) -> &str {
    meta["extra"]["mp3_path"].as_str().unwrap()
}

#[test]
fn metadata_equals_the_reference_but_for_clip_durations() {
    let reference = reference();
    // Python's tie-breaking among equal counts cannot matter: the 50th and 51st tags differ.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    reference.values().flat_map(y_all).for_each(|t| *counts.entry(t).or_default() += 1);
    let mut ranked: Vec<usize> = counts.into_values().collect();
    ranked.sort_unstable_by(|a, b| b.cmp(a));
    assert!(ranked[49] > ranked[50], "{ranked:?}");

    let dir = tempfile::tempdir().unwrap();
    let assets = write_csvs(&reference, dir.path(), |_| true);
    let ctx = ProcessContext { assets: &assets, workdir: dir.path(), metadata_only: true, durations: &DecodedDuration };
    let report = process_dataset(&MagnaTagATune, &ctx, &dir.path().join("out"), &Silent).unwrap();
    let Value::Object(meta) = read_meta_json(&report.meta_path).unwrap() else { panic!("not an object") };
    assert_eq!(meta.len(), reference.len());
    for (uid, expected) in &reference {
        assert_eq!(meta.get(uid), Some(&without_clip_duration(expected)), "uid {uid}");
    }
}

#[test]
fn audio_is_taken_for_exactly_the_clips_the_reference_converted() {
    let reference = reference();
    let dir = tempfile::tempdir().unwrap();
    let mut assets = write_csvs(&reference, dir.path(), |_| true);
    // Every MP3 of the original archive, corrupt ones included, as one byte each.
    let members: Vec<(String, Vec<u8>)> =
        reference.values().map(mp3_path).filter(|p| !p.is_empty()).map(|p| (p.to_string(), vec![1])).collect();
    write_split_zip(dir.path(), &members, &mut assets);
    let work = dir.path().join("work");
    let ctx = ProcessContext { assets: &assets, workdir: &work, metadata_only: false, durations: &DecodedDuration };
    let examples = MagnaTagATune.examples(&ctx).unwrap();
    let with_audio: HashSet<&str> = examples.iter().filter(|e| e.audio.is_some()).map(|e| e.uid.as_str()).collect();
    let converted: HashSet<&str> =
        reference.iter().filter(|(_, m)| m["clip"].get("clip_duration").is_some()).map(|(u, _)| u.as_str()).collect();
    assert_eq!(with_audio, converted);
    for e in examples.iter().filter(|e| e.audio.is_some()) {
        let path = &e.audio.as_ref().unwrap().path;
        assert!(path.starts_with(&work) && path.ends_with(mp3_path(&e.meta)), "{}", path.display());
        assert_eq!(e.audio.as_ref().unwrap().clip, None);
    }
    // Only what is converted is unpacked: not the corrupt clips.
    for uid in CORRUPT_UIDS {
        let e = examples.iter().find(|e| e.uid == uid).unwrap();
        assert!(e.audio.is_none() && e.meta["split"].is_null());
        assert!(!work.join("magnatagatune").join(mp3_path(&e.meta)).exists(), "{uid} was unpacked");
    }
}

/// End to end through the split zip with real MP3s, on a few whole tracks: the corrupt clips,
/// a track without MP3s, and a real MTT clip (uid 37386) whose converted length the reference
/// recorded.
#[test]
fn split_zip_audio_end_to_end() {
    let reference = reference();
    let track = |uid: &str| reference[uid]["clip"]["audio_uid"].clone();
    let mut tracks: Vec<Value> = ["37386", "00215"].iter().chain(CORRUPT_UIDS.iter()).map(|u| track(u)).collect();
    // Enough further tracks for 50 distinct tags (the processor insists on a top 50).
    let mut tags: HashSet<&str> = HashSet::new();
    for meta in reference.values() {
        if tags.len() >= 60 {
            break;
        }
        if !tracks.contains(&meta["clip"]["audio_uid"]) {
            tracks.push(meta["clip"]["audio_uid"].clone());
        }
        tags.extend(y_all(meta));
    }
    let chosen: HashSet<&str> =
        reference.iter().filter(|(_, m)| tracks.contains(&m["clip"]["audio_uid"])).map(|(u, _)| u.as_str()).collect();

    let dir = tempfile::tempdir().unwrap();
    let mut assets = write_csvs(&reference, dir.path(), |uid| chosen.contains(uid));
    let real = std::fs::read(shared("data/music/musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3")).unwrap();
    let tiny = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio/mp3_mono.mp3")).unwrap();
    let members: Vec<(String, Vec<u8>)> = chosen
        .iter()
        .map(|uid| (*uid, mp3_path(&reference[*uid])))
        .filter(|(_, path)| !path.is_empty())
        .map(|(uid, path)| {
            // Undecodable, as the originals are: converting them would fail the run.
            let bytes = if CORRUPT_UIDS.contains(&uid) {
                b"not an mp3".to_vec()
            } else if uid == "37386" {
                real.clone()
            } else {
                tiny.clone()
            };
            (path.to_string(), bytes)
        })
        .collect();
    write_split_zip(dir.path(), &members, &mut assets);

    let out = dir.path().join("out");
    let work = dir.path().join("work");
    let ctx = ProcessContext { assets: &assets, workdir: &work, metadata_only: false, durations: &DecodedDuration };
    let report = process_dataset(&MagnaTagATune, &ctx, &out, &Silent).unwrap();
    let Value::Object(meta) = read_meta_json(&report.meta_path).unwrap() else { panic!("not an object") };
    assert_eq!(meta.len(), chosen.len());
    let mut wavs = 0;
    for (uid, got) in &meta {
        let expected = &reference[uid];
        // `y` depends on this subset's own top 50; all else must match the full dataset's.
        let strip = |m: &Value| {
            let mut m = without_clip_duration(m);
            m.as_object_mut().unwrap().remove("y");
            m
        };
        assert_eq!(strip(got), strip(expected), "uid {uid}");
        let wav = out.join("wav").join(format!("{uid}.wav"));
        let duration = got["clip"].get("clip_duration");
        assert_eq!(duration.is_some(), expected["clip"].get("clip_duration").is_some(), "uid {uid}");
        assert_eq!(wav.exists(), duration.is_some(), "uid {uid}");
        if duration.is_some() {
            wavs += 1;
            let spec = hound::WavReader::open(&wav).unwrap().spec();
            assert_eq!((spec.channels, spec.bits_per_sample), (1, 16));
        }
    }
    assert_eq!(report.wavs, wavs);
    assert!(wavs > 8, "{wavs}");
    for uid in CORRUPT_UIDS {
        assert!(meta[uid]["split"].is_null() && meta[uid]["clip"].get("clip_duration").is_none());
        assert!(!out.join("wav").join(format!("{uid}.wav")).exists());
    }
    assert_eq!(meta["37386"]["clip"]["clip_duration"], reference["37386"]["clip"]["clip_duration"]);

    // A clip whose MP3 the archive lacks is an error naming it, not a silent gap.
    let lacking = mp3_path(&reference["37386"]);
    let fewer: Vec<_> = members.into_iter().filter(|(name, _)| name != lacking).collect();
    write_split_zip(dir.path(), &fewer, &mut assets);
    let work = dir.path().join("work2");
    let ctx = ProcessContext { assets: &assets, workdir: &work, metadata_only: false, durations: &DecodedDuration };
    let err = MagnaTagATune.examples(&ctx).unwrap_err();
    assert!(format!("{err:#}").contains(lacking) && format!("{err:#}").contains("mp3.zip.001"), "{err:#}");
}
