//! The top prior's `LabelConditioner` for the labels the reference uses: artist and genre
//! "unknown" (id 0, the other genre slots empty), total length 62 s, offset 0.
//!
//! The start embedding `y_cond` replaces position 0 of the code embeddings; the timing embedding
//! `x_cond` is added at every position. Its bins come from float32 arithmetic on positions
//! (`RangeEmbedding.forward`), which is repeated here operation by operation so that every bin
//! equals the reference's, boundaries included.

use super::{read_shaped, TensorSource};
use anyhow::{bail, Result};

/// The label conditioner's hparams and the label row it is given.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditioningConfig {
    /// Width of the embeddings (the prior's width).
    pub width: usize,
    /// Positions of the context (codes).
    pub n_ctx: usize,
    /// `(genres, artists)` embedding rows.
    pub y_bins: (usize, usize),
    /// Bins of each timing embedding.
    pub t_bins: usize,
    /// Genre slots in the label row.
    pub max_bow_genre_size: usize,
    pub sample_rate: f64,
    pub min_duration: f64,
    pub max_duration: f64,
    /// Samples per code at this level (128 at level 2).
    pub raw_to_tokens: usize,
    /// The label row's total length, in samples: the reference's `(62·44100 // 128)·128`.
    pub total_length: usize,
    /// The label row's offset, in samples (0 in the reference).
    pub offset: usize,
    pub artist: usize,
    pub genre: usize,
}

impl ConditioningConfig {
    /// The 5B top prior with the reference container's labels.
    pub fn jukebox_5b() -> Self {
        ConditioningConfig {
            width: 4800,
            n_ctx: 8192,
            y_bins: (120, 4111),
            t_bins: 128,
            max_bow_genre_size: 5,
            sample_rate: 44100.0,
            min_duration: 60.0,
            max_duration: 600.0,
            raw_to_tokens: 128,
            total_length: (62 * 44100) / 128 * 128,
            offset: 0,
            artist: 0,
            genre: 0,
        }
    }

    /// Samples the context covers: `n_ctx · raw_to_tokens`.
    pub fn sample_length(&self) -> usize {
        self.n_ctx * self.raw_to_tokens
    }
}

/// `RangeEmbedding`'s bin for each of `n_time` positions interpolated over `[start, end)`, in the
/// reference's float32 steps.
fn range_bins(n_time: usize, bins: usize, range: (f64, f64), start: f32, end: Option<f32>, clamp: bool) -> Vec<i64> {
    let (min, max) = range;
    let end = end.map(|e| if clamp { e.clamp(min as f32, max as f32) } else { e });
    let span = (max - min) as f32;
    (0..n_time)
        .map(|i| {
            let position = match (n_time, end) {
                (1, _) | (_, None) => start,
                (n, Some(end)) => {
                    let interpolation = i as f32 / n as f32;
                    start + (end - start) * interpolation
                }
            };
            let normalised = (position - min as f32) / span;
            (bins as f32 * normalised).floor() as i64
        })
        .collect()
}

/// The conditioning of the prior's input.
#[derive(Debug, Clone)]
pub struct Conditioning {
    /// `[width]`: genre + artist embedding, placed at position 0.
    pub start: Vec<f32>,
    /// `[n_ctx, width]`: total-length + absolute + relative position embeddings.
    pub positions: Vec<f32>,
}

impl Conditioning {
    /// Reads `y_emb.*` and builds both embeddings for the labels in `config`.
    pub fn load(source: &dyn TensorSource, config: &ConditioningConfig) -> Result<Self> {
        let w = config.width;
        let (genres, artists) = config.y_bins;
        if config.artist >= artists || config.genre >= genres {
            bail!(
                "artist {} / genre {} outside the embeddings' {artists} / {genres} rows",
                config.artist,
                config.genre
            );
        }
        let row = |name: &str, rows: usize, index: usize| -> Result<Vec<f32>> {
            let table = read_shaped(source, &format!("y_emb.{name}.emb.weight"), &[rows, w])?;
            Ok(table[index * w..(index + 1) * w].to_vec())
        };
        // (genre slot 0 · 1 + empty slots · 0, summed) + artist; adding the zeros changes nothing.
        let genre = row("bow_genre_emb", genres, config.genre)?;
        let artist = row("artist_emb", artists, config.artist)?;
        let start = genre.iter().zip(&artist).map(|(g, a)| g + a).collect();

        let t = config.t_bins;
        let sr = config.sample_rate;
        let total = config.total_length as f32;
        let offset = config.offset as f32;
        let end = (config.offset + config.sample_length()) as f32;
        let n = config.n_ctx;
        let duration = (config.min_duration * sr, config.max_duration * sr);
        let total_bin = range_bins(1, t, duration, total, None, false)[0];
        let absolute = range_bins(n, t, (0.0, config.max_duration * sr), offset, Some(end), false);
        let relative = range_bins(n, t, (0.0, 1.0), offset / total, Some(end / total), true);
        let in_range = |b: i64| usize::try_from(b).ok().filter(|&b| b < t);
        let Some(total_bin) = in_range(total_bin) else {
            bail!("total length {} samples is outside the conditioner's range {duration:?}", config.total_length)
        };
        let tables = ["total_length_emb", "absolute_pos_emb", "relative_pos_emb"]
            .map(|name| read_shaped(source, &format!("y_emb.{name}.emb.weight"), &[t, w]));
        let [total_table, absolute_table, relative_table] = tables;
        let (total_table, absolute_table, relative_table) = (total_table?, absolute_table?, relative_table?);
        let total_row = &total_table[total_bin * w..(total_bin + 1) * w];
        let mut positions = vec![0f32; n * w];
        for (i, out) in positions.chunks_exact_mut(w).enumerate() {
            let (Some(a), Some(r)) = (in_range(absolute[i]), in_range(relative[i])) else {
                bail!("position {i} falls outside the timing embeddings (bins {} / {})", absolute[i], relative[i]);
            };
            let (a, r) = (&absolute_table[a * w..(a + 1) * w], &relative_table[r * w..(r + 1) * w]);
            for (j, o) in out.iter_mut().enumerate() {
                *o = (total_row[j] + a[j]) + r[j];
            }
        }
        Ok(Conditioning { start, positions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_of_the_5b_prior_follow_the_integer_formulas() {
        // docs/jukebox.md §4: the float32 path gives floor(16384·i/26460000) and floor(8·i/1335).
        let c = ConditioningConfig::jukebox_5b();
        let sr = c.sample_rate;
        let end = c.sample_length() as f32;
        let total = c.total_length as f32;
        let absolute = range_bins(c.n_ctx, 128, (0.0, 600.0 * sr), 0.0, Some(end), false);
        let relative = range_bins(c.n_ctx, 128, (0.0, 1.0), 0.0, Some(end / total), true);
        for i in 0..c.n_ctx {
            assert_eq!(absolute[i], (16384 * i / 26_460_000) as i64, "absolute {i}");
            assert_eq!(relative[i], (8 * i / 1335) as i64, "relative {i}");
        }
        assert_eq!(range_bins(1, 128, (60.0 * sr, 600.0 * sr), total, None, false), vec![0]);
        assert_eq!(c.total_length, 2_734_080);
    }
}
