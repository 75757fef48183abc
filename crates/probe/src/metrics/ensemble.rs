//! giantsteps_clips: clip logits pooled into song-level key predictions, as the reference's
//! `ProbeExperiment.eval` does, then scored with accuracy and the MIREX weighted key score.

use std::collections::BTreeMap;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::classification::argmax;
use super::key::{Key, GIANTSTEPS_KEYS};
use super::MetricError;

/// How clips are pooled into one song prediction. [`Strategy::ALL`] is the reference's order,
/// which breaks ties when choosing the best strategy on valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Most frequent clip argmax; ties go to the smallest class index (`scipy.stats.mode`).
    Vote,
    /// Argmax of the elementwise maximum of the clip logits.
    Max,
    /// Argmax of the mean clip logits (the reference calls it "gmean": a geometric mean of the
    /// softmax probabilities up to normalisation).
    Gmean,
    /// Argmax of the mean clip softmax probabilities.
    Mean,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::Vote, Strategy::Max, Strategy::Gmean, Strategy::Mean];

    /// The reference's name, as in its metric keys `ensemble_<name>_score`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Vote => "vote",
            Strategy::Max => "max",
            Strategy::Gmean => "gmean",
            Strategy::Mean => "mean",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Row-wise softmax in float32 like the reference's `F.softmax` on float32 logits.
pub fn softmax_f32(logits: ArrayView2<f32>) -> Array2<f32> {
    let mut out = logits.to_owned();
    for mut row in out.rows_mut() {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        row.mapv_inplace(|v| (v - max).exp());
        let sum: f32 = row.iter().sum();
        row.mapv_inplace(|v| v / sum);
    }
    out
}

/// numpy's `x[idxs].mean(axis=0)` on float32: row after row in float32, then one float32 division
/// (argmax ties at the last ulp depend on it).
fn mean_f32(rows: &[ArrayView1<f32>]) -> Array1<f32> {
    let mut acc = rows[0].to_owned();
    for r in &rows[1..] {
        acc += r;
    }
    acc.mapv(|v| v / rows.len() as f32)
}

fn vote(preds: &[usize], classes: usize) -> usize {
    let mut counts = vec![0usize; classes];
    for &p in preds {
        counts[p] += 1;
    }
    // max_by_key returns the last maximum; search for the first instead (smallest index).
    let best = counts.iter().copied().max().unwrap_or(0);
    counts.iter().position(|&c| c == best).unwrap_or(0)
}

/// Songs (sorted by song uid, as the reference does), their labels and each strategy's predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct SongLevel {
    pub songs: Vec<String>,
    pub labels: Vec<usize>,
    predictions: [Vec<usize>; 4],
}

impl SongLevel {
    pub fn predictions(&self, strategy: Strategy) -> &[usize] {
        &self.predictions[strategy.index()]
    }
}

/// Clips `<song>-<clip>` grouped by song (sorted by song uid, as the reference does), with each
/// song's label: computed once per split, then used at every evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct SongGroups {
    pub songs: Vec<String>,
    pub labels: Vec<usize>,
    /// Per song, its clips' rows in input order (it only matters to float32 sums at the last ulp).
    clips: Vec<Vec<usize>>,
    /// Clips in the split.
    len: usize,
}

impl SongGroups {
    pub fn new<S: AsRef<str>>(uids: &[S], labels: &[usize], classes: usize) -> Result<Self, MetricError> {
        if uids.len() != labels.len() {
            return Err(MetricError::Shape {
                what: "uids and labels",
                left: vec![uids.len()],
                right: vec![labels.len()],
            });
        }
        if uids.is_empty() || classes == 0 {
            return Err(MetricError::Empty);
        }
        let mut songs: BTreeMap<&str, (usize, Vec<usize>)> = BTreeMap::new();
        for (i, (uid, &label)) in uids.iter().zip(labels).enumerate() {
            let uid = uid.as_ref();
            if label >= classes {
                return Err(MetricError::LabelOutOfRange { label, classes });
            }
            // Python's `song, _ = uid.split("-")`: exactly one dash.
            let song = match uid.split('-').collect::<Vec<_>>()[..] {
                [song, _] => song,
                _ => return Err(MetricError::BadClipUid(uid.to_owned())),
            };
            let entry = songs.entry(song).or_insert((label, Vec::new()));
            if entry.0 != label {
                return Err(MetricError::InconsistentSongLabel { song: song.to_owned(), first: entry.0, other: label });
            }
            entry.1.push(i);
        }
        let mut out = Self { songs: Vec::new(), labels: Vec::new(), clips: Vec::new(), len: uids.len() };
        for (song, (label, clips)) in songs {
            out.songs.push(song.to_owned());
            out.labels.push(label);
            out.clips.push(clips);
        }
        Ok(out)
    }

