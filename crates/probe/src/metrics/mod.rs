//! The task metrics of the reference's `ProbeExperiment.eval`, each equal to its scikit-learn /
//! mir_eval / numpy counterpart (parity: `tests/metrics_parity.rs`).
//!
//! | dataset            | reference                                              | here |
//! |--------------------|--------------------------------------------------------|------|
//! | gtzan_ff, test     | `argmax(logits) == y` mean                             | [`accuracy`] |
//! | magnatagatune      | `roc_auc_score` / `average_precision_score`, macro, on `sigmoid(logits)` | [`roc_auc_macro`], [`average_precision_macro`] |
//! | emomusic           | `r2_score` (uniform, then arousal and valence alone)   | [`r2`] |
//! | giantsteps_clips   | song-level ensembles scored by `mir_eval.key.weighted_score` | [`ensemble`], [`key_weighted_score`] |

mod classification;
pub mod ensemble;
mod error;
mod key;
mod ranking;
mod regression;

pub use classification::{accuracy, argmax};
pub use error::MetricError;
pub use key::{key_weighted_score, Key, Mode, GIANTSTEPS_KEYS};
pub use ranking::{average_precision, average_precision_macro, roc_auc, roc_auc_macro};
pub use regression::{r2, R2};
