//! The convnet of Choi, Fazekas, Sandler & Cho, "Transfer learning for music classification and
//! regression tasks" (ISMIR 2017), as keunwoochoi/transfer_learning_music runs it on Keras 1.2.2 +
//! Theano 0.9 with kapre's melgram front-end: a 512-point DFT as a strided convolution (hop 256),
//! power → 96 mel bands, decibels relative to the batch maximum, then five
//! conv 3×3 → batch norm → ELU → max-pool blocks. The representation is each block's output
//! averaged over mel and time, concatenated (5 × 32 = 160 values).
//!
//! Two things make this network unusual, and both are reproduced because the reference does them:
//! - **The batch matters.** The decibel reference is the maximum over the whole batch, and the
//!   batch norms run in Keras 1 "mode 2": they normalise with the statistics of the batch being
//!   computed, also at inference. So [`ChoiConvnet::forward_batch`] takes the whole batch.
//! - **Theano convolves.** Keras 1 on Theano calls `conv2d` with `filter_flip=True`, a true
//!   convolution: the stored kernels (DFT and 3×3 alike) are applied reversed, and `'same'` padding
//!   is Theano's `'half'` (256 zeros on each side of the signal, not TensorFlow's 208/208).
//!
//! Theano reduces float32 tensors with float64 accumulators, so the batch-norm statistics and the
//! averages here are accumulated in f64; everything else runs in f32 as the reference did.
//! `docs/choi.md` derives every rule from the reference's sources.

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::keras_hdf5::KerasWeights;
use crate::linalg::matmul;

/// The network's fixed hyper-parameters (those of the published weights).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub n_dft: usize,
    pub hop: usize,
    pub n_mels: usize,
    /// Channels of every conv block.
    pub channels: usize,
    /// Max-pool sizes (mel, time) of the five blocks; also the strides.
    pub pools: Vec<(usize, usize)>,
    /// Batch-norm epsilon (Keras 1's default).
    pub bn_eps: f64,
    /// Floor of the mel power before the logarithm, and the dynamic range kept below the batch max.
    pub amin: f32,
    pub dynamic_range_db: f32,
}

impl Config {
    /// The published model (`weights_layer4_theano.hdf5`).
    pub fn choi() -> Self {
        Config {
            n_dft: 512,
            hop: 256,
            n_mels: 96,
            channels: 32,
            pools: vec![(2, 4), (3, 4), (2, 5), (2, 4), (4, 4)],
            bn_eps: 1e-3,
            amin: 1e-10,
            dynamic_range_db: 80.0,
        }
    }

    /// Length of the representation: one average per channel per block.
    pub fn dim(&self) -> usize {
        self.channels * self.pools.len()
    }

    /// Frames of the melgram for `samples` input samples: Theano's `'half'` output length, cropped
    /// by Keras 1 to `ceil(samples / hop)` for even kernels.
    pub fn frames(&self, samples: usize) -> usize {
        let theano = samples / self.hop + 1;
        theano.min(samples.div_ceil(self.hop))
    }
}

/// One conv → BN → ELU → max-pool block.
#[derive(Debug, Clone)]
struct Block {
    cin: usize,
    /// The kernel reversed in both axes (Theano's flip made explicit), laid out per tap:
    /// `[3·i + j][out][in]`, so each tap is one GEMM's left operand.
    taps: Vec<f32>,
    bias: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    pool: (usize, usize),
}

/// A batch's per-item feature map `[channels, rows, cols]`, row-major.
#[derive(Debug, Clone)]
struct Map {
    data: Vec<f32>,
    channels: usize,
    rows: usize,
    cols: usize,
}

/// What [`ChoiConvnet::forward_batch`] computed.
#[derive(Debug, Clone)]
pub struct BatchOutput {
    /// One 160-value representation per input row, in input order.
    pub representations: Vec<Vec<f32>>,
    /// The batch's maximum log-mel value (dB) before it was subtracted.
    pub global_max_db: f32,
    /// Per block, per channel: the batch mean and biased variance the batch norm used.
    pub bn_stats: Vec<Vec<(f64, f64)>>,
    /// For the item asked for with `observe`: its log-mel `[96, T]` and each block's pooled output.
    pub observed: Option<Observed>,
}

