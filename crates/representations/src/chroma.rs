//! `chroma`: the paper's hand-made pitch-class baseline. The computation (librosa 0.8.1-exact) is
//! shared with `mfcc` in [`crate::handcrafted`]; this file is its entry in the registry.

use crate::handcrafted::{Handcrafted, HandcraftedFeature};
use crate::plugin::{cpu_only, no_options, Dim, Plugin, TaskResources, DEFAULT_TASK};

pub static PLUGIN: Plugin = Plugin {
    name: "chroma",
    about: "librosa 0.8.1 chroma_cqt, summarised over time (72 values)",
    help: "librosa 0.8.1 chroma_cqt (hop 512 at 22050 Hz), then mean and std of the 0th, 1st and 2nd time \
           differences of each row: 72 values",
    dim: Dim::Fixed(72),
    weights: None,
    in_paper: true,
    batch_dependence: None,
    options: no_options,
    task: |_| TaskResources { gpus: 0, time: "02:00:00", ..DEFAULT_TASK },
    uses_gpu: cpu_only,
    load: |_, _| Ok(Box::new(Handcrafted::new(HandcraftedFeature::Chroma))),
};
