//! GiantSteps key, as the reference's `_iter_giantsteps`: train/valid from the MTG key repository
//! (confident, single-key tracks, split by artist), test from the GiantSteps key repository; either
//! whole tracks (`giantsteps`) or their full 30-second clips (`giantsteps_clips`).
//!
//! The annotation repositories are read straight from their GitHub archive zips.

use super::pycompat::{dict_rows, py_int, py_split, py_strip, read_text, sha1_mod, zfill, Row};
use super::{AudioRef, ClipSpan, DatasetProcessor, Example, ProcessContext};
use crate::archive::{open_zip, read_zip_member, MultiPartReader};
use anyhow::{bail, ensure, Context};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

pub struct GiantSteps {
    /// `Some(seconds)` cuts every track into full clips of that length.
    clip_seconds: Option<f64>,
}

impl GiantSteps {
    pub const TRACKS: GiantSteps = GiantSteps { clip_seconds: None };
    pub const CLIPS: GiantSteps = GiantSteps { clip_seconds: Some(30.0) };
}

struct Repo {
    split: RepoSplit,
    annotations_tag: &'static str,
    top: &'static str,
    mp3_tag_prefix: &'static str,
}

#[derive(PartialEq, Clone, Copy)]
enum RepoSplit {
    Train,
    Test,
}

const REPOS: [Repo; 2] = [
    Repo {
        split: RepoSplit::Train,
        annotations_tag: "GIANTSTEPS_MTG_KEY_ANNOTATIONS",
        top: "giantsteps-mtg-key-dataset-fd7b8c584f7bd6d720d170c325a6d42c9bf75a6b",
        mp3_tag_prefix: "GIANTSTEPS_MTG_KEY_",
    },
    Repo {
        split: RepoSplit::Test,
        annotations_tag: "GIANTSTEPS_KEY_ANNOTATIONS",
        top: "giantsteps-key-dataset-c8cb8aad2cb53f165be51ea099d0dc75c64a844f",
        mp3_tag_prefix: "GIANTSTEPS_KEY_",
    },
];

/// One labelled track before its audio is looked at.
struct Track {
    uid: String,
    mp3_tag: String,
    meta: Map<String, Value>,
}

impl DatasetProcessor for GiantSteps {
    fn name(&self) -> &'static str {
        if self.clip_seconds.is_some() {
            "giantsteps_clips"
        } else {
            "giantsteps"
        }
    }

    fn examples(&self, ctx: &ProcessContext) -> anyhow::Result<Vec<Example>> {
        let mut tracks = Vec::new();
        let mut uids = HashSet::new();
        for repo in &REPOS {
            for track in read_repo(ctx, repo)? {
                ensure!(uids.insert(track.uid.clone()), "track {} is in both repositories", track.uid);
                tracks.push(track);
            }
        }
        let Some(clip_seconds) = self.clip_seconds else {
            return tracks
                .into_iter()
                .map(|t| {
                    let audio = if ctx.metadata_only { None } else { Some(mp3(ctx, &t.mp3_tag, None)?) };
                    Ok(Example { uid: t.uid, meta: Value::Object(t.meta), audio })
                })
                .collect();
        };
        // Clips need every track's duration even for metadata alone (the reference asks ffprobe);
        // measuring is the slow part, so tracks are measured in parallel.
        let measured: Vec<anyhow::Result<Vec<Example>>> =
            tracks.into_par_iter().map(|t| clips(ctx, t, clip_seconds)).collect();
        Ok(measured.into_iter().collect::<anyhow::Result<Vec<_>>>()?.into_iter().flatten().collect())
    }
}

fn mp3(ctx: &ProcessContext, tag: &str, clip: Option<ClipSpan>) -> anyhow::Result<AudioRef> {
    Ok(AudioRef { path: ctx.assets.asset(tag)?, clip })
}

/// The full clips of one track, at offsets 0, s, 2s, … as `np.arange(0, duration, s)`.
fn clips(ctx: &ProcessContext, track: Track, seconds: f64) -> anyhow::Result<Vec<Example>> {
    let path = ctx.assets.asset(&track.mp3_tag)?;
    let duration = ctx
        .durations
        .duration(&path)
        .with_context(|| format!("measuring the duration of {} ({})", path.display(), track.mp3_tag))?;
    ensure!(duration.is_finite() && duration >= 0.0, "{} has duration {duration}", path.display());
    let count = (duration / seconds).ceil() as usize;
    let mut out = Vec::new();
    for idx in 0..count {
        let offset = idx as f64 * seconds;
        if duration - offset < seconds {
            continue;
        }
        let mut meta = track.meta.clone();
        meta.insert(
            "clip".into(),
            json!({"audio_uid": track.uid, "audio_duration": duration, "clip_idx": idx, "clip_offset": offset}),
        );
        let audio = (!ctx.metadata_only)
            .then(|| AudioRef { path: path.clone(), clip: Some(ClipSpan { offset, duration: seconds }) });
        out.push(Example { uid: format!("{}-{idx}", track.uid), meta: Value::Object(meta), audio });
    }
    Ok(out)
}

