//! The pretrained networks behind the learned representations, in the style of
//! candle-transformers (one file per model: a `Config`, `load(vb)`, `forward`), and readers for
//! the formats their weights were published in.

pub mod choi;
pub mod jukebox;
pub mod keras_hdf5;
pub mod linalg;
pub mod musicnn;
pub mod sample_cnn;
pub mod tf_checkpoint;
pub mod torch_checkpoint;
pub mod torch_legacy;
