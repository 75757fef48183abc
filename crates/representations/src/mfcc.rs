//! `mfcc`: the paper's hand-made timbre baseline. The computation (librosa 0.8.1-exact) is shared
//! with `chroma` in [`crate::handcrafted`]; this file is its entry in the registry.

use crate::handcrafted::{plugin, Handcrafted, HandcraftedFeature};
use crate::plugin::Plugin;

pub static PLUGIN: Plugin = plugin(
    "mfcc",
    "librosa 0.8.1 MFCC, summarised over time (120 values)",
    "librosa 0.8.1 mfcc (20 coefficients, hop 512 at 22050 Hz), same statistics: 120 values",
    120,
    |_, _| Ok(Box::new(Handcrafted::new(HandcraftedFeature::Mfcc))),
);
