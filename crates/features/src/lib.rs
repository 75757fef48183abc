//! DSP features for jukemir, reproducing librosa 0.8.1 to within stated tolerances.
//!
//! The API follows librosa's shapes: spectrogram-like outputs are `(n_bins, n_frames)` arrays.

pub mod chroma;
pub mod convert;
pub mod cqt;
pub mod dct;
pub mod filters_cq;
pub mod mel;
pub mod mfcc;
pub mod normalize;
pub mod pad;
pub mod spectrum_db;
pub mod stft;
pub mod tuning;
pub mod window;

pub use chroma::{chroma_cqt, ChromaCqtParams, ChromaError};
pub use cqt::{cqt, CqtError, CqtParams};
pub use dct::{dct2, Dct2, DctNorm};
pub use filters_cq::{cq_to_chroma, CqFilterError};
pub use mel::{
    mel_filters, melspectrogram, FftPrecision, MelError, MelNorm, MelParams, MelSpectrogram, MelSpectrogramParams,
};
pub use mfcc::{mfcc, Mfcc, MfccError, MfccParams};
pub use normalize::{normalize_columns, Norm, NormalizeError};
pub use pad::PadMode;
pub use spectrum_db::{power_to_db, power_to_db_in_place, DbError, DbParams, DbRef};
pub use stft::{stft, Complex32, StftParams};
pub use tuning::{estimate_tuning, piptrack, pitch_tuning, PiptrackParams};
pub use window::Window;