#[derive(Debug, Clone)]
pub struct Observed {
    pub log_mel: Vec<f32>,
    /// `(data, [channels, rows, cols])` per block.
    pub pooled: Vec<(Vec<f32>, [usize; 3])>,
}

#[derive(Debug, Clone)]
pub struct ChoiConvnet {
    config: Config,
    /// `[n_dft][2·bins]`: row k holds tap `n_dft−1−k` (flipped), real parts then imaginary parts.
    dft: Vec<f32>,
    /// `[bins][n_mels]`, kapre's frequency → mel matrix.
    mel: Vec<f32>,
    blocks: Vec<Block>,
}

fn tensor_values(weights: &KerasWeights, layer: &str, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    let tensor = weights.weight(layer, name).with_context(|| {
        format!("the weight file has no {layer}/{name}: is it one of Choi's weights_layer*_theano.hdf5?")
    })?;
    if tensor.dims() != shape {
        bail!("{layer}/{name} has shape {:?}, expected {shape:?}", tensor.dims());
    }
    Ok(tensor.flatten_all()?.to_vec1::<f32>()?)
}

impl ChoiConvnet {
    /// Loads the published weights (`weights_layer4_theano.hdf5` holds all five blocks; the files
    /// for fewer layers hold the same values for the blocks they have).
    pub fn from_hdf5(path: &std::path::Path) -> Result<Self> {
        let weights = KerasWeights::open(path)?;
        Self::load(&weights, &Config::choi())
            .with_context(|| format!("cannot load the choi network from {}", path.display()))
    }

