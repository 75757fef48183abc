//! PyTorch checkpoints (`torch.save`): the zip format of torch ≥ 1.6, read with candle's pickle
//! reader, and the legacy format of older torch, read with [`crate::torch_legacy`]; including
//! PyTorch Lightning checkpoints whose weights sit under `state_dict`.

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// How the file was serialised, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serialization {
    /// torch ≥ 1.6: a zip archive of a pickle and one record per storage.
    Zip,
    /// torch < 1.6: pickles back to back (magic number, protocol, system info, objects, storages).
    Legacy,
}

pub fn serialization(path: &Path) -> Result<Serialization> {
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let n = file.read(&mut head).with_context(|| format!("cannot read {}", path.display()))?;
    match &head[..n] {
        [b'P', b'K', 3, 4] => Ok(Serialization::Zip),
        [0x80, 2..=5, ..] => Ok(Serialization::Legacy),
        _ => bail!("{} is not a PyTorch checkpoint (neither a zip archive nor a pickle)", path.display()),
    }
}

/// Every tensor of the checkpoint's `state_dict` (a Lightning checkpoint) or of the top-level
/// dict (a plain state dict), by name, in the dtype it was saved in. Legacy files go through
/// [`crate::torch_legacy::LegacyCheckpoint`], which also looks under `model` (OpenAI's layout) and
/// strips a leading `module.` from names.
pub fn state_dict(path: &Path) -> Result<HashMap<String, Tensor>> {
    if serialization(path)? == Serialization::Legacy {
        return legacy_state_dict(path);
    }
    let read = |key| candle_core::pickle::read_all_with_key(path, key);
    let tensors = match read(Some("state_dict")) {
        Ok(tensors) if !tensors.is_empty() => tensors,
        _ => read(None).with_context(|| format!("cannot read the tensors of {}", path.display()))?,
    };
    Ok(tensors.into_iter().collect())
}

/// The entries whose name contains `marker`, with `marker` removed (CLMR's
/// `load_encoder_checkpoint`: `model.encoder.` in a Lightning checkpoint).
pub fn select_and_strip(tensors: &HashMap<String, Tensor>, marker: &str) -> HashMap<String, Tensor> {
    tensors.iter().filter(|(k, _)| k.contains(marker)).map(|(k, t)| (k.replace(marker, ""), t.clone())).collect()
}

fn legacy_state_dict(path: &Path) -> Result<HashMap<String, Tensor>> {
    use crate::torch_legacy::{LegacyCheckpoint, StorageDtype};
    let ckpt = LegacyCheckpoint::open(path)?;
    let mut out = HashMap::with_capacity(ckpt.len());
    for (name, info) in ckpt.tensors() {
        let dtype = match info.dtype {
            StorageDtype::F64 => DType::F64,
            StorageDtype::F32 => DType::F32,
            StorageDtype::F16 => DType::F16,
            StorageDtype::BF16 => DType::BF16,
            StorageDtype::I64 => DType::I64,
            StorageDtype::I32 => DType::I32,
            StorageDtype::I16 => DType::I16,
            StorageDtype::U8 | StorageDtype::Bool => DType::U8,
            other => bail!("{}: tensor `{name}` is stored as {other}, which candle has no type for", path.display()),
        };
        let bytes = ckpt.read_bytes(name)?;
        let tensor = Tensor::from_raw_buffer(&bytes, dtype, &info.shape, &Device::Cpu)
            .with_context(|| format!("{}: tensor `{name}`", path.display()))?;
        out.insert(name.to_string(), tensor);
    }
    Ok(out)
}
