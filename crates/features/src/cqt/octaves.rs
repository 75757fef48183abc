//! The octaves of librosa's recursive CQT: for each, whether its signal is the previous one
//! halved, its hop, and its (rescaled) filter basis.

use super::basis::{cqt_filter_fft, FftBasis};
use crate::filters_cq::CqFilterError;

/// What the recursion starts from (after any early downsampling).
pub(crate) struct OctaveSpec {
    pub sr: f64,
    pub hop: usize,
    /// Lowest frequency of the top octave.
    pub fmin_top: f64,
    pub n_octaves: usize,
    /// Bins per octave actually computed (`min(bins_per_octave, n_bins)`).
    pub n_filters: usize,
    pub bins_per_octave: usize,
    pub filter_scale: f64,
    pub sparsity: f64,
}

/// One octave of the recursion, top octave first.
pub(crate) struct Octave {
    pub halve_first: bool,
    pub hop: usize,
    pub basis: FftBasis,
}

pub(crate) enum OctavePlanError {
    Filter(CqFilterError),
    HopNotDivisible,
}

impl From<CqFilterError> for OctavePlanError {
    fn from(e: CqFilterError) -> Self {
        OctavePlanError::Filter(e)
    }
}

/// The octaves as `vqt` iterates them. With `full_rate_top` the top octave is filtered at the
/// original rate and the halving loop starts one octave lower (librosa's kaiser_best branch).
pub(crate) fn plan_octaves(spec: &OctaveSpec, full_rate_top: bool) -> Result<Vec<Octave>, OctavePlanError> {
    let OctaveSpec { sr, hop, n_filters, bins_per_octave: bpo, filter_scale, sparsity, .. } = *spec;
    let mut octaves = Vec::with_capacity(spec.n_octaves);
    let mut fmin_top = spec.fmin_top;
    let mut remaining = spec.n_octaves;
    if full_rate_top {
        let basis = cqt_filter_fft(sr, fmin_top, n_filters, bpo, filter_scale, sparsity)?;
        octaves.push(Octave { halve_first: false, hop, basis });
        fmin_top /= 2.0;
        remaining -= 1;
    }
    if (hop.trailing_zeros() as usize) + 1 < remaining {
        return Err(OctavePlanError::HopNotDivisible);
    }
    let mut previous: Option<(f64, f64, FftBasis)> = None;
    for i in 0..remaining {
        let (my_sr, my_fmin) = (sr / 2f64.powi(i as i32), fmin_top * 2f64.powi(-(i as i32)));
        // Halving both sr and fmin scales every quantity in constant_q by an exact power of two,
        // so each octave's unscaled basis is bit-identical to the one above: build it once.
        let base = match previous.take() {
            Some((s, f, basis)) if s == my_sr * 2.0 && f == my_fmin * 2.0 => basis,
            _ => cqt_filter_fft(my_sr, my_fmin, n_filters, bpo, filter_scale, sparsity)?,
        };
        // librosa compensates the downsampling gain with `fft_basis *= sqrt(2**i)`.
        let sparse = base.sparse.scaled(2f64.powi(i as i32).sqrt());
        octaves.push(Octave { halve_first: i > 0, hop: hop >> i, basis: FftBasis { sparse, ..base.clone() } });
        previous = Some((my_sr, my_fmin, base));
    }
    Ok(octaves)
}
