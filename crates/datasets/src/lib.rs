//! Datasets for jukemir: raw assets → `processed/<dataset>/{meta.json, wav/}` exactly as the
//! reference does it, plus the synthetic labelled set behind `jukemir demo`.

pub mod archive;
pub mod assets;
pub mod precomputed;
pub mod process;
pub mod synthetic;
