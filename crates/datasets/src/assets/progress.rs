//! How fetching reports progress, so the CLI can draw bars and tests can count calls.

use super::error::AssetError;
use super::fetch::Fetched;
use super::registry::Asset;
use std::time::Duration;

/// Callbacks from fetching; every method has a no-op default and `()` implements it.
///
/// Byte counts arrive as signed deltas so that one shared bar can sum many parallel files: a file
/// whose size becomes known adds to the total, a server that ignores a resume request takes back
/// bytes already counted as done, and a download that gives up removes what it will never fetch.
pub trait FetchProgress: Sync {
    /// The expected number of bytes changed by `delta`.
    fn add_total(&self, _delta: i64) {}
    /// The number of bytes on disk changed by `delta`.
    fn add_done(&self, _delta: i64) {}
    /// A transient failure; the download will be tried again after `wait`.
    fn retrying(&self, _url: &str, _failure: u32, _max_failures: u32, _wait: Duration, _reason: &str) {}
    /// One asset is finished, one way or another.
    fn finished(&self, _asset: &Asset, _result: &Result<Fetched, AssetError>) {}
}

impl FetchProgress for () {}
