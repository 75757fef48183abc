//! The beginning of a long file plus one number about all of it, without holding all of it.
//!
//! The reference's jukebox container loads a whole file (`librosa.load` at 44.1 kHz), divides it by
//! its absolute peak, and keeps only the first 25 s. On a two-hour recording that is gigabytes of
//! samples for 25 s of use. [`load_head`] decodes, mixes and resamples the file piece by piece,
//! keeps the first samples and the running peak, and gives bit-identical results to loading the
//! whole file with [`crate::load`] and cutting it.

use std::path::Path;

use crate::audio::mix_to_mono;
use crate::load::{check_upsampling, non_finite, LoadOptions};
use crate::resample::{ResampleFilter, StreamingResampler};
use crate::sink::Sink;
use crate::{decode, divide_by_peak, Audio, AudioError};

/// The first samples of a loaded signal and facts about the whole of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// The first `keep` samples (fewer if the signal is shorter), mono, at the loaded rate.
    pub audio: Audio,
    /// `max |x|` over the whole loaded signal (what `np.abs(x).max()` gives).
    pub peak: f32,
    /// Length of the whole loaded signal, in samples.
    pub total_samples: u64,
}

impl Head {
    /// The head divided by the whole signal's peak, as [`crate::peak_normalize`] on the whole
    /// signal followed by the cut would give it.
    pub fn peak_normalized(mut self) -> Vec<f32> {
        divide_by_peak(&mut self.audio.samples, self.peak);
        self.audio.samples
    }
}

/// Loads a file like [`crate::load`] with `options` (which must ask for mono) but keeps only the
/// first `keep` samples of the result, and the absolute peak and length of all of it. Memory is
/// `keep` samples plus the decoder's and resampler's working buffers, whatever the file's length.
pub fn load_head(path: impl AsRef<Path>, options: &LoadOptions, keep: usize) -> Result<Head, AudioError> {
    let path = path.as_ref();
    options.validate(path)?;
    if !options.mono {
        return Err(AudioError::InvalidOptions {
            path: path.to_path_buf(),
            reason: "load_head keeps a mono signal; ask for mono".into(),
        });
    }
    let opened = decode::open(path)?;
    let native = opened.sample_rate();
    check_upsampling(path, native, options.sample_rate)?;
    let target = options.sample_rate.unwrap_or(native);
    let (start, frames) = options.frame_span(native);
    let resampler = if target == native {
        None
    } else {
        Some(
            StreamingResampler::new(native, target, ResampleFilter::KaiserBest)
                .map_err(|source| AudioError::Resample { path: path.to_path_buf(), source })?,
        )
    };
    let mut sink = HeadSink {
        channels: opened.channels(),
        resampler,
        start,
        frames_in: 0,
        non_finite_at: None,
        mono: Vec::new(),
        kept: Kept { keep, head: Vec::with_capacity(keep.min(1 << 24)), peak: 0.0, total: 0 },
    };
    opened.read_into(start, frames, &mut sink)?;
    if let Some(frame) = sink.non_finite_at {
        return Err(non_finite(path, frame));
    }
    let mut kept = sink.kept;
    if let Some(mut resampler) = sink.resampler {
        let tail = resampler.finish().map_err(|source| AudioError::Resample { path: path.to_path_buf(), source })?;
        kept.take(tail);
        // librosa pads resampy's output with zeros to ceil(len · ratio) samples.
        let padded = (resampler.received() as f64 * f64::from(target) / f64::from(native)).ceil() as u64;
        let zeros = padded.saturating_sub(kept.total);
        kept.total += zeros;
        let room = kept.keep.saturating_sub(kept.head.len());
        kept.head.resize(kept.head.len() + room.min(zeros as usize), 0.0);
    }
    Ok(Head { audio: Audio::mono(kept.head, target), peak: kept.peak, total_samples: kept.total })
}

struct Kept {
    keep: usize,
    head: Vec<f32>,
    peak: f32,
    total: u64,
}

impl Kept {
    fn take(&mut self, samples: &[f32]) {
        for &x in samples {
            self.peak = self.peak.max(x.abs());
        }
        let room = self.keep.saturating_sub(self.head.len());
        self.head.extend_from_slice(&samples[..room.min(samples.len())]);
        self.total += samples.len() as u64;
    }
}

struct HeadSink {
    channels: usize,
    resampler: Option<StreamingResampler>,
    start: u64,
    frames_in: u64,
    /// The first non-finite sample's frame: everything after it is ignored, the load fails.
    non_finite_at: Option<u64>,
    mono: Vec<f32>,
    kept: Kept,
}

impl Sink for HeadSink {
    fn put(&mut self, samples: &[f32]) {
        if self.non_finite_at.is_some() {
            return;
        }
        let ch = self.channels.max(1);
        if let Some(i) = samples.iter().position(|x| !x.is_finite()) {
            self.non_finite_at = Some(self.start + self.frames_in + (i / ch) as u64);
            return;
        }
        self.frames_in += (samples.len() / ch) as u64;
        self.mono.clear();
        mix_to_mono(samples, ch, &mut self.mono);
        match &mut self.resampler {
            Some(resampler) => self.kept.take(resampler.push(&self.mono)),
            None => self.kept.take(&self.mono),
        }
    }
}
