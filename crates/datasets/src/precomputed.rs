//! The paper's precomputed representations (`PRECOMPUTED-<DATASET>-<REPRESENTATION>` in the asset
//! registry, 24 `.tar.gz`) unpacked into the layout `extract` writes and the probes read:
//! `representations/<dataset>/<representation>/<uid>.npy`.
//!
//! The archives' inner layout was never documented (and they cannot be downloaded here to look), so
//! members are matched by file name alone: `<uid>.npy` at any depth (flat, or under a top folder such
//! as `gtzan_ff/jukebox/`); other files are ignored and counted. What must hold is what the probes
//! need: exactly one finite float32 vector for every uid of the dataset's `meta.json`, all of one
//! dim. Missing uids are an error that lists them; uids the metadata does not know are reported and
//! not written.
//!
//! Files are unpacked into a hidden staging folder beside the output, checked, and only then does
//! the staging folder replace the output folder (`jukemir_fs::write_dir_atomically`), so a corrupt
//! or incomplete archive leaves an earlier good unpacking untouched.

use crate::archive::ArchiveError;
use anyhow::{bail, Context};
use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// The datasets and representations the paper published precomputed archives for.
pub const PRECOMPUTED_DATASETS: [&str; 4] = ["gtzan_ff", "magnatagatune", "emomusic", "giantsteps_clips"];
pub const PRECOMPUTED_REPRESENTATIONS: [&str; 6] = ["chroma", "mfcc", "choi", "musicnn", "clmr", "jukebox"];

/// The registry tag of one archive, e.g. `PRECOMPUTED-GTZAN_FF-JUKEBOX`.
pub fn precomputed_tag(dataset: &str, representation: &str) -> String {
    format!("PRECOMPUTED-{}-{}", dataset.to_uppercase(), representation.to_uppercase())
}

/// What an unpacking found.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Vectors written (0 when the folder already held every uid).
    pub written: usize,
    /// The vectors' dim (`None` when nothing was read because the folder was complete).
    pub dim: Option<usize>,
    /// `.npy` members whose uid is not in `meta.json` (not written).
    pub extra: Vec<String>,
    /// Members that are not `.npy` files (not written).
    pub ignored: Vec<String>,
}

/// The uids of a `meta.json` (its top-level keys).
pub fn meta_uids(meta_json: &Path) -> anyhow::Result<BTreeSet<String>> {
    let meta = crate::process::meta_json::read_meta_json(meta_json)?;
    let Some(object) = meta.as_object() else {
        bail!("{} is not a JSON object of uid → metadata", meta_json.display());
    };
    Ok(object.keys().cloned().collect())
}

/// Whether `out_dir` already holds `<uid>.npy` for every uid (each was checked before it reached
/// its name, so presence is enough).
pub fn is_unpacked(uids: &BTreeSet<String>, out_dir: &Path) -> bool {
    uids.iter().all(|uid| out_dir.join(format!("{uid}.npy")).is_file())
}

/// Unpack `archive` into `out_dir` (see the module doc). Does nothing when `out_dir` already holds
/// every uid of `meta_json`.
pub fn unpack_precomputed(archive: &Path, meta_json: &Path, out_dir: &Path) -> anyhow::Result<Unpacked> {
    let uids = meta_uids(meta_json)?;
    if uids.is_empty() {
        bail!("{} lists no examples", meta_json.display());
    }
    if is_unpacked(&uids, out_dir) {
        return Ok(Unpacked::default());
    }
    let parent = out_dir.parent().unwrap_or(out_dir);
    jukemir_fs::remove_stale_temporaries(parent)
        .with_context(|| format!("cannot clear stale staging folders from {}", parent.display()))?;
    let mut found = Unpacked::default();
    jukemir_fs::write_dir_atomically(out_dir, |staging| -> anyhow::Result<()> {
        let mut seen = HashSet::new();
        read_members(archive, &mut |member, entry| {
            let file_name = Path::new(member).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let Some(uid) = file_name.strip_suffix(".npy").filter(|u| !u.is_empty() && !u.starts_with("._")) else {
                found.ignored.push(member.to_string());
                return Ok(());
            };
            if !uids.contains(uid) {
                found.extra.push(uid.to_string());
                return Ok(());
            }
            if !seen.insert(uid.to_string()) {
                bail!("{} holds uid {uid} twice (the second as {member:?})", archive.display());
            }
            let staged = staging.join(&file_name);
            let mut out =
                File::create(&staged).map_err(|source| ArchiveError::Write { path: staged.clone(), source })?;
            std::io::copy(entry, &mut out)
                .map_err(|e| ArchiveError::Corrupt { path: archive.to_path_buf(), reason: format!("{member}: {e}") })?;
            drop(out);
            let vector = jukemir_representations::npy_io::read_vector(&staged)
                .with_context(|| format!("member {member:?} of {}", archive.display()))?;
            check_vector(&vector, &mut found.dim).with_context(|| format!("member {member:?} of {}", archive.display()))
        })?;
        let missing: Vec<&String> = uids.iter().filter(|uid| !seen.contains(*uid)).collect();
        if !missing.is_empty() {
            bail!(
                "{} lacks {} of the {} uids of {} (e.g. {}); nothing was written to {} (is it the archive for this \
                 dataset?)",
                archive.display(),
                missing.len(),
                uids.len(),
                meta_json.display(),
                listed(&missing),
                out_dir.display()
            );
        }
        Ok(())
    })?;
    found.written = uids.len();
    found.extra.sort();
    Ok(found)
}

/// At most five items, then how many more.
pub fn listed<T: AsRef<str>>(items: &[T]) -> String {
    let shown: Vec<&str> = items.iter().take(5).map(AsRef::as_ref).collect();
    match items.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

fn check_vector(vector: &[f32], dim: &mut Option<usize>) -> anyhow::Result<()> {
    if vector.is_empty() {
        bail!("the vector is empty");
    }
    if let Some(i) = vector.iter().position(|x| !x.is_finite()) {
        bail!("value {i} is {} (every value must be finite)", vector[i]);
    }
    match *dim {
        Some(d) if d != vector.len() => bail!("it has {} values where the earlier members have {d}", vector.len()),
        _ => *dim = Some(vector.len()),
    }
    Ok(())
}

/// Calls `visit(name, reader)` for each regular file of a `.tar.gz`.
fn read_members(
    archive: &Path,
    visit: &mut dyn FnMut(&str, &mut dyn std::io::Read) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let corrupt = |reason: String| ArchiveError::Corrupt { path: archive.to_path_buf(), reason };
    let file = File::open(archive).map_err(|source| ArchiveError::Open { path: archive.to_path_buf(), source })?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    for entry in tar.entries().map_err(|e| corrupt(e.to_string()))? {
        let mut entry = entry.map_err(|e| corrupt(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|e| corrupt(e.to_string()))?.to_string_lossy().into_owned();
        visit(&name, &mut entry)?;
    }
    Ok(())
}

/// `representations/<dataset>/<representation>` under a cache root.
pub fn representation_dir(cache_root: &Path, dataset: &str, representation: &str) -> PathBuf {
    cache_root.join(crate::assets::REPRESENTATIONS_DIR).join(dataset).join(representation)
}
