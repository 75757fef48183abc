//! The decoded-audio value passed between decoding, loading and writing.

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
    out.extend(samples.chunks_exact(channels).map(|frame| numpy_pairwise_sum(frame) / n));
}

/// numpy's `float32` pairwise summation (`FLOAT_pairwise_sum`): a plain running sum from 0 below 8
/// terms, eight interleaved partial sums combined as a tree up to 128, halving beyond. Matching
/// it matters because channel counts >= 3 round differently under any other order.
fn numpy_pairwise_sum(a: &[f32]) -> f32 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0f32;
        for &x in a {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f32; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_pairwise_sum(&a[..n2]) + numpy_pairwise_sum(&a[n2..])
    }
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
    fn eight_channels_use_the_tree() {
        let x: Vec<f32> = (0..8).map(|i| 1.0 + i as f32 * 1e-7).collect();
        let tree = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
        assert_eq!(numpy_pairwise_sum(&x), tree);
    }

    #[test]
    fn channels_round_trip() {
        let a = Audio::from_channels(&[vec![1.0, 2.0], vec![3.0, 4.0]], 8000);
        assert_eq!(a.samples, vec![1.0, 3.0, 2.0, 4.0]);
        assert_eq!(a.channel(0), vec![1.0, 2.0]);
    }
}
