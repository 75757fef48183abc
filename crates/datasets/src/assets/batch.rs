//! Many assets at once on a few threads: downloads are network-bound, so a handful in flight keeps
//! a link busy without hammering any one server.

use super::download::Downloader;
use super::error::AssetError;
use super::fetch::{fetch, Fetched};
use super::progress::FetchProgress;
use super::registry::Asset;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Fetches every asset with `jobs` threads (at least one), calling `progress.finished` as each one
/// ends. Results come back in the order of `assets`; one failure does not stop the others.
pub fn fetch_all<'a>(
    assets: &[&'a Asset],
    cache_root: &Path,
    delete_wrong: bool,
    jobs: usize,
    downloader: &Downloader,
    progress: &dyn FetchProgress,
) -> Vec<(&'a Asset, Result<Fetched, AssetError>)> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Fetched, AssetError>>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(assets.len()).collect());
    let workers = jobs.clamp(1, assets.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(&asset) = assets.get(index) else { break };
                let result = fetch(asset, cache_root, delete_wrong, downloader, progress);
                progress.finished(asset, &result);
                results.lock().unwrap()[index] = Some(result);
            });
        }
    });
    let results = results.into_inner().unwrap();
    assets.iter().copied().zip(results.into_iter().map(|r| r.expect("every index is taken by one worker"))).collect()
}
