//! One asset end to end, with the reference's semantics (`retrieve_and_or_verify_asset`): verify
//! what is there, download what is missing, and never leave a wrong file looking valid.

use super::download::{part_path, Downloader};
use super::error::AssetError;
use super::progress::FetchProgress;
use super::registry::Asset;
use super::verify::check_file;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It was already there, with the right checksum.
    Verified,
    /// It was missing; now downloaded and verified.
    Downloaded,
    /// It was there with a wrong checksum: deleted (`delete_wrong`), downloaded again, verified.
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub path: PathBuf,
    pub outcome: Outcome,
    pub bytes: u64,
}

/// Makes sure `asset` sits verified under `cache_root`, downloading it if it is missing.
///
/// A present file with a wrong checksum is an error, unless `delete_wrong` is set: then it is
/// deleted and downloaded again.
pub fn fetch(
    asset: &Asset,
    cache_root: &Path,
    delete_wrong: bool,
    downloader: &Downloader,
    progress: &dyn FetchProgress,
) -> Result<Fetched, AssetError> {
    let path = asset.path(cache_root);
    let mut deleted = None;
    if path.exists() {
        if !path.is_file() {
            return Err(AssetError::io(
                "use",
                &path,
                std::io::Error::other("it is not a regular file; move it away and run again"),
            ));
        }
        let mismatch = check_file(&path, &asset.checksum).map_err(|e| AssetError::io("read", &path, e))?;
        let bytes = file_len(&path);
        match mismatch {
            None => return Ok(Fetched { path, outcome: Outcome::Verified, bytes }),
            Some(actual) if delete_wrong => {
                fs::remove_file(&path).map_err(|e| AssetError::io("delete the wrong file", &path, e))?;
                deleted = Some(actual);
            }
            Some(actual) => {
                return Err(AssetError::WrongChecksum {
                    path,
                    algorithm: asset.checksum.algorithm(),
                    expected: asset.checksum.hex().into(),
                    actual,
                })
            }
        }
    }

    let downloaded = match &asset.url {
        None => Err(AssetError::NoUrl { tag: asset.tag.clone(), path: path.clone() }),
        Some(url) => downloader.download(url, &path, &asset.checksum, progress),
    };
    match (downloaded, deleted) {
        (Ok(bytes), None) => Ok(Fetched { path, outcome: Outcome::Downloaded, bytes }),
        (Ok(bytes), Some(_)) => Ok(Fetched { path, outcome: Outcome::Replaced, bytes }),
        (Err(error), None) => Err(error),
        (Err(error), Some(actual)) => Err(AssetError::ReplaceFailed {
            path,
            algorithm: asset.checksum.algorithm(),
            actual,
            error: Box::new(error),
        }),
    }
}

/// What is on disk for an asset, without reading it (checksums are not computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Present {
        bytes: u64,
    },
    /// An interrupted download that the next fetch resumes.
    Partial {
        bytes: u64,
    },
    Missing,
}

pub fn presence(asset: &Asset, cache_root: &Path) -> Presence {
    let path = asset.path(cache_root);
    if path.is_file() {
        return Presence::Present { bytes: file_len(&path) };
    }
    let part = part_path(&path);
    if part.is_file() {
        return Presence::Partial { bytes: file_len(&part) };
    }
    Presence::Missing
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
