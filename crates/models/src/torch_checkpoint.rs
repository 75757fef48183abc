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
    check_zip_checkpoint(path).with_context(|| format!("{} is not a readable zip checkpoint", path.display()))?;
    // Last line of defence: a panic inside candle (none is known once the check passed) becomes
    // an error naming the file.
    let read = |key| {
        std::panic::catch_unwind(|| candle_core::pickle::read_all_with_key(path, key)).unwrap_or_else(|_| {
            Err(candle_core::Error::Msg(format!("{}: the checkpoint reader panicked", path.display())))
        })
    };
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

/// One member of a zip archive, as the zip crate (the reader candle uses) sees it.
struct ZipMember {
    name: String,
    stored: bool,
    size: u64,
    compressed: u64,
}

/// The members of a zip archive, listed by the same zip crate (same version) that candle's reader
/// opens it with, so the check below and candle agree on what the archive holds.
fn zip_members(archive: &mut zip::ZipArchive<std::fs::File>) -> std::result::Result<Vec<ZipMember>, String> {
    (0..archive.len())
        .map(|i| {
            let member = archive.by_index_raw(i).map_err(|e| e.to_string())?;
            Ok(ZipMember {
                name: member.name().map_err(|e| e.to_string())?.to_string(),
                stored: member.compression() == zip::CompressionMethod::Stored,
                size: member.size(),
                compressed: member.compressed_size(),
            })
        })
        .collect()
}

/// A stored member's bytes; a declared size is never trusted for an allocation.
fn read_stored(
    archive: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
    size: u64,
) -> std::result::Result<Vec<u8>, String> {
    let member = archive.by_name(name).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(size.min(16 << 20) as usize);
    member.take(size).read_to_end(&mut bytes).map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 != size {
        return Err(format!("{name}: the archive ends inside its {size} bytes"));
    }
    Ok(bytes)
}

/// Checks a zip checkpoint before candle's reader sees it. candle's pickle reader allocates
/// string lengths read from the file (`BINUNICODE` of 2 GiB in a 600 kB file), materialises
/// tensors of whatever shape the pickle states, and indexes argument tuples without checking
/// their length. So: every `data.pkl` must be a stored member that this crate's own bounded
/// pickle machine runs through, every tensor it rebuilds must have the arguments candle expects,
/// and each tensor must fit in its storage record.
fn check_zip_checkpoint(path: &Path) -> Result<()> {
    use crate::torch_legacy::pickle::{self, Fault, Input, Value};
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| anyhow::anyhow!("not a zip archive: {e}"))?;
    let members = zip_members(&mut archive).map_err(anyhow::Error::msg)?;
    for pkl in members.iter().filter(|m| m.name.ends_with("data.pkl")) {
        if !pkl.stored || pkl.size != pkl.compressed {
            bail!("{} is compressed (torch stores it)", pkl.name);
        }
        let bytes = read_stored(&mut archive, &pkl.name, pkl.size).map_err(anyhow::Error::msg)?;
        let fault = |e: Fault| match e {
            Fault::Io(e) => anyhow::anyhow!("{}: {e}", pkl.name),
            Fault::Bad(why) => anyhow::anyhow!("{}: {why}", pkl.name),
        };
        let mut input = Input::new(std::io::Cursor::new(bytes)).map_err(fault)?;
        let p = pickle::load(&mut input).map_err(fault)?;
        let dir = pkl.name.strip_suffix(".pkl").unwrap_or_default();
        for value in &p.values {
            let Value::Object { class, args, .. } = value else { continue };
            let args = p.seq(*args).unwrap_or_default();
            let what = match p.global(*class) {
                Some(("torch._utils", "_rebuild_tensor_v2")) => "_rebuild_tensor_v2",
                Some(("torch._tensor", "_rebuild_from_type_v2")) if args.len() < 3 => {
                    bail!("{}: _rebuild_from_type_v2 with {} arguments", pkl.name, args.len())
                }
                Some(("torch._utils", "_rebuild_parameter")) if args.is_empty() => {
                    bail!("{}: _rebuild_parameter without arguments", pkl.name)
                }
                _ => continue,
            };
            let bad = |why: &str| anyhow::anyhow!("{}: {what}: {why}", pkl.name);
            if args.len() < 4 {
                return Err(bad(&format!("{} arguments", args.len())));
            }
            let pid = match p.get(args[0]) {
                Value::Persistent(pid) => {
                    p.seq(*pid).filter(|s| s.len() >= 5).ok_or_else(|| bad("malformed storage"))?
                }
                _ => continue, // candle refuses it without allocating
            };
            let ints = |id| -> Option<Vec<u64>> { p.seq(id)?.iter().map(|&d| u64::try_from(p.int(d)?).ok()).collect() };
            let (Some(shape), Some(_strides)) = (ints(args[2]), ints(args[3])) else { continue };
            let offset = p.int(args[1]).and_then(|o| u64::try_from(o).ok()).ok_or_else(|| bad("bad storage offset"))?;
            let elem = match p.global(pid[1]).map(|(_, n)| n) {
                Some("DoubleStorage" | "LongStorage") => 8,
                Some("FloatStorage") => 4,
                Some("HalfStorage" | "BFloat16Storage") => 2,
                Some("ByteStorage") => 1,
                _ => continue, // candle refuses the dtype
            };
            let key = p.text(pid[2]).ok_or_else(|| bad("storage key is not a string"))?;
            let needed = shape
                .iter()
                .try_fold(1u64, |n, &d| n.checked_mul(d))
                .and_then(|n| n.checked_add(offset)?.checked_mul(elem))
                .ok_or_else(|| bad(&format!("shape {shape:?} at offset {offset} overflows")))?;
            let record = format!("{dir}/{key}");
            if let Some(m) = members.iter().find(|m| m.name == record) {
                if needed > m.size {
                    return Err(bad(&format!(
                        "shape {shape:?} at offset {offset} needs {needed} bytes but {record} holds {}",
                        m.size
                    )));
                }
            }
        }
    }
    Ok(())
}