    pub fn load(weights: &KerasWeights, config: &Config) -> Result<Self> {
        let bins = config.n_dft / 2 + 1;
        let real = tensor_values(weights, "melgram", "param_0", &[config.n_dft, 1, 1, bins])?;
        let imag = tensor_values(weights, "melgram", "param_1", &[config.n_dft, 1, 1, bins])?;
        let mut dft = vec![0f32; config.n_dft * 2 * bins];
        for k in 0..config.n_dft {
            let tap = config.n_dft - 1 - k;
            let row = &mut dft[k * 2 * bins..(k + 1) * 2 * bins];
            row[..bins].copy_from_slice(&real[tap * bins..(tap + 1) * bins]);
            row[bins..].copy_from_slice(&imag[tap * bins..(tap + 1) * bins]);
        }
        let mel = tensor_values(weights, "melgram", "param_2", &[bins, config.n_mels])?;

        let c = config.channels;
        let mut blocks = Vec::with_capacity(config.pools.len());
        for (index, &pool) in config.pools.iter().enumerate() {
            let k = index + 1;
            let cin = if index == 0 { 1 } else { c };
            let layer = "ConvBNEluDr";
            let kernel = tensor_values(weights, layer, &format!("convolution2d_{k}_W"), &[c, cin, 3, 3])?;
            let mut taps = vec![0f32; 9 * c * cin];
            for o in 0..c {
                for ci in 0..cin {
                    for i in 0..3 {
                        for j in 0..3 {
                            let stored = kernel[((o * cin + ci) * 3 + (2 - i)) * 3 + (2 - j)];
                            taps[((3 * i + j) * c + o) * cin + ci] = stored;
                        }
                    }
                }
            }
            blocks.push(Block {
                cin,
                taps,
                bias: tensor_values(weights, layer, &format!("convolution2d_{k}_b"), &[c])?,
                gamma: tensor_values(weights, layer, &format!("batchnormalization_{k}_gamma"), &[c])?,
                beta: tensor_values(weights, layer, &format!("batchnormalization_{k}_beta"), &[c])?,
                pool,
            });
        }
        Ok(ChoiConvnet { config: config.clone(), dft, mel, blocks })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `10·log10(max(mel power, amin))` of one input row, `[n_mels, frames]`, before the batch
    /// maximum is subtracted.
    pub fn log_mel(&self, x: &[f32]) -> Vec<f32> {
        let cfg = &self.config;
        let bins = cfg.n_dft / 2 + 1;
        let frames = cfg.frames(x.len());
        let pad = cfg.n_dft / 2;
        let mut padded = vec![0f32; x.len() + 2 * pad];
        padded[pad..pad + x.len()].copy_from_slice(x);
        // Frame t reads padded[hop·t .. hop·t + n_dft]: one GEMM with a row stride of `hop`.
        let mut spectrum = vec![0f32; frames * 2 * bins];
        matmul(
            (frames, 2 * bins, cfg.n_dft),
            (&mut spectrum, 2 * bins),
            (&padded, cfg.hop, 1),
            (&self.dft, 2 * bins, 1),
            false,
            1,
        );
        let mut power = vec![0f32; frames * bins];
        for (p, s) in power.chunks_exact_mut(bins).zip(spectrum.chunks_exact(2 * bins)) {
            let (re, im) = s.split_at(bins);
            for ((p, &r), &i) in p.iter_mut().zip(re).zip(im) {
                *p = r * r + i * i;
            }
        }
        // mel^T [n_mels, frames] = param_2^T · power^T, written straight in the 'th' layout.
        let mut mel = vec![0f32; cfg.n_mels * frames];
        matmul((cfg.n_mels, frames, bins), (&mut mel, frames), (&self.mel, 1, cfg.n_mels), (&power, 1, bins), false, 1);
        for v in &mut mel {
            *v = (10.0 * f64::from(v.max(cfg.amin)).log10()) as f32;
        }
        mel
    }

    /// Runs a batch of equally long input rows (12 kHz audio, 348 000 samples in the reference) and
    /// returns one representation per row. `observe` keeps one item's intermediate maps.
    pub fn forward_batch(&self, inputs: &[&[f32]], observe: Option<usize>) -> Result<BatchOutput> {
        let cfg = &self.config;
        let Some(first) = inputs.first() else { bail!("empty batch") };
        if let Some(bad) = inputs.iter().position(|x| x.len() != first.len()) {
            bail!("batch rows must have one length: row 0 has {}, row {bad} has {}", first.len(), inputs[bad].len());
        }
        let frames = cfg.frames(first.len());
        let final_size = cfg.pools.iter().try_fold((cfg.n_mels, frames), |(h, w), &(ph, pw)| {
            let next = (h / ph, w / pw);
            (next.0 > 0 && next.1 > 0).then_some(next)
        });
        if final_size.is_none() {
            bail!("input rows of {} samples are too short for the five pooling stages", first.len());
        }

        let mut maps: Vec<Map> = inputs
            .par_iter()
            .map(|x| Map { data: self.log_mel(x), channels: 1, rows: cfg.n_mels, cols: frames })
            .collect();
        let global_max_db = maps.iter().flat_map(|m| m.data.iter().copied()).fold(f32::NEG_INFINITY, f32::max);
        maps.par_iter_mut().for_each(|m| {
            for v in &mut m.data {
                *v = (*v - global_max_db).max(-cfg.dynamic_range_db);
            }
        });
        let mut observed = observe
            .filter(|&i| i < inputs.len())
            .map(|i| Observed { log_mel: maps[i].data.clone(), pooled: Vec::new() });

        let mut representations = vec![Vec::with_capacity(cfg.dim()); inputs.len()];
        let mut bn_stats = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let stats = self.batch_statistics(block, &maps);
            let pooled: Vec<(Map, Vec<f32>)> =
                maps.par_iter().map(|m| self.normalise_and_pool(block, m, &stats)).collect();
            maps = Vec::with_capacity(pooled.len());
            for (item, (map, averages)) in pooled.into_iter().enumerate() {
                representations[item].extend(averages);
                if let Some(obs) = observed.as_mut().filter(|_| Some(item) == observe) {
                    obs.pooled.push((map.data.clone(), [map.channels, map.rows, map.cols]));
                }
                maps.push(map);
            }
            bn_stats.push(stats);
        }
        Ok(BatchOutput { representations, global_max_db, bn_stats, observed })
    }

