//! Reading a dataset (dataspace + datatype + data layout messages) as `f32` values.

use super::error::{Fault, R};
use super::file::{msg, Cur, File, Message, UNDEF};
use super::objects::{dataspace, datatype, DType, Extent};

impl<'a> File<'a> {
    /// Reads the dataset whose object header is at `addr` as `f32`: (shape, values).
    pub(super) fn dataset_f32(&self, addr: u64) -> R<(Vec<usize>, Vec<f32>)> {
        let header = self.object_header(addr)?;
        let at = self.abs(addr);
        self.tick(header.len() as u64, at)?; // a dataset listed many times must not cost unbounded work
        let find = |kind: u16, what: &str| -> R<Message<'_>> {
            let m = header.iter().find(|m| m.kind == kind).copied().ok_or_else(|| {
                if header.iter().any(|m| m.kind == msg::SYMBOL_TABLE) {
                    Fault::not_keras("expected a dataset, found a group")
                } else {
                    Fault::malformed(at, format!("dataset has no {what} message"))
                }
            })?;
            m.refuse_shared()?;
            Ok(m)
        };
        let space = find(msg::DATASPACE, "dataspace")?;
        let extent = dataspace(space.data, space.at, self.sl)?;
        let dt = find(msg::DATATYPE, "datatype")?;
        let (dtype, _) = datatype(dt.data, dt.at)?;
        let layout = find(msg::LAYOUT, "data layout")?;
        if let Some(m) = header.iter().find(|m| m.kind == msg::EXTERNAL_FILES) {
            return Err(Fault::unsupported(m.at, "data stored in external files"));
        }
        let shape: Vec<u64> = match extent {
            Extent::Scalar => Vec::new(),
            Extent::Simple(ref dims) => dims.clone(),
            Extent::Null => return Err(Fault::unsupported(space.at, "dataset with a null dataspace")),
        };
        // candle multiplies dimensions (strides) without overflow checks: keep every product small
        // even when a zero dimension makes the element count 0.
        let bounded = shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d.max(1))).filter(|&n| n <= 1 << 40);
        let n = extent.elements(space.at)?;
        let shape: Vec<usize> = match (bounded, shape.iter().map(|&d| usize::try_from(d).ok()).collect()) {
            (Some(_), Some(shape)) => shape,
            _ => return Err(Fault::malformed(space.at, format!("implausible dataset shape {shape:?}"))),
        };
        let DType::Float { size, big_endian } = dtype else {
            return Err(Fault::unsupported(dt.at, format!("dataset of {dtype} values (only IEEE floats are read)")));
        };
        let nbytes = n.checked_mul(size as u64).ok_or_else(|| Fault::malformed(space.at, "dataset size overflows"))?;
        let raw = self.layout_bytes(&layout, nbytes)?; // refuses chunked storage
        if let Some(m) = header.iter().find(|m| m.kind == msg::FILTERS) {
            return Err(Fault::unsupported(m.at, "filter pipeline (compression, shuffle or checksums)"));
        }
        self.spend_output(nbytes, layout.at)?;
        let values: Vec<f32> = match (size, big_endian) {
            (4, false) => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            (4, true) => raw.chunks_exact(4).map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]])).collect(),
            (8, _) => raw
                .chunks_exact(8)
                .map(|b| {
                    let a: [u8; 8] = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
                    (if big_endian { f64::from_be_bytes(a) } else { f64::from_le_bytes(a) }) as f32
                })
                .collect(),
            _ => raw
                .chunks_exact(2)
                .map(|b| {
                    f16_to_f32(if big_endian {
                        u16::from_be_bytes([b[0], b[1]])
                    } else {
                        u16::from_le_bytes([b[0], b[1]])
                    })
                })
                .collect(),
        };
        Ok((shape, values))
    }

    /// The stored bytes of a dataset from its data layout message (versions 3 and 4, compact
    /// or contiguous), checked to be exactly `nbytes` long.
    fn layout_bytes(&self, m: &Message<'a>, nbytes: u64) -> R<&'a [u8]> {
        let mut c = Cur::new(m.data, m.at, "data layout message");
        let version = c.u8()?;
        if !(3..=4).contains(&version) {
            return Err(Fault::unsupported(
                m.at,
                format!("data layout message version {version} (only 3 and 4 are read)"),
            ));
        }
        let class = c.u8()?;
        let (data, stored) = match class {
            0 => {
                let size = c.u16()?;
                (Some(c.bytes(usize::from(size))?), u64::from(size))
            }
            1 => {
                let addr = c.addr(self.so)?;
                let size = c.uint(self.sl)?;
                if addr == UNDEF {
                    (None, size)
                } else {
                    (Some(self.slice(addr, size, "contiguous dataset storage")?), size)
                }
            }
            2 => {
                return Err(Fault::unsupported(m.at, "chunked dataset storage (written with chunks= or compression=)"))
            }
            3 => return Err(Fault::unsupported(m.at, "virtual dataset storage")),
            k => return Err(Fault::malformed(m.at, format!("data layout class {k}"))),
        };
        if stored != nbytes {
            return Err(Fault::malformed(
                m.at,
                format!("dataset storage holds {stored} bytes, its shape and type need {nbytes}"),
            ));
        }
        match data {
            Some(d) => Ok(d),
            None if nbytes == 0 => Ok(&[]),
            None => Err(Fault::unsupported(m.at, "dataset whose storage was never written (fill value only)")),
        }
    }
}

/// IEEE binary16 → binary32 (exact).
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match exp {
        0 => {
            // zero or subnormal: man · 2^-24, exact in f32
            let magnitude = man as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -magnitude } else { magnitude };
        }
        0x1f => sign | 0x7f80_0000 | (man << 13),
        e => sign | ((e + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn f16_conversion() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }
}