/// An annotation repository, read in place from its archive.
struct Archive {
    zip: zip::ZipArchive<MultiPartReader>,
    path: PathBuf,
    top: &'static str,
}

impl Archive {
    fn text(&mut self, rel: &str) -> anyhow::Result<String> {
        let member = format!("{}/{rel}", self.top);
        let bytes = read_zip_member(&mut self.zip, &self.path, &member)?;
        read_text(bytes).with_context(|| format!("{member} in {} is not UTF-8", self.path.display()))
    }

    fn tsv(&mut self, rel: &str) -> anyhow::Result<Vec<Row>> {
        let text = self.text(rel)?;
        dict_rows(&text, '\t').with_context(|| format!("{}/{rel} in {}", self.top, self.path.display()))
    }

    /// The ids named by `md5/*.md5`. pathlib's glob yields them in directory order, which
    /// `meta.json` (sorted by uid) does not record; name order keeps runs reproducible.
    fn dids(&self) -> anyhow::Result<Vec<i64>> {
        let prefix = format!("{}/md5/", self.top);
        let mut names = Vec::new();
        for name in self.zip.file_names() {
            let name = name.with_context(|| format!("{} has an unreadable member name", self.path.display()))?;
            if let Some(file) = name.strip_prefix(&prefix).filter(|f| f.ends_with(".md5") && !f.contains('/')) {
                names.push(file.to_string());
            }
        }
        names.sort_unstable();
        names.iter().map(|n| py_int(n.split('.').next().unwrap_or_default())).collect()
    }
}

fn read_repo(ctx: &ProcessContext, repo: &Repo) -> anyhow::Result<Vec<Track>> {
    let path = ctx.assets.asset(repo.annotations_tag)?;
    let zip = open_zip(std::slice::from_ref(&path))?;
    let mut archive = Archive { zip, path, top: repo.top };
    let train = match repo.split {
        RepoSplit::Train => Some(TrainInfo::read(&mut archive)?),
        RepoSplit::Test => None,
    };
    let annotations: &[&str] = match repo.split {
        RepoSplit::Train => &["genre", "key", "giantsteps.genre", "giantsteps.key"],
        RepoSplit::Test => &["genre", "key", "jams", "giantsteps.genre", "giantsteps.key"],
    };
    let mut tracks = Vec::new();
    for did in archive.dids()? {
        let uid = zfill(did, 7);
        let mut extra = Map::new();
        extra.insert("id".into(), did.into());
        for &name in annotations {
            let (dir, ext) = name.split_once('.').unwrap_or((name, name));
            let text = archive.text(&format!("annotations/{dir}/{did}.LOFI.{ext}"))?;
            let value = if name == "jams" {
                serde_json::from_str(&text).with_context(|| format!("the JAMS file of track {did} is not JSON"))?
            } else {
                Value::String(text)
            };
            extra.insert(name.into(), value);
        }
        let label = match &train {
            Some(info) => match info.label(did, &mut extra)? {
                Some(label) => label,
                None => continue,
            },
            None => {
                let key = extra["key"].as_str().unwrap_or_default();
                let [tonic, scale] = two_words(key).with_context(|| format!("test track {did}"))?;
                ("test", format!("{tonic} {scale}"))
            }
        };
        let (split, y) = label;
        let meta = json!({"split": split, "y": y, "extra": extra});
        let Value::Object(meta) = meta else { unreachable!("json! of an object literal") };
        tracks.push(Track { uid, mp3_tag: format!("{}{did}", repo.mp3_tag_prefix), meta });
    }
    Ok(tracks)
}

fn two_words(s: &str) -> anyhow::Result<[&str; 2]> {
    match py_split(s)[..] {
        [a, b] => Ok([a, b]),
        _ => bail!("key {s:?} is not \"tonic scale\""),
    }
}

/// What the MTG repository's tab-separated tables say about its tracks.
struct TrainInfo {
    beatport: HashMap<i64, Row>,
    annotations: HashMap<i64, Row>,
    artist_split: HashMap<String, &'static str>,
}

