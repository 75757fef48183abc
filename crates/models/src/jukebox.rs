//! OpenAI's Jukebox (Dhariwal et al. 2020) as the jukemir reference container runs it: the 5B
//! VQ-VAE's top-level (level 2) encoder and bottleneck turn 44.1 kHz audio into codes (hop 128),
//! and the 5B top-level prior's transformer, cut to its first layers, turns the codes into
//! activations whose mean over time is the representation.
//!
//! - [`encoder`]: the level-2 encoder (strided and dilated 1-D convolutions) and the nearest-code
//!   bottleneck, with the VQ-VAE's state-dict names (`encoders.2.*`, `bottleneck.level_blocks.2.k`).
//! - [`conditioning`]: the label conditioner's start embedding (artist and genre "unknown") and the
//!   per-position timing embeddings, computed in float32 step by step as the reference does.
//! - [`prior`]: the factorised-attention transformer (block, transpose-block and previous-block
//!   attention), its weights kept as the float16 values the reference rounds them to on load.
//!
//! `docs/jukebox.md` derives every rule from the reference's sources.

pub mod conditioning;
pub mod device_prior;
pub mod encoder;
pub mod prior;
pub mod published;

use anyhow::Result;

/// Where the networks' tensors come from (a legacy PyTorch checkpoint, or anything else that can
/// name tensors as the checkpoints do). Shapes are checked by the callers.
pub trait TensorSource {
    /// A tensor's values as f32 and its shape.
    fn read_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>)>;
    /// A tensor's values rounded to f16 (exact when the file stores f16) and its shape.
    fn read_f16(&self, name: &str) -> Result<(Vec<half::f16>, Vec<usize>)> {
        let (values, shape) = self.read_f32(name)?;
        Ok((values.into_iter().map(half::f16::from_f32).collect(), shape))
    }
    /// Whether the source holds a tensor of this name.
    fn contains(&self, name: &str) -> bool;
    /// A tensor's shape, without its values where the source can tell.
    fn shape(&self, name: &str) -> Result<Vec<usize>> {
        Ok(self.read_f32(name)?.1)
    }
}

impl TensorSource for std::collections::HashMap<String, (Vec<f32>, Vec<usize>)> {
    fn read_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        self.get(name).cloned().ok_or_else(|| anyhow::anyhow!("no tensor named {name}"))
    }
    fn contains(&self, name: &str) -> bool {
        self.contains_key(name)
    }
}

/// Reads `name` and checks its shape.
pub(crate) fn read_shaped(source: &dyn TensorSource, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    let (values, actual) = source.read_f32(name)?;
    if actual != shape {
        anyhow::bail!(
            "{name} has shape {actual:?}, expected {shape:?} (does the checkpoint match the model's hparams?)"
        );
    }
    Ok(values)
}

/// Reads `name` as f16 and checks its shape.
pub(crate) fn read_shaped_f16(source: &dyn TensorSource, name: &str, shape: &[usize]) -> Result<Vec<half::f16>> {
    let (values, actual) = source.read_f16(name)?;
    if actual != shape {
        anyhow::bail!(
            "{name} has shape {actual:?}, expected {shape:?} (does the checkpoint match the model's hparams?)"
        );
    }
    Ok(values)
}

/// Deterministic pseudo-random tensors of given names and shapes, uniform in `[-scale, scale)`:
/// full-size models for benchmarks (speed does not depend on the values) and small ones for tests.
pub struct RandomTensors {
    shapes: std::collections::HashMap<String, Vec<usize>>,
    scale: f32,
}

impl RandomTensors {
    pub fn new(shapes: impl IntoIterator<Item = (String, Vec<usize>)>, scale: f32) -> Self {
        RandomTensors { shapes: shapes.into_iter().collect(), scale }
    }
}

impl TensorSource for RandomTensors {
    fn read_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        let shape = self.shapes.get(name).ok_or_else(|| anyhow::anyhow!("no tensor named {name}"))?;
        // The name seeds a 64-bit LCG, so every tensor differs and reruns agree.
        let mut state =
            name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let count: usize = shape.iter().product();
        let values = (0..count)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * self.scale
            })
            .collect();
        Ok((values, shape.clone()))
    }

    fn contains(&self, name: &str) -> bool {
        self.shapes.contains_key(name)
    }

    fn shape(&self, name: &str) -> Result<Vec<usize>> {
        self.shapes.get(name).cloned().ok_or_else(|| anyhow::anyhow!("no tensor named {name}"))
    }
}

/// OpenAI's published checkpoints are legacy `torch.save` files; tensors are read one at a time.
impl TensorSource for crate::torch_legacy::LegacyCheckpoint {
    fn read_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        let shape = self.shape_of(name)?;
        Ok((crate::torch_legacy::LegacyCheckpoint::read_f32(self, name)?, shape))
    }

    fn read_f16(&self, name: &str) -> Result<(Vec<half::f16>, Vec<usize>)> {
        let shape = self.shape_of(name)?;
        let values = match self.info(name).map(|i| i.dtype) {
            Some(crate::torch_legacy::StorageDtype::F16) => {
                crate::torch_legacy::LegacyCheckpoint::read_f16(self, name)?
            }
            _ => {
                let values = crate::torch_legacy::LegacyCheckpoint::read_f32(self, name)?;
                values.into_iter().map(half::f16::from_f32).collect()
            }
        };
        Ok((values, shape))
    }

    fn contains(&self, name: &str) -> bool {
        self.info(name).is_some()
    }

    fn shape(&self, name: &str) -> Result<Vec<usize>> {
        self.shape_of(name)
    }
}

impl crate::torch_legacy::LegacyCheckpoint {
    fn shape_of(&self, name: &str) -> Result<Vec<usize>> {
        let info = self.info(name).ok_or_else(|| {
            anyhow::anyhow!("{} has no tensor named {name}: is it the right checkpoint?", self.path().display())
        })?;
        Ok(info.shape.clone())
    }
}
