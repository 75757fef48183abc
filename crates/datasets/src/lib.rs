//! Datasets for jukemir. For now: the synthetic labelled set behind `jukemir demo`.

pub mod synthetic;
