//! MagnaTagATune (MTT) auto-tagging, as the reference's `iter_magnatagatune`: labels are each
//! clip's tags among the 50 most frequent, splits follow the MP3 folder (0–b train, c valid,
//! d–f test).

use super::pycompat::{dict_rows, py_float, py_int, read_text, Row};
use super::{AudioRef, DatasetProcessor, Example, ProcessContext};
use crate::archive::{open_zip, safe_member_path, unpack_zip, ArchiveError};
use anyhow::{bail, Context};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub struct MagnaTagATune;

/// Clips whose MP3s are corrupt in the original archive: kept in `meta.json` without audio or
/// split.
pub const CORRUPT_UIDS: [&str; 3] = ["35644", "55753", "57881"];

const MP3_PARTS: [&str; 3] = ["MAGNATAGATUNE_MP3_001", "MAGNATAGATUNE_MP3_002", "MAGNATAGATUNE_MP3_003"];

impl DatasetProcessor for MagnaTagATune {
    fn name(&self) -> &'static str {
        "magnatagatune"
    }

    fn examples(&self, ctx: &ProcessContext) -> anyhow::Result<Vec<Example>> {
        let clips = read_clip_info(&ctx.assets.asset("MAGNATAGATUNE_CLIP_METADATA")?)?;
        let tags = read_annotations(&ctx.assets.asset("MAGNATAGATUNE_ANNOTATIONS")?, &clips)?;
        let top_50 = top_50_tags(&tags)?;
        let mut examples = Vec::with_capacity(clips.rows.len());
        for (index, clip) in clips.rows.iter().enumerate() {
            let clip_tags = tags.by_uid.get(&clip.uid);
            let track = &clips.tracks[&clip.audio_uid];
            let audio_duration = track.iter().map(|&i| clips.rows[i].segment_end).fold(f64::NEG_INFINITY, f64::max);
            let clip_idx = track.iter().position(|&i| i == index).expect("every clip is in its track");
            let split = split_of(clip)?;
            let meta = json!({
                "split": split,
                "clip": {
                    "audio_uid": [clip.audio_uid.0, clip.audio_uid.1],
                    "audio_duration": audio_duration,
                    "clip_idx": clip_idx,
                    "clip_offset": clip.segment_start_f64,
                },
                "y": clip_tags.map(|t| t.iter().filter(|t| top_50.contains(t.as_str())).collect::<Vec<_>>()),
                "y_all": clip_tags,
                "extra": clip.row,
            });
            examples.push(Example { uid: clip.uid.clone(), meta, audio: None });
        }
        if !ctx.metadata_only {
            attach_audio(ctx, &clips, &mut examples)?;
        }
        Ok(examples)
    }
}

struct Clip {
    uid: String,
    /// The whole clip-info row, stored as the reference's `extra`.
    row: Map<String, Value>,
    audio_uid: (String, String),
    segment_start: i64,
    segment_start_f64: f64,
    segment_end: f64,
    mp3_path: String,
}

struct ClipInfo {
    rows: Vec<Clip>,
    by_uid: HashMap<String, usize>,
    /// (url, track number) → its clips' indices in `segmentStart` order.
    tracks: HashMap<(String, String), Vec<usize>>,
}

fn read_clip_info(path: &Path) -> anyhow::Result<ClipInfo> {
    let rows = read_tsv_dicts(path)?;
    let mut info = ClipInfo { rows: Vec::new(), by_uid: HashMap::new(), tracks: HashMap::new() };
    for (n, row) in rows.into_iter().enumerate() {
        let context = || format!("{} row {}", path.display(), n + 2);
        let field = |key: &str| field(&row, key).with_context(context);
        let uid = clip_uid(field("clip_id")?).with_context(context)?;
        let audio_uid = (field("url")?.trim().to_string(), field("track_number")?.trim().to_string());
        if audio_uid.0.is_empty() || audio_uid.1.is_empty() {
            bail!("{}: clip {uid} has no url or track number", context());
        }
        let start = field("segmentStart")?;
        let clip = Clip {
            segment_start: py_int(start).with_context(context)?,
            segment_start_f64: py_float(start).with_context(context)?,
            segment_end: py_float(field("segmentEnd")?).with_context(context)?,
            mp3_path: field("mp3_path")?.to_string(),
            row: row_object(&row),
            uid: uid.clone(),
            audio_uid: audio_uid.clone(),
        };
        if info.by_uid.insert(uid.clone(), info.rows.len()).is_some() {
            bail!("{}: clip {uid} appears twice", context());
        }
        info.tracks.entry(audio_uid).or_default().push(info.rows.len());
        info.rows.push(clip);
    }
    for track in info.tracks.values_mut() {
        // Stable, as Python's `sorted`: equal starts keep file order.
        track.sort_by_key(|&i| info.rows[i].segment_start);
    }
    Ok(info)
}

struct Tags {
    by_uid: HashMap<String, Vec<String>>,
    /// Tag counts in the order each tag was first counted (a `Counter`'s order).
    counts: Vec<(String, usize)>,
}