    /// Every strategy's song predictions from the clips' logits and their softmax.
    fn pool(&self, logits: ArrayView2<f32>, probs: ArrayView2<f32>) -> Result<SongLevel, MetricError> {
        let (n, classes) = logits.dim();
        if n != self.len {
            return Err(MetricError::Shape { what: "uids vs logits rows", left: vec![self.len], right: vec![n] });
        }
        let clip_preds: Vec<usize> = logits.rows().into_iter().map(|r| argmax(r).unwrap_or(0)).collect();
        let mut out =
            SongLevel { songs: self.songs.clone(), labels: self.labels.clone(), predictions: Default::default() };
        for idxs in &self.clips {
            let song_logits: Vec<_> = idxs.iter().map(|&i| logits.index_axis(Axis(0), i)).collect();
            let song_probs: Vec<_> = idxs.iter().map(|&i| probs.index_axis(Axis(0), i)).collect();
            let song_preds: Vec<usize> = idxs.iter().map(|&i| clip_preds[i]).collect();
            let max = song_logits[1..].iter().fold(song_logits[0].to_owned(), |acc, r| {
                let mut acc = acc;
                acc.zip_mut_with(r, |a, &b| *a = a.max(b));
                acc
            });
            let pooled = [
                vote(&song_preds, classes),
                argmax(max.view()).unwrap_or(0),
                argmax(mean_f32(&song_logits).view()).unwrap_or(0),
                argmax(mean_f32(&song_probs).view()).unwrap_or(0),
            ];
            for (s, p) in pooled.into_iter().enumerate() {
                out.predictions[s].push(p);
            }
        }
        Ok(out)
    }
}

/// Groups clips `<song>-<clip>` by song and pools them with every [`Strategy`].
pub fn song_level<S: AsRef<str>>(
    uids: &[S],
    logits: ArrayView2<f32>,
    labels: &[usize],
) -> Result<SongLevel, MetricError> {
    let (n, classes) = logits.dim();
    if uids.len() != n || labels.len() != n {
        return Err(MetricError::Shape {
            what: "uids, logits rows and labels",
            left: vec![uids.len(), n],
            right: vec![labels.len()],
        });
    }
    SongGroups::new(uids, labels, classes)?.pool(logits, softmax_f32(logits).view())
}

/// Accuracy and mean MIREX weighted score of class-index predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub accuracy: f64,
    pub score: f64,
}

fn score_predictions(preds: &[usize], labels: &[usize], keys: &[Key]) -> Scored {
    let n = preds.len() as f64;
    let correct = preds.iter().zip(labels).filter(|(p, l)| p == l).count() as f64;
    let score: f64 = preds.iter().zip(labels).map(|(&p, &l)| keys[l].weighted_score(keys[p])).sum();
    Scored { accuracy: correct / n, score: score / n }
}

/// The reference's giantsteps_clips metrics of one split: `clip_*` and `ensemble_<strategy>_*`.
#[derive(Debug, Clone, PartialEq)]
pub struct GiantstepsMetrics {
    pub clip: Scored,
    ensembles: [Scored; 4],
    pub song_level: SongLevel,
}

impl GiantstepsMetrics {
    pub fn ensemble(&self, strategy: Strategy) -> Scored {
        self.ensembles[strategy.index()]
    }

    /// The strategy with the highest score, the first in [`Strategy::ALL`] on ties; the reference
    /// picks it on the valid split and reports that strategy's `accuracy` and `score` for every split.
    pub fn best_strategy(&self) -> Strategy {
        let mut best = Strategy::Vote;
        let mut best_score = f64::NEG_INFINITY;
        for s in Strategy::ALL {
            if self.ensemble(s).score > best_score {
                best = s;
                best_score = self.ensemble(s).score;
            }
        }
        best
    }
}

/// Scores one giantsteps_clips split: `logits` (clips, 24) in [`GIANTSTEPS_KEYS`] order.
pub fn giantsteps_metrics<S: AsRef<str>>(
    uids: &[S],
    logits: ArrayView2<f32>,
    labels: &[usize],
) -> Result<GiantstepsMetrics, MetricError> {
    let n = logits.nrows();
    if uids.len() != n || labels.len() != n {
        return Err(MetricError::Shape {
            what: "uids, logits rows and labels",
            left: vec![uids.len(), n],
            right: vec![labels.len()],
        });
    }
    giantsteps_metrics_of(&SongGroups::new(uids, labels, logits.ncols())?, logits, labels)
}

/// [`giantsteps_metrics`] with the songs grouped beforehand (`labels` are the clips' labels).
pub fn giantsteps_metrics_of(
    groups: &SongGroups,
    logits: ArrayView2<f32>,
    labels: &[usize],
) -> Result<GiantstepsMetrics, MetricError> {
    if logits.ncols() != GIANTSTEPS_KEYS.len() {
        return Err(MetricError::Shape {
            what: "logits columns vs the 24 keys",
            left: logits.shape().to_vec(),
            right: vec![GIANTSTEPS_KEYS.len()],
        });
    }
    let keys: Vec<Key> = GIANTSTEPS_KEYS.iter().map(|k| k.parse()).collect::<Result<_, _>>()?;
    let probs = softmax_f32(logits);
    let song_level = groups.pool(logits, probs.view())?;
    // The reference scores clips by the argmax of their probabilities, not of their logits.
    let clip_preds: Vec<usize> = probs.rows().into_iter().map(|r| argmax(r).unwrap_or(0)).collect();
    let clip = score_predictions(&clip_preds, labels, &keys);
    let ensembles = Strategy::ALL.map(|s| score_predictions(song_level.predictions(s), &song_level.labels, &keys));
    Ok(GiantstepsMetrics { clip, ensembles, song_level })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn vote_ties_go_to_the_smallest_class() {
        assert_eq!(vote(&[3, 1, 3, 1], 4), 1);
        assert_eq!(vote(&[2], 4), 2);
    }

    #[test]
    fn uids_need_exactly_one_dash() {
        let l = array![[0.0f32, 1.0]];
        assert!(song_level(&["a-b-c"], l.view(), &[0]).is_err());
        assert!(song_level(&["abc"], l.view(), &[0]).is_err());
        assert_eq!(song_level(&["abc-0"], l.view(), &[0]).unwrap().songs, ["abc"]);
    }
}
