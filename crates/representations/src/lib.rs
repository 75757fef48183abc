//! The extract contract: a folder of audio in, a folder of `.npy` out, one float32 vector per file.
//!
//! Every representation plugs in through [`Representation`] and its entry in the registry
//! ([`plugin::PLUGINS`]); sharding, resuming, atomic writes and
//! failure reporting live in [`extract_folder`] so that they behave identically for all of them.

pub mod choi;
pub mod chroma;
pub mod clmr;
pub mod extract;
pub mod handcrafted;
pub mod inputs;
pub mod jukebox;
pub mod mfcc;
pub mod moments;
pub mod musicnn;
pub mod npy_io;
pub mod plugin;
pub use jukemir_pycompat::pyrandom;
pub mod representation;
pub mod weights;

pub use extract::{extract_folder, ExtractError, ExtractOptions, ExtractProgress, ExtractReport, FailedFile, Quiet};
pub use inputs::{Batch, InputError, BATCH_INDEX_VARIABLES};
pub use plugin::{plugin, LoadContext, Plugin, PLUGINS};
pub use representation::{BatchDependence, BatchFailure, Representation};
