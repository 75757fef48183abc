//! Where the readers put decoded samples: a `Vec` when the whole span is wanted, a streaming
//! consumer when only a summary of a long file is kept (see [`crate::load_head`]).

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
