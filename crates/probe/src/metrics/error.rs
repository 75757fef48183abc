use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum MetricError {
    #[error("{what}: shapes {left:?} and {right:?} do not match")]
    Shape { what: &'static str, left: Vec<usize>, right: Vec<usize> },
    #[error("no examples to score")]
    Empty,
    /// scikit-learn returns NaN (with a warning) for R² of fewer than two samples.
    #[error("R² needs at least two samples, got {0}")]
    TooFewSamples(usize),
    /// scikit-learn raises "Only one class present in y_true" for ROC-AUC; see [`super::roc_auc`].
    #[error("label column {column} holds only one class; {metric} is not defined")]
    SingleClass { column: usize, metric: &'static str },
    #[error("target {value} in column {column} is neither 0 nor 1")]
    NotBinary { column: usize, value: u8 },
    #[error("label {label} is out of range for {classes} classes")]
    LabelOutOfRange { label: usize, classes: usize },
    #[error("score {value} in column {column} is not finite")]
    NonFinite { column: usize, value: f32 },
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("clip uid {0:?} is not of the form <song>-<clip>")]
    BadClipUid(String),
    #[error("song {song} has clips with different labels ({first} and {other})")]
    InconsistentSongLabel { song: String, first: usize, other: usize },
}
