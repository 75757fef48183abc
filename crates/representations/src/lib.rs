//! The extract contract: a folder of audio in, a folder of `.npy` out, one float32 vector per file.
//!
//! Every representation plugs in through [`Representation`]; sharding, resuming, atomic writes and
//! failure reporting live in [`extract_folder`] so that they behave identically for all of them.

pub mod choi;
pub mod clmr;
pub mod extract;
pub mod handcrafted;
pub mod inputs;
pub mod jukebox;
pub mod moments;
pub mod musicnn;
pub mod npy_io;
pub mod pyrandom;
pub mod representation;
pub mod weights;

pub use extract::{extract_folder, ExtractError, ExtractOptions, ExtractProgress, ExtractReport, FailedFile, Quiet};
pub use inputs::{Batch, InputError, BATCH_INDEX_VARIABLES};
pub use representation::{
    representation, representation_with, BatchDependence, BatchFailure, Representation, UnknownRepresentation,
    AVAILABLE, NEED_WEIGHTS, NOT_YET_AVAILABLE,
};
pub use weights::WeightOptions;