    /// Per output channel: mean and biased variance of the block's convolution over the batch,
    /// rows and columns (Theano's `batch_normalization_train`, f64 accumulation).
    fn batch_statistics(&self, block: &Block, maps: &[Map]) -> Vec<(f64, f64)> {
        let c = self.config.channels;
        let sums = maps
            .par_iter()
            .map(|m| {
                let conv = convolve(block, m, c);
                let mut acc = vec![(0f64, 0f64); c];
                for (o, (s, q)) in acc.iter_mut().enumerate() {
                    for v in conv.valid(o) {
                        let v = f64::from(v);
                        *s += v;
                        *q += v * v;
                    }
                }
                acc
            })
            .reduce(
                || vec![(0f64, 0f64); c],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        x.0 += y.0;
                        x.1 += y.1;
                    }
                    a
                },
            );
        let count = maps.iter().map(|m| m.rows * m.cols).sum::<usize>() as f64;
        sums.into_iter()
            .map(|(s, q)| {
                let mean = s / count;
                (mean, (q / count - mean * mean).max(0.0))
            })
            .collect()
    }

    /// The block's output for one item, and its per-channel averages (global average pooling).
    fn normalise_and_pool(&self, block: &Block, map: &Map, stats: &[(f64, f64)]) -> (Map, Vec<f32>) {
        let c = self.config.channels;
        let conv = convolve(block, map, c);
        let (ph, pw) = block.pool;
        let (rows, cols) = (map.rows / ph, map.cols / pw);
        let mut out = vec![0f32; c * rows * cols];
        let mut averages = Vec::with_capacity(c);
        let mut normalised = vec![0f32; map.rows * map.cols];
        for (o, &(mean, var)) in stats.iter().enumerate() {
            let mean = mean as f32;
            let scale = block.gamma[o] * (1.0 / (var + self.config.bn_eps).sqrt()) as f32;
            for (n, v) in normalised.iter_mut().zip(conv.valid(o)) {
                let y = (v - mean) * scale + block.beta[o];
                *n = if y > 0.0 { y } else { y.exp_m1() };
            }
            let plane = &mut out[o * rows * cols..(o + 1) * rows * cols];
            let mut total = 0f64;
            for r in 0..rows {
                for col in 0..cols {
                    let mut best = f32::NEG_INFINITY;
                    for dr in 0..ph {
                        let line = &normalised[(r * ph + dr) * map.cols + col * pw..][..pw];
                        best = line.iter().copied().fold(best, f32::max);
                    }
                    plane[r * cols + col] = best;
                    total += f64::from(best);
                }
            }
            averages.push((total / (rows * cols) as f64) as f32);
        }
        (Map { data: out, channels: c, rows, cols }, averages)
    }
}

/// A 3×3 convolution's output on a grid two columns wider than the input (the two extra columns
/// are by-products of running each tap as one contiguous GEMM), bias included.
struct ConvOutput {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl ConvOutput {
    /// Channel `o`'s values at the valid positions, row by row.
    fn valid(&self, o: usize) -> impl Iterator<Item = f32> + '_ {
        let wide = self.cols + 2;
        let plane = &self.data[o * self.rows * wide..(o + 1) * self.rows * wide];
        plane.chunks_exact(wide).flat_map(move |row| row[..self.cols].iter().copied())
    }
}

