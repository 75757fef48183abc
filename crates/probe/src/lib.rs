//! Probes: how every representation is judged (the reference's `jukemir.probe`).
pub mod metrics;

pub mod adam;
pub mod atomic;
pub mod config;
pub mod cross_validation;
pub mod data;
pub mod denormals;
pub mod evaluate;
pub mod grid;
pub mod model;
pub mod report;
pub mod scaler;
pub mod svm;
pub mod synthetic;
pub mod train;
