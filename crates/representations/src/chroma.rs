//! `chroma`: the paper's hand-made pitch-class baseline. The computation (librosa 0.8.1-exact) is
//! shared with `mfcc` in [`crate::handcrafted`]; this file is its entry in the registry.

use crate::handcrafted::{plugin, Handcrafted, HandcraftedFeature};
use crate::plugin::Plugin;

pub static PLUGIN: Plugin = plugin(
    "chroma",
    "librosa 0.8.1 chroma_cqt, summarised over time (72 values)",
    "librosa 0.8.1 chroma_cqt (hop 512 at 22050 Hz), then mean and std of the 0th, 1st and 2nd time \
     differences of each row: 72 values",
    72,
    |_, _| Ok(Box::new(Handcrafted::new(HandcraftedFeature::Chroma))),
);
