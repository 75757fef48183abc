//! Where the readers put decoded samples: a `Vec` when the whole span is wanted, a streaming
//! consumer when only a summary of a long file is kept (see [`crate::load_head`]).

/// Pre-allocation cap (samples): header frame counts can be bogus, so a span grows beyond this on
/// demand instead of trusting them.
const MAX_PREALLOC_SAMPLES: u64 = 1 << 24;

/// An empty buffer with room for frames `[start, start + max_frames)` of a stream whose header
/// announces `known_frames`, up to [`MAX_PREALLOC_SAMPLES`].
pub(crate) fn span_buffer(known_frames: Option<u64>, start: u64, max_frames: Option<u64>, channels: usize) -> Vec<f32> {
    let frames = max_frames.unwrap_or(u64::MAX).min(known_frames.unwrap_or(0).saturating_sub(start));
    Vec::with_capacity(frames.saturating_mul(channels as u64).min(MAX_PREALLOC_SAMPLES) as usize)
}

/// Receives interleaved samples, always whole frames at a time.
pub(crate) trait Sink {
    fn put(&mut self, samples: &[f32]);

    fn put_zeros(&mut self, count: usize) {
        const ZEROS: [f32; 1024] = [0.0; 1024];
        let mut left = count;
        while left > 0 {
            let n = left.min(ZEROS.len());
            self.put(&ZEROS[..n]);
            left -= n;
        }
    }
}

impl Sink for Vec<f32> {
    fn put(&mut self, samples: &[f32]) {
        self.extend_from_slice(samples);
    }

    fn put_zeros(&mut self, count: usize) {
        self.resize(self.len() + count, 0.0);
    }
}
