//! EmoMusic (Soleymani et al. 2013), as the reference's `iter_emomusic`: one 45-second clip per
//! song, labelled (arousal, valence) standardised with the train set's statistics, the development
//! set split 80/20 into train/valid by a hash of the artist.
//!
//! The Python-compatible text helpers GiantSteps also needs (`csv.DictReader`, `str.strip`, …) live
//! here too, in [`py`].

use super::pycompat::{dict_rows, py_float, py_int, py_space, py_strip, read_text, sha1_mod, zfill, Row};
use super::{AudioRef, DatasetProcessor, Example, ProcessContext};
use crate::archive::unpack_tar_gz;
use anyhow::{bail, ensure, Context};
use jukemir_audio::numpy::mean_std;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The annotation CSVs in the order the reference reads them; `songs_info` must come first
/// because it creates the entries the others attach to.
const STEMS: [&str; 6] = [
    "songs_info",
    "static_annotations",
    "valence_cont_average",
    "valence_cont_std",
    "arousal_cont_average",
    "arousal_cont_std",
];

pub struct Emomusic;

struct Song {
    id: i64,
    uid: String,
    split: &'static str,
    clip: Value,
    /// (mean arousal, mean valence), raw until standardised.
    y: Option<[f64; 2]>,
    extra: Map<String, Value>,
}

impl DatasetProcessor for Emomusic {
    fn name(&self) -> &'static str {
        "emomusic"
    }

    fn examples(&self, ctx: &ProcessContext) -> anyhow::Result<Vec<Example>> {
        let dir = ctx.workdir.join("emomusic");
        let annotations = ctx.assets.asset("EMOMUSIC_ANNOTATIONS")?;
        unpack_tar_gz(&annotations, &dir, |_| true)?;
        let mut songs = read_songs(&dir)?;
        standardise(&mut songs)?;
        for song in songs.iter_mut().filter(|s| s.split == "train") {
            let artist = song.extra["songs_info"]["Artist"].as_str().unwrap_or_default();
            song.split = if sha1_mod(artist_key(artist).as_bytes(), 10) < 8 { "train" } else { "valid" };
        }
        if !ctx.metadata_only {
            unpack_tar_gz(&ctx.assets.asset("EMOMUSIC_CLIPS")?, &dir, |_| true)?;
        }
        songs
            .into_iter()
            .map(|song| {
                let audio = (!ctx.metadata_only).then(|| AudioRef {
                    path: dir.join("clips_45seconds").join(format!("{}.mp3", song.id)),
                    clip: None,
                });
                let y = song.y.with_context(|| format!("song {} has no static annotation", song.uid))?;
                let meta = json!({"split": song.split, "clip": song.clip, "y": y, "extra": song.extra});
                Ok(Example { uid: song.uid, meta, audio })
            })
            .collect()
    }
}

fn read_songs(dir: &Path) -> anyhow::Result<Vec<Song>> {
    let mut songs: Vec<Song> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut audio_uids = HashSet::new();
    for stem in STEMS {
        let path = dir.join(format!("{stem}.csv"));
        let text = read_text(std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?)
            .with_context(|| format!("{} is not UTF-8", path.display()))?;
        for (line, raw) in
            dict_rows(&text, ',').with_context(|| format!("{} is not valid CSV", path.display()))?.iter().enumerate()
        {
            let row = stripped(raw).with_context(|| format!("{} row {}", path.display(), line + 1))?;
            let field = |name: &str| -> anyhow::Result<&str> {
                row.get(name).and_then(Value::as_str).with_context(|| format!("{}: no column {name:?}", path.display()))
            };
            let id = py_int(field("song_id")?)?;
            let uid = zfill(id, 4);
            let at = if stem == "songs_info" {
                ensure!(!index.contains_key(&uid), "{}: song {uid} listed twice", path.display());
                let (artist, title) = (field("Artist")?.to_string(), field("Song title")?.to_string());
                ensure!(audio_uids.insert((artist.clone(), title.clone())), "song {artist:?} – {title:?} listed twice");
                let start = parse_minsec(field("start of the segment (min.sec)")?)?;
                let end = parse_minsec(field("end of the segment (min.sec)")?)?;
                ensure!(end - start == 45.0, "song {uid}: the clip is {} s long, not 45", end - start);
                let split = if field("Mediaeval 2013 set")? == "evaluation" { "test" } else { "train" };
                let clip =
                    json!({"audio_uid": [artist, title], "audio_duration": end, "clip_idx": 0, "clip_offset": start});
                index.insert(uid.clone(), songs.len());
                songs.push(Song { id, uid, split, clip, y: None, extra: Map::new() });
                songs.len() - 1
            } else {
                *index.get(&uid).with_context(|| format!("{}: song {uid} is not in songs_info.csv", path.display()))?
            };
            if stem == "static_annotations" {
                songs[at].y = Some([py_float(field("mean_arousal")?)?, py_float(field("mean_valence")?)?]);
            }
            songs[at].extra.insert(stem.to_string(), Value::Object(row));
        }
    }
    Ok(songs)
}