impl TrainInfo {
    fn read(archive: &mut Archive) -> anyhow::Result<Self> {
        let (order, beatport) = by_id(archive.tsv("annotations/beatport_metadata.txt")?)?;
        let (_, annotations) = by_id(archive.tsv("annotations/annotations.txt")?)?;
        // This seemingly arbitrary modulus is the reference's: it lands near 80/20.
        let mut artist_split = HashMap::new();
        for id in &order {
            for artist in artists(&beatport[id])? {
                let split = if sha1_mod(artist.to_lowercase().as_bytes(), 116) < 100 { "train" } else { "valid" };
                artist_split.insert(artist.to_string(), split);
            }
        }
        // Collaborators of valid artists become valid, twice over for two hops; in file order,
        // since a pass sees the changes it has already made.
        for _ in 0..2 {
            for id in &order {
                let names = artists(&beatport[id])?;
                if names.iter().any(|a| artist_split[*a] == "valid") {
                    for a in names {
                        artist_split.insert(a.to_string(), "valid");
                    }
                }
            }
        }
        Ok(TrainInfo { beatport, annotations, artist_split })
    }

    /// The (split, key) of a train track, or `None` for tracks the reference skips.
    fn label(&self, did: i64, extra: &mut Map<String, Value>) -> anyhow::Result<Option<(&'static str, String)>> {
        let beatport = self.beatport.get(&did).with_context(|| format!("track {did} has no Beatport metadata"))?;
        let annotation = self.annotations.get(&did).with_context(|| format!("track {did} has no key annotation"))?;
        extra.insert("beatport_metadata".into(), row_json(beatport));
        extra.insert("annotations".into(), row_json(annotation));
        // Low-confidence and multi-key tracks are skipped as in Korzeniowski and Widmer (2018).
        if py_int(column(annotation, "C")?)? != 2 {
            return Ok(None);
        }
        let manual = column(annotation, "MANUAL KEY")?;
        if manual.contains('/') {
            return Ok(None);
        }
        let [tonic, scale] = two_words(manual).with_context(|| format!("train track {did}"))?;
        let key_file = extra["key"].as_str().unwrap_or_default();
        ensure!(
            key_file.starts_with(&format!("{} {scale}", tonic.to_lowercase())),
            "track {did}: the key file {key_file:?} disagrees with the annotation {manual:?}"
        );
        let tonic = match tonic {
            "C#" => "Db",
            "D#" => "Eb",
            "F#" => "Gb",
            "G#" => "Ab",
            "A#" => "Bb",
            other => other,
        };
        let splits: HashSet<&str> = artists(beatport)?.iter().map(|a| self.artist_split[*a]).collect();
        let split = match splits.into_iter().collect::<Vec<_>>()[..] {
            [split] => split,
            _ => bail!("track {did}'s artists are on both sides of the split"),
        };
        Ok(Some((split, format!("{tonic} {scale}"))))
    }
}

/// Rows keyed by `int(row["ID"])`, plus the keys in first-seen order (a repeated id keeps its
/// first place and its last row, as a dict does).
fn by_id(rows: Vec<Row>) -> anyhow::Result<(Vec<i64>, HashMap<i64, Row>)> {
    let mut order = Vec::new();
    let mut map = HashMap::new();
    for row in rows {
        let id = py_int(column(&row, "ID")?)?;
        if map.insert(id, row).is_none() {
            order.push(id);
        }
    }
    Ok((order, map))
}

fn column<'a>(row: &'a Row, name: &str) -> anyhow::Result<&'a str> {
    row.get(name).and_then(|v| v.as_deref()).with_context(|| format!("a row has no {name:?}"))
}

/// `[a.strip() for a in row["ARTIST"].strip().split(",")]`.
fn artists(row: &Row) -> anyhow::Result<Vec<&str>> {
    Ok(py_strip(column(row, "ARTIST")?).split(',').map(py_strip).collect())
}

fn row_json(row: &Row) -> Value {
    Value::Object(row.iter().map(|(k, v)| (k.clone(), v.clone().map_or(Value::Null, Value::String))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_tonic_and_scale() {
        assert!(two_words("d# minor\t2\t\n").is_err());
        assert_eq!(two_words("D major\n").unwrap(), ["D", "major"]);
    }

    #[test]
    fn artists_are_comma_separated_and_stripped() {
        let row = |artist: &str| Row::from([("ARTIST".to_string(), Some(artist.to_string()))]);
        assert_eq!(artists(&row(" A ,B, C")).unwrap(), ["A", "B", "C"]);
    }
}
