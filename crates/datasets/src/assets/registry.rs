//! The asset registry: every raw file the datasets are built from, with where it lives in the cache,
//! where it can be downloaded and the checksum it must have.
//!
//! `registry.json` is generated from the reference's manifests by `tools/reference/gen_asset_registry.py`;
//! it is checked here again on load with the reference's rules, so a hand edit cannot smuggle in a
//! path outside the cache or a checksum nothing can verify.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const EMBEDDED_JSON: &str = include_str!("registry.json");
/// Pretrained weights, fetched with `jukemir weights fetch` (not part of the reference's manifests).
const WEIGHTS_JSON: &str = include_str!("weights.json");

/// The hash algorithms the reference uses, told apart by the length of the hex digest, and git's
/// blob id (for weights published only in a git repository, e.g. MSD_musicnn_big).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
    /// sha1 of `blob <size>\0` followed by the content: `git hash-object`.
    GitBlobSha1,
    /// No digest was ever published (Jukebox's checkpoints): the file must parse and hold every
    /// tensor of the named model with its shape (`jukemir_models::jukebox::published`).
    Structure,
}

impl Algorithm {
    /// Length of the lowercase hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 | Algorithm::GitBlobSha1 => 40,
            Algorithm::Sha256 => 64,
            // Not a digest: the checksum names a structure.
            Algorithm::Structure => 0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::GitBlobSha1 => "git-blob-sha1",
            Algorithm::Structure => "structure",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An expected digest, always stored as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Checksum {
    Md5(String),
    Sha1(String),
    Sha256(String),
    GitBlobSha1(String),
    /// The name of a published model whose structure the file must have (`structure:<name>`).
    Structure(String),
}

impl Checksum {
    /// Reads a hex digest, picking the algorithm from its length as the reference does
    /// (32 = md5, 40 = sha1, 64 = sha256); `git-blob-sha1:<hex>` is a git blob id;
    /// `structure:<model>` names a published model the file must hold (see [`Algorithm::Structure`]).
    pub fn parse(hex: &str) -> Result<Checksum, RegistryError> {
        let hex = hex.trim().to_ascii_lowercase();
        if let Some(name) = hex.strip_prefix("structure:") {
            return match jukemir_models::jukebox::published::PublishedCheckpoint::from_name(name) {
                Some(_) => Ok(Checksum::Structure(name.to_string())),
                None => Err(RegistryError::BadChecksum(format!("{hex:?}: no such published model to verify against"))),
            };
        }
        if let Some(blob) = hex.strip_prefix("git-blob-sha1:") {
            return match Checksum::parse(blob)? {
                Checksum::Sha1(hex) => Ok(Checksum::GitBlobSha1(hex)),
                _ => Err(RegistryError::BadChecksum(format!("{hex:?}: a git blob id has 40 hex digits"))),
            };
        }
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RegistryError::BadChecksum(format!("{hex:?} is not hexadecimal")));
        }
        match hex.len() {
            32 => Ok(Checksum::Md5(hex)),
            40 => Ok(Checksum::Sha1(hex)),
            64 => Ok(Checksum::Sha256(hex)),
            n => Err(RegistryError::BadChecksum(format!(
                "{hex:?} has {n} hex digits; expected 32 (md5), 40 (sha1) or 64 (sha256)"
            ))),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Checksum::Md5(_) => Algorithm::Md5,
            Checksum::Sha1(_) => Algorithm::Sha1,
            Checksum::Sha256(_) => Algorithm::Sha256,
            Checksum::GitBlobSha1(_) => Algorithm::GitBlobSha1,
            Checksum::Structure(_) => Algorithm::Structure,
        }
    }

    pub fn hex(&self) -> &str {
        match self {
            Checksum::Md5(hex)
            | Checksum::Sha1(hex)
            | Checksum::Sha256(hex)
            | Checksum::GitBlobSha1(hex)
            | Checksum::Structure(hex) => hex,
        }
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm(), self.hex())
    }
}

/// One raw file: a dataset archive, an annotation file, one clip, or a precomputed representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Uppercase name, e.g. `GTZAN_TRAIN`.
    pub tag: String,
    /// Where it lives under the cache root, `/`-separated, e.g. `datasets/gtzan/train_filtered.txt`.
    pub path_rel: String,
    /// Where to download it from; `None` when it must be put in place by hand.
    pub url: Option<String>,
    pub checksum: Checksum,
}

impl Asset {
    /// Validates the fields as the registry does on load, so assets built in code (tests, other
    /// registries) obey the same rules.
    pub fn new(tag: &str, path_rel: &str, url: Option<&str>, checksum: &str) -> Result<Asset, RegistryError> {
        let at = |what: String| RegistryError::Invalid { tag: tag.to_string(), what };
        if tag.is_empty() || tag != tag.to_uppercase() {
            return Err(at("tags must be non-empty and uppercase".into()));
        }
        let path_rel = normalise_path_rel(path_rel).map_err(at)?;
        let url = match url.map(str::trim) {
            None => None,
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => Some(url.to_string()),
            Some(url) => return Err(at(format!("URL {url:?} is not http:// or https://"))),
        };
        let checksum = Checksum::parse(checksum).map_err(|e| at(e.to_string()))?;
        Ok(Asset { tag: tag.to_string(), path_rel, url, checksum })
    }

    /// The file's location under a cache root (see [`super::cache_root`]).
    pub fn path(&self, cache_root: &Path) -> PathBuf {
        let mut path = cache_root.to_path_buf();
        path.extend(self.path_rel.split('/'));
        path
    }
}

