//! The [`AssetSource`] of a real run: assets from the registry, in the cache, verified once per run
//! (and downloaded when missing).

use super::AssetSource;
use crate::assets::{fetch, Downloader, Registry};
use anyhow::{anyhow, Context};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct CachedAssets<'a> {
    registry: &'a Registry,
    cache_root: PathBuf,
    downloader: &'a Downloader,
    /// Use files whose bytes differ from the manifest (user-supplied copies); missing files are
    /// still downloaded and verified.
    no_verify: bool,
    seen: Mutex<HashMap<String, PathBuf>>,
}

impl<'a> CachedAssets<'a> {
    pub fn new(registry: &'a Registry, cache_root: &Path, downloader: &'a Downloader, no_verify: bool) -> Self {
        CachedAssets { registry, cache_root: cache_root.to_path_buf(), downloader, no_verify, seen: Mutex::default() }
    }
}

impl AssetSource for CachedAssets<'_> {
    fn asset(&self, tag: &str) -> anyhow::Result<PathBuf> {
        if let Some(path) = self.seen.lock().expect("no panics while holding the lock").get(tag) {
            return Ok(path.clone());
        }
        let asset = self.registry.get(tag).ok_or_else(|| anyhow!("asset {tag} is not in the registry"))?;
        let path = asset.path(&self.cache_root);
        let path = if self.no_verify && path.is_file() {
            path
        } else {
            fetch(asset, &self.cache_root, false, self.downloader, &())
                .with_context(|| format!("asset {tag} (try `jukemir assets {tag}`)"))?
                .path
        };
        self.seen.lock().expect("no panics while holding the lock").insert(tag.to_string(), path.clone());
        Ok(path)
    }
}
