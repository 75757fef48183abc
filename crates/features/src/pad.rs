//! Edge padding with numpy's `np.pad` semantics, which librosa uses to centre frames.

/// How `np.pad` fills the edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadMode {
    /// `mode="reflect"`: mirror about the edge sample, without repeating it.
    Reflect,
    /// `mode="constant"`: zeros.
    Constant,
}

/// `np.pad(y, (before, after), mode)` for a 1-D signal.
///
/// Reflection wider than the signal keeps reflecting back and forth, as numpy does, so short
/// signals pad the same way as in librosa instead of panicking.
pub fn pad(y: &[f32], before: usize, after: usize, mode: PadMode) -> Vec<f32> {
    let n = y.len();
    let mut out = Vec::with_capacity(n + before + after);
    match mode {
        PadMode::Constant => {
            out.resize(before, 0.0);
            out.extend_from_slice(y);
            out.resize(before + n + after, 0.0);
        }
        PadMode::Reflect => {
            if n <= 1 {
                let v = y.first().copied().unwrap_or(0.0);
                out.resize(before + n + after, v);
                return out;
            }
            let period = 2 * (n - 1);
            let reflect = |i: isize| -> f32 {
                let m = i.rem_euclid(period as isize) as usize;
                y[if m < n { m } else { period - m }]
            };
            for i in 0..before {
                out.push(reflect(i as isize - before as isize));
            }
            out.extend_from_slice(y);
            for i in 0..after {
                out.push(reflect((n + i) as isize));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_numpy() {
        // np.pad([1,2,3], 2, mode="reflect") == [3,2,1,2,3,2,1]
        assert_eq!(pad(&[1.0, 2.0, 3.0], 2, 2, PadMode::Reflect), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
        // Wider than the signal: np.pad([1,2,3], 5, mode="reflect")
        assert_eq!(
            pad(&[1.0, 2.0, 3.0], 5, 5, PadMode::Reflect),
            vec![2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
        );
    }

    #[test]
    fn constant_pads_zeros() {
        assert_eq!(pad(&[1.0], 1, 2, PadMode::Constant), vec![0.0, 1.0, 0.0, 0.0]);
    }
}
