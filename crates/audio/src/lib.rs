//! Audio input and output for jukemir.
//!
//! Everything the representations read goes through [`resample`] (a port of resampy 0.2.2, the
//! resampler behind `librosa.load` in librosa 0.8.1).

pub mod resample;

pub use resample::{librosa_resample, resample, ResampleError, ResampleFilter};