/// `{k: v.strip()}`; the reference fails on ragged rows (a `None` value has no `strip`).
fn stripped(row: &Row) -> anyhow::Result<Map<String, Value>> {
    row.iter()
        .map(|(k, v)| match v {
            Some(v) => Ok((k.clone(), Value::String(py_strip(v).to_string()))),
            None => bail!("column {k:?} is missing"),
        })
        .collect()
}

/// "min.sec" → seconds, where a single seconds digit is tens ("1.5" is 1:50).
fn parse_minsec(s: &str) -> anyhow::Result<f64> {
    let parts: Vec<&str> = s.split('.').collect();
    ensure!(parts.len() <= 2, "{s:?} is not min.sec");
    let mut t = py_float(parts[0])? * 60.0;
    if let Some(sec) = parts.get(1) {
        t += if sec.chars().count() == 1 { py_float(&format!("{sec}0"))? } else { py_float(sec)? };
    }
    Ok(t)
}

/// Standardise with the train songs' mean and population std, summed as numpy does so the
/// labels agree to the last bit.
fn standardise(songs: &mut [Song]) -> anyhow::Result<()> {
    let train: Vec<[f64; 2]> = songs.iter().filter(|s| s.split == "train").filter_map(|s| s.y).collect();
    let mut stats = [(0.0, 0.0); 2];
    for (d, stat) in stats.iter_mut().enumerate() {
        let values: Vec<f64> = train.iter().map(|y| y[d]).collect();
        let (mean, std) = mean_std(&values);
        // numpy would give NaN labels here, which JSON cannot carry.
        ensure!(std > 0.0, "the train songs' labels have no spread ({} songs)", values.len());
        *stat = (mean, std);
    }
    for song in songs.iter_mut() {
        if let Some(y) = &mut song.y {
            for (v, (mean, std)) in y.iter_mut().zip(stats) {
                *v = (*v - mean) / std;
            }
        }
    }
    Ok(())
}

/// The artist name the split hash sees: lower-case ASCII letters, words separated by one space.
fn artist_key(artist: &str) -> String {
    let kept: String =
        artist.to_lowercase().chars().filter(|c| c.is_ascii() && (c.is_ascii_alphabetic() || py_space(*c))).collect();
    kept.split(py_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minsec_single_digit_seconds_are_tens() {
        assert_eq!(parse_minsec("1.5").unwrap(), 110.0);
        assert_eq!(parse_minsec("1.05").unwrap(), 65.0);
        assert_eq!(parse_minsec("2").unwrap(), 120.0);
        assert!(parse_minsec("1.2.3").is_err());
    }

    #[test]
    fn artist_key_keeps_ascii_letters_and_single_spaces() {
        assert_eq!(artist_key("  The  Beatles, 2nd\tTake! Émile "), "the beatles nd take mile");
    }
}
