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

/// One member of a zip archive, from its central directory record and local header.
struct ZipMember {
    name: String,
    method: u16,
    size: u64,
    compressed: u64,
    /// Absolute offset of the member's data.
    data: u64,
}

fn read_at(file: &mut std::fs::File, at: u64, len: u64, file_len: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::{Seek, SeekFrom};
    if at.checked_add(len).is_none_or(|end| end > file_len) {
        return Err(format!("{len} bytes at offset {at} lie past the end of the file ({file_len} bytes)"));
    }
    file.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut buf).map_err(|e| e.to_string())?;
    if buf.len() as u64 != len {
        return Err(format!("the file ends inside {len} bytes at offset {at}"));
    }
    Ok(buf)
}

fn le(b: &[u8], at: usize, width: usize) -> u64 {
    b.get(at..at + width).map_or(0, |s| s.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// The members of a zip archive, read from its central directory (zip64 included) with every
/// count, size and offset checked against the file's length.
fn zip_members(file: &mut std::fs::File) -> std::result::Result<Vec<ZipMember>, String> {
    use std::io::{Seek, SeekFrom};
    let len = file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
    let tail_len = len.min(22 + 0xffff);
    let tail = read_at(file, len - tail_len, tail_len, len)?;
    // The last end-of-central-directory record whose comment ends the file.
    let eocd = (0..=tail.len().saturating_sub(22))
        .rev()
        .find(|&p| tail[p..].starts_with(b"PK\x05\x06") && p + 22 + le(&tail, p + 20, 2) as usize == tail.len())
        .ok_or("no end-of-central-directory record")?;
    let (mut count, mut cd_size, mut cd_at) =
        (le(&tail, eocd + 10, 2), le(&tail, eocd + 12, 4), le(&tail, eocd + 16, 4));
    if count == 0xffff || cd_size == 0xffff_ffff || cd_at == 0xffff_ffff {
        let locator =
            eocd.checked_sub(20).filter(|&l| tail[l..].starts_with(b"PK\x06\x07")).ok_or("no zip64 locator")?;
        let eocd64 = read_at(file, le(&tail, locator + 8, 8), 56, len)?;
        if !eocd64.starts_with(b"PK\x06\x06") {
            return Err("no zip64 end-of-central-directory record".into());
        }
        (count, cd_size, cd_at) = (le(&eocd64, 32, 8), le(&eocd64, 40, 8), le(&eocd64, 48, 8));
    }
    if count > cd_size / 46 {
        return Err(format!("{count} members cannot fit in a {cd_size}-byte central directory"));
    }
    let cd = read_at(file, cd_at, cd_size, len)?;
    let mut members = Vec::with_capacity(count as usize);
    let mut p = 0usize;
    for _ in 0..count {
        if !cd.get(p..).is_some_and(|r| r.starts_with(b"PK\x01\x02")) || p + 46 > cd.len() {
            return Err(format!("bad central directory record at offset {}", cd_at + p as u64));
        }
        let (method, mut compressed, mut size) = (le(&cd, p + 10, 2) as u16, le(&cd, p + 20, 4), le(&cd, p + 24, 4));
        let (name_len, extra_len, comment_len) =
            (le(&cd, p + 28, 2) as usize, le(&cd, p + 30, 2) as usize, le(&cd, p + 32, 2) as usize);
        let mut local = le(&cd, p + 42, 4);
        let (name, extra) = (p + 46, p + 46 + name_len);
        let end = extra + extra_len + comment_len;
        if end > cd.len() {
            return Err(format!("central directory record at offset {} runs past the directory", cd_at + p as u64));
        }
        // zip64 extended information: the fields whose 32-bit value is all ones, in this order.
        let mut x = extra;
        while x + 4 <= extra + extra_len {
            let (id, n) = (le(&cd, x, 2), le(&cd, x + 2, 2) as usize);
            if id == 1 {
                let mut q = x + 4;
                for field in [&mut size, &mut compressed, &mut local] {
                    if *field == 0xffff_ffff && q + 8 <= x + 4 + n {
                        *field = le(&cd, q, 8);
                        q += 8;
                    }
                }
            }
            x += 4 + n;
        }
        let header = read_at(file, local, 30, len)?;
        if !header.starts_with(b"PK\x03\x04") {
            return Err(format!("no local header at offset {local}"));
        }
        let data = local + 30 + le(&header, 26, 2) + le(&header, 28, 2);
        read_at(file, data, 0, len)?;
        if data.checked_add(compressed).is_none_or(|e| e > len) {
            return Err(format!("member data at offset {data} ({compressed} bytes) runs past the end of the file"));
        }
        let name = String::from_utf8_lossy(&cd[name..name + name_len]).into_owned();
        members.push(ZipMember { name, method, size, compressed, data });
        p = end;
    }
    Ok(members)
}

/// Checks a zip checkpoint before candle's reader sees it. candle's pickle reader allocates
/// string lengths read from the file (`BINUNICODE` of 2 GiB in a 600 kB file), materialises
/// tensors of whatever shape the pickle states, and indexes argument tuples without checking
/// their length. So: every `data.pkl` must be a stored member that this crate's own bounded
/// pickle machine runs through, every tensor it rebuilds must have the arguments candle expects,
/// and each tensor must fit in its storage record.
fn check_zip_checkpoint(path: &Path) -> Result<()> {
    use crate::torch_legacy::pickle::{self, Fault, Input, Value};
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let members = zip_members(&mut file).map_err(anyhow::Error::msg)?;
    let len = file.metadata()?.len();
    for pkl in members.iter().filter(|m| m.name.ends_with("data.pkl")) {
        if pkl.method != 0 || pkl.size != pkl.compressed {
            bail!("{} is compressed (torch stores it)", pkl.name);
        }
        let bytes = read_at(&mut file, pkl.data, pkl.size, len).map_err(anyhow::Error::msg)?;
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
