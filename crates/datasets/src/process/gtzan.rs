//! GTZAN genre classification (`gtzan`) and its fault-filtered split (`gtzan_ff`, Kereliuk et
//! al.'s train/valid/test lists), as the reference's `_iter_gtzan`.
//!
//! The reference globs `*.wav`, yet the original `genres.tar.gz` holds Sun `.au` files
//! (`genres/<genre>/<genre>.000NN.au`); its authors evidently ran on a converted copy. Both
//! extensions are accepted so the real archive works and a converted one gives the same dids.

use super::{AudioRef, DatasetProcessor, Example, ProcessContext};
use crate::archive::{safe_member_path, unpack_tar_gz, ArchiveError};
use anyhow::{bail, Context};
use serde_json::json;
use sha2::Digest;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `gtzan` (`fault_filtered: false`: all clips, no split) or `gtzan_ff` (only the clips in the
/// three split lists, each with its `split`).
pub struct Gtzan {
    pub fault_filtered: bool,
}

const SPLITS: [(&str, &str); 3] = [("train", "GTZAN_TRAIN"), ("valid", "GTZAN_VALID"), ("test", "GTZAN_TEST")];

impl DatasetProcessor for Gtzan {
    fn name(&self) -> &'static str {
        if self.fault_filtered {
            "gtzan_ff"
        } else {
            "gtzan"
        }
    }

    fn examples(&self, ctx: &ProcessContext) -> anyhow::Result<Vec<Example>> {
        let did_to_split = if self.fault_filtered { Some(read_splits(ctx)?) } else { None };
        let archive = ctx.assets.asset("GTZAN")?;
        let unpacked = ctx.workdir.join("gtzan");
        let members = if ctx.metadata_only {
            list_tar_gz_files(&archive)?
        } else {
            unpack_tar_gz(&archive, &unpacked, is_audio_member)?
        };
        let mut paths = Vec::new();
        for name in members.iter().filter(|n| is_audio_member(n)) {
            let rel = safe_member_path(name)
                .ok_or_else(|| ArchiveError::UnsafeMember { path: archive.clone(), member: name.clone() })?;
            paths.push(rel);
        }
        // `sorted(Path)` compares component by component, as `PathBuf`'s `Ord` does.
        paths.sort();
        // A member stored twice unpacks to one file.
        paths.dedup();

        let mut examples = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (genre, clips) in group_by_genre(&paths)? {
            for (did, rel) in clips {
                let uid = sha256_hex(did.as_bytes());
                if !seen.insert(uid.clone()) {
                    bail!("{} holds clip {did:?} twice (e.g. as both .wav and .au)", archive.display());
                }
                let mut meta = json!({ "y": genre, "extra": { "id": did, "uid": uid } });
                if let Some(splits) = &did_to_split {
                    let Some(split) = splits.get(did) else { continue };
                    meta["split"] = json!(split);
                }
                let audio = (!ctx.metadata_only).then(|| AudioRef { path: unpacked.join(rel), clip: None });
                examples.push(Example { uid, meta, audio });
            }
        }
        Ok(examples)
    }
}

fn is_audio_member(name: &str) -> bool {
    name.ends_with(".wav") || name.ends_with(".au")
}

/// A clip's did and its path inside the archive.
type Clip<'a> = (&'a str, &'a Path);

/// Clips grouped by their parent folder's name, genres in first-seen order (the reference's
/// `defaultdict` over sorted paths).
fn group_by_genre(paths: &[PathBuf]) -> anyhow::Result<Vec<(&str, Vec<Clip<'_>>)>> {
    let mut groups: Vec<(&str, Vec<Clip>)> = Vec::new();
    for path in paths {
        let genre = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|g| g.to_str())
            .with_context(|| format!("GTZAN member {} is not inside a genre folder", path.display()))?;
        let did = path.file_name().and_then(|n| n.to_str()).map(python_stem).unwrap_or_default();
        match groups.iter_mut().find(|(g, _)| *g == genre) {
            Some((_, clips)) => clips.push((did, path)),
            None => groups.push((genre, vec![(did, path)])),
        }
    }
    Ok(groups)
}

/// did → split from the three lists; each line is a path whose stem is the did.
fn read_splits(ctx: &ProcessContext) -> anyhow::Result<HashMap<String, &'static str>> {
    let mut did_to_split = HashMap::new();
    for (split, tag) in SPLITS {
        let path = ctx.assets.asset(tag)?;
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        for line in python_splitlines(text.trim()) {
            let did = python_stem(python_name(line));
            if did_to_split.insert(did.to_string(), split).is_some() {
                bail!("{}: clip {did:?} is listed in more than one split", path.display());
            }
        }
    }
    Ok(did_to_split)
}

/// The regular files of a `.tar.gz`, in archive order, read without unpacking anything.
pub fn list_tar_gz_files(archive: &Path) -> Result<Vec<String>, ArchiveError> {
    let corrupt = |reason: String| ArchiveError::Corrupt { path: archive.to_path_buf(), reason };
    let file =
        std::fs::File::open(archive).map_err(|source| ArchiveError::Open { path: archive.to_path_buf(), source })?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut names = Vec::new();
    for entry in tar.entries().map_err(|e| corrupt(e.to_string()))? {
        let entry = entry.map_err(|e| corrupt(e.to_string()))?;
        if entry.header().entry_type().is_file() {
            names.push(entry.path().map_err(|e| corrupt(e.to_string()))?.to_string_lossy().into_owned());
        }
    }
    Ok(names)
}

/// `PurePath(p).name`: the last non-empty, non-`.` component.
fn python_name(path: &str) -> &str {
    path.split('/').rfind(|part| !part.is_empty() && *part != ".").unwrap_or("")
}

/// `PurePath.stem`: the name without its last suffix, where a suffix needs a dot that is neither
/// the first nor the last character.
fn python_stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => &name[..i],
        _ => name,
    }
}

/// `str.splitlines()`: every line boundary Python knows, `\r\n` counting once.
fn python_splitlines(text: &str) -> Vec<&str> {
    let is_break = |c: char| {
        matches!(c, '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}')
    };
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_break(c) {
            lines.push(&text[start..i]);
            start = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
                chars.next();
                start += 1;
            }
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The reference's `compute_checksum(bytes)`: lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_path_and_line_rules() {
        assert_eq!(python_stem(python_name("blues/blues.00012.wav")), "blues.00012");
        assert_eq!(python_stem(python_name("a/b.c/")), "b");
        assert_eq!(python_stem(".wav"), ".wav");
        assert_eq!(python_stem("x."), "x.");
        assert_eq!(python_splitlines("a\r\nb\n\nc\rd"), ["a", "b", "", "c", "d"]);
        assert_eq!(python_splitlines(""), Vec::<&str>::new());
        // A uid from the reference's gtzan_ff.json.
        assert_eq!(sha256_hex(b"jazz.00024"), "002b88d74161f517106f69826f31ee1040cddaebb34e6591812610aa14e9e604");
    }
}
