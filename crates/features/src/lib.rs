//! DSP features for jukemir, reproducing librosa 0.8.1 to within stated tolerances.
//!
//! The API follows librosa's shapes: spectrogram-like outputs are `(n_bins, n_frames)` arrays.

pub mod pad;
pub mod stft;
pub mod window;

pub use pad::PadMode;
pub use stft::{stft, Complex32, StftParams};
pub use window::Window;