/// Theano `'half'` 3×3 convolution (kernels already flipped) plus bias.
fn convolve(block: &Block, map: &Map, cout: usize) -> ConvOutput {
    let (h, w, cin) = (map.rows, map.cols, block.cin);
    debug_assert_eq!(map.channels, cin);
    let wide = w + 2;
    let plane = (h + 2) * wide;
    // Two spare zeros at the end: the last channel's bottom-right tap reads past its plane.
    let mut padded = vec![0f32; cin * plane + 2];
    for c in 0..cin {
        for r in 0..h {
            let src = &map.data[(c * h + r) * w..][..w];
            padded[c * plane + (r + 1) * wide + 1..][..w].copy_from_slice(src);
        }
    }
    let n = h * wide;
    let mut data = vec![0f32; cout * n];
    for i in 0..3 {
        for j in 0..3 {
            let tap = 3 * i + j;
            let lhs = &block.taps[tap * cout * cin..(tap + 1) * cout * cin];
            let rhs = &padded[i * wide + j..];
            matmul((cout, n, cin), (&mut data, n), (lhs, cin, 1), (rhs, plane, 1), tap > 0, 1);
        }
    }
    for (o, plane) in data.chunks_exact_mut(n).enumerate() {
        plane.iter_mut().for_each(|v| *v += block.bias[o]);
    }
    ConvOutput { data, rows: h, cols: w }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A network with the published shapes and deterministic pseudo-random weights.
    fn network() -> ChoiConvnet {
        let config = Config::choi();
        let mut state = 1u32;
        let mut next = move || {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let bins = config.n_dft / 2 + 1;
        let c = config.channels;
        let blocks = config
            .pools
            .iter()
            .enumerate()
            .map(|(i, &pool)| {
                let cin = if i == 0 { 1 } else { c };
                Block {
                    cin,
                    taps: (0..9 * c * cin).map(|_| next()).collect(),
                    bias: (0..c).map(|_| next()).collect(),
                    gamma: (0..c).map(|_| 1.0 + next()).collect(),
                    beta: (0..c).map(|_| next()).collect(),
                    pool,
                }
            })
            .collect();
        ChoiConvnet {
            dft: (0..config.n_dft * 2 * bins).map(|_| next()).collect(),
            mel: (0..bins * config.n_mels).map(|_| next().abs() * 0.05).collect(),
            blocks,
            config,
        }
    }

    #[test]
    fn frames_follow_theano_and_keras() {
        let config = Config::choi();
        assert_eq!(config.frames(348_000), 1360);
        assert_eq!(config.frames(24_000), 94);
        assert_eq!(config.frames(256), 1);
        assert_eq!(config.dim(), 160);
    }

    #[test]
    fn bad_batches_are_errors() {
        let net = network();
        assert!(net.forward_batch(&[], None).is_err());
        let (a, b) = (vec![0.1f32; 90_000], vec![0.1f32; 90_001]);
        assert!(net.forward_batch(&[&a, &b], None).unwrap_err().to_string().contains("one length"));
        let short = vec![0.1f32; 20_000];
        assert!(net.forward_batch(&[&short], None).unwrap_err().to_string().contains("too short"));
    }

    #[test]
    fn outputs_follow_their_rows_and_depend_on_the_batch() {
        let net = network();
        let rows: Vec<Vec<f32>> =
            (0..3).map(|k| (0..330_000).map(|i| ((i * (k + 2)) as f32 * 0.013).sin() * 0.3).collect()).collect();
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let out = net.forward_batch(&refs, Some(1)).unwrap();
        assert_eq!(out.representations.len(), 3);
        assert!(out.representations.iter().all(|r| r.len() == 160 && r.iter().all(|v| v.is_finite())));
        let observed = out.observed.unwrap();
        assert_eq!(observed.pooled.len(), 5);
        assert_eq!(observed.pooled[0].1, [32, 48, 322]); // 1290 frames
                                                         // The batch maximum is 0 dB after the shift.
        assert_eq!(out.global_max_db, refs.iter().flat_map(|r| net.log_mel(r)).fold(f32::MIN, f32::max));

        let swapped = net.forward_batch(&[refs[2], refs[0], refs[1]], None).unwrap().representations;
        for (a, b) in [(0, 1), (1, 2), (2, 0)] {
            let gap = out.representations[a].iter().zip(&swapped[b]).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            assert!(gap < 1e-5, "{gap}");
        }
        let alone = net.forward_batch(&refs[..1], None).unwrap().representations;
        let gap = out.representations[0].iter().zip(&alone[0]).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(gap > 1e-3, "batch statistics should matter: {gap}");
    }
}
