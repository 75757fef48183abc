//! `mfcc`: the paper's hand-made timbre baseline. The computation (librosa 0.8.1-exact) is shared
//! with `chroma` in [`crate::handcrafted`]; this file is its entry in the registry.

use crate::handcrafted::{Handcrafted, HandcraftedFeature};
use crate::plugin::{cpu_only, no_options, Dim, Plugin, TaskResources, DEFAULT_TASK};

pub static PLUGIN: Plugin = Plugin {
    name: "mfcc",
    about: "librosa 0.8.1 MFCC, summarised over time (120 values)",
    help: "librosa 0.8.1 mfcc (20 coefficients, hop 512 at 22050 Hz), same statistics: 120 values",
    dim: Dim::Fixed(120),
    weights: None,
    in_paper: true,
    batch_dependence: None,
    options: no_options,
    task: |_| TaskResources { gpus: 0, time: "02:00:00", ..DEFAULT_TASK },
    uses_gpu: cpu_only,
    load: |_, _| Ok(Box::new(Handcrafted::new(HandcraftedFeature::Mfcc))),
};
