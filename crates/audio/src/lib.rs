//! Audio input and output for jukemir.
//!
//! The representations must see the same samples the reference implementation saw, so loading
//! follows `librosa.load` from librosa 0.8.1 on top of soundfile/libsndfile step by step:
//! [`load`] decodes a span at the native rate ([`decode`]), averages channels like numpy, and
//! resamples with [`librosa_resample`] (a port of resampy 0.2.2). Decoding uses symphonia for
//! WAV/MP3/FLAC, lewton for Ogg Vorbis (driven like libsndfile drives libvorbis) and a hand-written
//! reader for Sun `.au` (GTZAN's format), with sample values scaled as libsndfile scales them.
//! [`write_wav_pcm16`] writes the 16-bit WAVs the reference produced with ffmpeg.

mod au;
mod audio;
mod decode;
mod error;
mod fft_resample;
mod head;
mod load;
mod media;
pub use jukemir_pycompat::numpy;
pub mod resample;
mod sink;
mod vorbis;
mod wav;

pub use audio::Audio;
pub use decode::{decode, decoded_length, probe, AudioInfo};
pub use error::AudioError;
pub use fft_resample::{fft_resample, librosa040_resample};
pub use head::{load_head, Head};
pub use load::{divide_by_peak, load, peak_normalize, LoadOptions};
pub use resample::{librosa_resample, resample, ResampleError, ResampleFilter, StreamingResampler};
pub use wav::{f32_to_i16, write_wav_pcm16};