/// Folds `a/./b` and repeated slashes like Python's `PurePosixPath`, and refuses anything that could
/// land outside the cache root.
fn normalise_path_rel(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.starts_with('/') || raw.contains('\\') || raw.contains(':') {
        return Err(format!("path {raw:?} must be relative, '/'-separated, with no drive or backslash"));
    }
    let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.contains(&"..") {
        return Err(format!("path {raw:?} must not contain '..'"));
    }
    if parts.is_empty() {
        return Err("path is empty".into());
    }
    Ok(parts.join("/"))
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("asset registry is not valid JSON of the form {{TAG: {{path_rel, url, checksum}}}}: {0}")]
    Json(#[from] serde_json::Error),
    #[error("asset {tag}: {what}")]
    Invalid { tag: String, what: String },
    #[error("bad checksum: {0}")]
    BadChecksum(String),
    #[error("assets {first} and {second} share the path {path_rel}")]
    DuplicatePath { first: String, second: String, path_rel: String },
    #[error("asset {0} appears twice")]
    DuplicateTag(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    path_rel: String,
    #[serde(default)]
    url: Option<String>,
    checksum: Option<String>,
}

/// The variable naming a registry file that replaces the embedded one.
pub const REGISTRY_ENV: &str = "JUKEMIR_REGISTRY";

/// All assets, sorted by tag.
#[derive(Debug, Clone)]
pub struct Registry {
    assets: BTreeMap<String, Asset>,
}

impl Registry {
    /// The registry compiled into this binary (the reference's 2132 assets).
    pub fn embedded() -> &'static Registry {
        static EMBEDDED: OnceLock<Registry> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Registry::from_json(EMBEDDED_JSON).expect("the embedded registry.json is validated by the unit tests")
        })
    }

    /// The pretrained weights the representations load: where each file was published and the
    /// checksum it must have (sha256 for released files, the git blob id for files published only
    /// in a git repository).
    pub fn weights() -> &'static Registry {
        static WEIGHTS: OnceLock<Registry> = OnceLock::new();
        WEIGHTS.get_or_init(|| {
            Registry::from_json(WEIGHTS_JSON).expect("the embedded weights.json is validated by the unit tests")
        })
    }

    /// The registry in force: the file named by `$JUKEMIR_REGISTRY` (same format as the embedded
    /// `registry.json`; for mirrors, and for tests against a local server), else the embedded one.
    pub fn active() -> Result<&'static Registry, RegistryError> {
        static OVERRIDE: OnceLock<Registry> = OnceLock::new();
        let Some(path) = std::env::var_os(REGISTRY_ENV) else { return Ok(Registry::embedded()) };
        if let Some(registry) = OVERRIDE.get() {
            return Ok(registry);
        }
        let path = std::path::PathBuf::from(path);
        let json = std::fs::read_to_string(&path).map_err(|e| RegistryError::Invalid {
            tag: format!("${REGISTRY_ENV}"),
            what: format!("cannot read {}: {e}", path.display()),
        })?;
        let registry = Registry::from_json(&json)?;
        Ok(OVERRIDE.get_or_init(|| registry))
    }

    /// Parses and validates a registry in the `registry.json` format.
    pub fn from_json(json: &str) -> Result<Registry, RegistryError> {
        let raw: BTreeMap<String, RawAsset> = serde_json::from_str(json)?;
        let mut assets = Vec::with_capacity(raw.len());
        for (tag, raw) in raw {
            let checksum = raw
                .checksum
                .ok_or_else(|| RegistryError::Invalid { tag: tag.clone(), what: "checksum is missing".into() })?;
            assets.push(Asset::new(&tag, &raw.path_rel, raw.url.as_deref(), &checksum)?);
        }
        Registry::new(assets)
    }

    /// Builds a registry from assets, refusing duplicate tags and duplicate paths.
    pub fn new(assets: impl IntoIterator<Item = Asset>) -> Result<Registry, RegistryError> {
        let mut by_tag = BTreeMap::new();
        let mut paths: BTreeMap<String, String> = BTreeMap::new();
        for asset in assets {
            if let Some(first) = paths.get(&asset.path_rel) {
                return Err(RegistryError::DuplicatePath {
                    first: first.clone(),
                    second: asset.tag.clone(),
                    path_rel: asset.path_rel.clone(),
                });
            }
            paths.insert(asset.path_rel.clone(), asset.tag.clone());
            let tag = asset.tag.clone();
            if by_tag.insert(tag.clone(), asset).is_some() {
                return Err(RegistryError::DuplicateTag(tag));
            }
        }
        Ok(Registry { assets: by_tag })
    }

    pub fn get(&self, tag: &str) -> Option<&Asset> {
        self.assets.get(tag)
    }

    /// Assets whose tag starts with the prefix, compared as the reference does
    /// (`prefix.strip().upper()`); all assets when `None`. Sorted by tag.
    pub fn select(&self, prefix: Option<&str>) -> Vec<&Asset> {
        let prefix = prefix.map(|p| p.trim().to_uppercase()).unwrap_or_default();
        self.assets.values().filter(|a| a.tag.starts_with(&prefix)).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Asset> {
        self.assets.values()
    }

    pub fn len(&self) -> usize {
        self.assets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// Tag prefixes up to the first `_` or `-`, with counts: a map of what the registry holds.
    pub fn groups(&self) -> BTreeMap<String, usize> {
        let mut groups = BTreeMap::new();
        for tag in self.assets.keys() {
            let group = tag.split(['_', '-']).next().unwrap_or(tag);
            *groups.entry(group.to_string()).or_insert(0) += 1;
        }
        groups
    }
}
