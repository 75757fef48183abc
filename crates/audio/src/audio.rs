//! The decoded-audio value passed between decoding, loading and writing.

use crate::numpy::pairwise_sum;

/// Decoded PCM as `f32`, interleaved frame by frame (`[l0, r0, l1, r1, ...]`).
///
/// Interleaved because that is how every decoder and WAV writer produces and consumes frames, and
/// mono (the main path) is then just `channels == 1` with no second representation to keep in sync.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Interleaved samples; `samples.len() == frames() * channels`.
    pub samples: Vec<f32>,
    /// Frames per second.
    pub sample_rate: u32,
    /// Samples per frame (at least 1).
    pub channels: usize,
}

impl Audio {
    /// A one-channel signal, the shape every representation consumes.
    pub fn mono(samples: Vec<f32>, sample_rate: u32) -> Self {
        Audio { samples, sample_rate, channels: 1 }
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1)
    }

    /// Whether there is no audio at all.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }

    /// One channel de-interleaved (needed because resampling works per channel).
    pub fn channel(&self, index: usize) -> Vec<f32> {
        assert!(index < self.channels, "channel {index} out of range ({} channels)", self.channels);
        self.samples.iter().skip(index).step_by(self.channels).copied().collect()
    }

    /// The per-frame channel mean, bit-identical to librosa 0.8.1's `to_mono`
    /// (`np.mean(y, axis=0)` on a Fortran-ordered `float32` array).
    pub fn to_mono(&self) -> Vec<f32> {
        if self.channels <= 1 {
            return self.samples.clone();
        }
        let mut mono = Vec::with_capacity(self.frames());
        mix_to_mono(&self.samples, self.channels, &mut mono);
        mono
    }

    /// Consumes the audio and returns it downmixed to one channel.
    pub fn into_mono(self) -> Audio {
        if self.channels <= 1 {
            return self;
        }
        let samples = self.to_mono();
        Audio { samples, sample_rate: self.sample_rate, channels: 1 }
    }

    /// Builds interleaved audio from equally long per-channel signals.
    pub fn from_channels(channels: &[Vec<f32>], sample_rate: u32) -> Self {
        let n_ch = channels.len().max(1);
        let frames = channels.iter().map(Vec::len).min().unwrap_or(0);
        let mut samples = Vec::with_capacity(frames * n_ch);
        for i in 0..frames {
            samples.extend(channels.iter().map(|c| c[i]));
        }
        Audio { samples, sample_rate, channels: n_ch }
    }
}

/// Appends the per-frame channel mean of interleaved `samples` to `out` (see [`Audio::to_mono`]).
pub(crate) fn mix_to_mono(samples: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(samples);
        return;
    }
    let n = channels as f32;
    out.extend(samples.chunks_exact(channels).map(|frame| pairwise_sum(frame) / n));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_mean_is_half_sum() {
        let a = Audio { samples: vec![1.0, 0.5, -1.0, 0.25], sample_rate: 10, channels: 2 };
        assert_eq!(a.frames(), 2);
        assert_eq!(a.to_mono(), vec![0.75, -0.375]);
        assert_eq!(a.channel(1), vec![0.5, 0.25]);
    }

    #[test]
    fn three_channels_sum_left_to_right() {
        // (a + b) + c differs from a + (b + c) here; numpy sums left to right from 0.
        let (a, b, c) = (1.0f32, 1e-8f32, 1e-8f32);
        let audio = Audio { samples: vec![a, b, c], sample_rate: 1, channels: 3 };
        assert_eq!(audio.to_mono()[0], ((a + b) + c) / 3.0);
    }

    #[test]
    fn channels_round_trip() {
        let a = Audio::from_channels(&[vec![1.0, 2.0], vec![3.0, 4.0]], 8000);
        assert_eq!(a.samples, vec![1.0, 3.0, 2.0, 4.0]);
        assert_eq!(a.channel(0), vec![1.0, 2.0]);
    }
}