/// Each clip's tags (the columns holding "1", in column order) and how often each tag occurs.
fn read_annotations(path: &Path, clips: &ClipInfo) -> anyhow::Result<Tags> {
    let rows = read_tsv_dicts(path)?;
    let mut tags = Tags { by_uid: HashMap::new(), counts: Vec::new() };
    let mut count_index: HashMap<String, usize> = HashMap::new();
    for (n, row) in rows.iter().enumerate() {
        let context = || format!("{} row {}", path.display(), n + 2);
        let uid = clip_uid(field(row, "clip_id").with_context(context)?).with_context(context)?;
        let Some(&clip) = clips.by_uid.get(&uid) else {
            bail!("{}: clip {uid} is not in the clip metadata", context())
        };
        if clips.rows[clip].mp3_path != field(row, "mp3_path").with_context(context)? {
            bail!("{}: clip {uid}'s mp3_path differs from the clip metadata's", context());
        }
        let clip_tags: Vec<String> = row
            .iter()
            .filter(|(k, v)| *k != "clip_id" && *k != "mp3_path" && v.as_deref() == Some("1"))
            .map(|(k, _)| k.clone())
            .collect();
        for tag in &clip_tags {
            let i = *count_index.entry(tag.clone()).or_insert_with(|| {
                tags.counts.push((tag.clone(), 0));
                tags.counts.len() - 1
            });
            tags.counts[i].1 += 1;
        }
        tags.by_uid.insert(uid, clip_tags);
    }
    Ok(tags)
}

/// The 50 most frequent tags; ties keep first-counted order, as Python's stable sort does.
fn top_50_tags(tags: &Tags) -> anyhow::Result<HashSet<&str>> {
    let mut ranked: Vec<&(String, usize)> = tags.counts.iter().collect();
    ranked.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    if ranked.len() < 50 {
        bail!("the annotations hold only {} distinct tags; 50 are needed", ranked.len());
    }
    Ok(ranked[..50].iter().map(|(tag, _)| tag.as_str()).collect())
}

fn split_of(clip: &Clip) -> anyhow::Result<Option<&'static str>> {
    if CORRUPT_UIDS.contains(&clip.uid.as_str()) {
        return Ok(None);
    }
    let mp3 = clip.mp3_path.trim();
    if mp3.is_empty() {
        return Ok(None);
    }
    let folder = mp3.split('/').next().unwrap_or_default();
    Ok(Some(match folder {
        "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "a" | "b" => "train",
        "c" => "valid",
        "d" | "e" | "f" => "test",
        _ => bail!("clip {}: mp3_path {:?} is not in a folder 0-9 or a-f", clip.uid, clip.mp3_path),
    }))
}

/// Unpack only the MP3s that are used, from the three byte-split parts read in place.
fn attach_audio(ctx: &ProcessContext, clips: &ClipInfo, examples: &mut [Example]) -> anyhow::Result<()> {
    let parts = MP3_PARTS.iter().map(|tag| ctx.assets.asset(tag)).collect::<anyhow::Result<Vec<PathBuf>>>()?;
    // Clips without a split are exactly those the reference gives no audio.
    let mut wanted: Vec<(usize, PathBuf)> = Vec::new();
    for (i, (clip, example)) in clips.rows.iter().zip(examples.iter()).enumerate() {
        if example.meta["split"].is_null() {
            continue;
        }
        let rel = safe_member_path(&clip.mp3_path)
            .ok_or_else(|| ArchiveError::UnsafeMember { path: parts[0].clone(), member: clip.mp3_path.clone() })?;
        wanted.push((i, rel));
    }
    let wanted_set: HashSet<&PathBuf> = wanted.iter().map(|(_, rel)| rel).collect();
    let dest = ctx.workdir.join("magnatagatune");
    let mut zip = open_zip(&parts)?;
    unpack_zip(&mut zip, &parts[0], &dest, |name| safe_member_path(name).is_some_and(|p| wanted_set.contains(&p)))?;

    for (i, rel) in wanted {
        let path = dest.join(rel);
        // The reference insists on a non-empty file for every clip it converts.
        if std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) == 0 {
            let member = clips.rows[i].mp3_path.clone();
            return Err(ArchiveError::MissingMember { path: parts[0].clone(), member }.into());
        }
        examples[i].audio = Some(AudioRef { path, clip: None });
    }
    Ok(())
}

/// `str(int(clip_id)).zfill(5)`.
fn clip_uid(clip_id: &str) -> anyhow::Result<String> {
    let id = py_int(clip_id)?;
    Ok(if id < 0 { format!("-{:04}", id.unsigned_abs()) } else { format!("{id:05}") })
}

fn field<'a>(row: &'a Row, key: &str) -> anyhow::Result<&'a str> {
    match row.get(key) {
        Some(Some(v)) => Ok(v),
        Some(None) => bail!("the row is too short to have a {key:?} field"),
        None => bail!("there is no {key:?} column"),
    }
}

/// `dict(row)` as JSON; a short row's missing fields are `null`, as `DictReader` leaves them.
fn row_object(row: &Row) -> Map<String, Value> {
    row.iter().map(|(k, v)| (k.clone(), v.as_ref().map_or(Value::Null, |v| json!(v)))).collect()
}

/// `csv.DictReader(open(path), delimiter="\t")`: the non-empty rows after the header.
fn read_tsv_dicts(path: &Path) -> anyhow::Result<Vec<Row>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = read_text(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?;
    dict_rows(&text, '\t').with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_zero_padded() {
        assert_eq!(clip_uid(" 2").unwrap(), "00002");
        assert_eq!(clip_uid("58907").unwrap(), "58907");
        assert_eq!(clip_uid("-3").unwrap(), "-0003");
    }
}
