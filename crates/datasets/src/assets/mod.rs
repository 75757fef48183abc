//! Raw dataset assets: the registry of every file the reference downloads, and fetching them into
//! the cache — resumable downloads from the original URLs, each verified against its checksum.
//!
//! ```no_run
//! use jukemir_datasets::assets::{cache_root, fetch_all, DownloadOptions, Downloader, Registry};
//! let assets = Registry::embedded().select(Some("gtzan"));
//! let downloader = Downloader::new(DownloadOptions::default());
//! for (asset, result) in fetch_all(&assets, &cache_root(), false, 4, &downloader, &()) {
//!     println!("{}: {:?}", asset.tag, result.map(|f| f.outcome));
//! }
//! ```

mod batch;
mod cache;
mod download;
mod error;
mod fetch;
mod progress;
mod registry;
mod verify;

pub use batch::fetch_all;
pub use cache::{cache_root, CACHE_ENV, DATASETS_DIR, PROBES_DIR, PROCESSED_DIR, REPRESENTATIONS_DIR};
pub use download::{part_path, DownloadOptions, Downloader};
pub use error::AssetError;
pub use fetch::{fetch, presence, Fetched, Outcome, Presence};
pub use progress::FetchProgress;
pub use registry::{Algorithm, Asset, Checksum, Registry, RegistryError, REGISTRY_ENV};
pub use verify::{check_file, file_digest};
