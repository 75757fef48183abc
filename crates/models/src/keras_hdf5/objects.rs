//! Header messages that describe values (dataspace, datatype, attribute), and reading attributes
//! as strings. Datasets are in `dataset.rs`.

use super::error::{Fault, R};
use super::file::{Cur, File, Message};

/// The most dimensions HDF5 allows.
const MAX_RANK: u8 = 32;

/// The shape of a dataset or attribute.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Extent {
    Scalar,
    Simple(Vec<u64>),
    /// No elements at all (HDF5's "null" dataspace, e.g. an empty attribute).
    Null,
}

impl Extent {
    pub(super) fn elements(&self, at: u64) -> R<u64> {
        match self {
            Extent::Scalar => Ok(1),
            Extent::Null => Ok(0),
            Extent::Simple(dims) => dims
                .iter()
                .try_fold(1u64, |n, &d| n.checked_mul(d))
                .ok_or_else(|| Fault::malformed(at, format!("dataspace {dims:?} has too many elements"))),
        }
    }
}

/// Dataspace message (versions 1 and 2).
pub(super) fn dataspace(data: &[u8], at: u64, sl: usize) -> R<Extent> {
    let mut c = Cur::new(data, at, "dataspace message");
    let version = c.u8()?;
    let rank = c.u8()?;
    let _flags = c.u8()?; // bit 0: maximum dimensions follow (ignored); bit 1: permutation (never written)
    let kind = match version {
        1 => {
            c.skip(5)?;
            u8::from(rank != 0) // version 1 has no type field: rank 0 is a scalar
        }
        2 => c.u8()?,
        v => return Err(Fault::unsupported(at, format!("dataspace message version {v}"))),
    };
    if rank > MAX_RANK {
        return Err(Fault::malformed(at, format!("dataspace of rank {rank} (HDF5 allows at most {MAX_RANK})")));
    }
    match kind {
        0 => Ok(Extent::Scalar),
        1 => Ok(Extent::Simple((0..rank).map(|_| c.uint(sl)).collect::<R<_>>()?)),
        2 => Ok(Extent::Null),
        k => Err(Fault::malformed(at, format!("dataspace type {k}"))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum StrPad {
    NulTerminated,
    NulPadded,
    SpacePadded,
}

/// The datatypes this reader decodes; anything else is described for error messages.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum DType {
    /// IEEE 754 binary16/32/64, little- or big-endian.
    Float {
        size: usize,
        big_endian: bool,
    },
    FixedString {
        size: usize,
        pad: StrPad,
    },
    /// A variable-length string: each element is (length, global heap collection, object index).
    VlenString,
    Other(String),
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DType::Float { size, big_endian } => {
                write!(f, "{}-bit float ({})", size * 8, if *big_endian { "big-endian" } else { "little-endian" })
            }
            DType::FixedString { size, .. } => write!(f, "{size}-byte string"),
            DType::VlenString => f.write_str("variable-length string"),
            DType::Other(what) => f.write_str(what),
        }
    }
}

/// Datatype message: returns the type and its element size in bytes.
pub(super) fn datatype(data: &[u8], at: u64) -> R<(DType, usize)> {
    let mut c = Cur::new(data, at, "datatype message");
    let class_version = c.u8()?;
    let (class, version) = (class_version & 0x0f, class_version >> 4);
    if !(1..=4).contains(&version) {
        return Err(Fault::malformed(at, format!("datatype message version {version}")));
    }
    let bits = c.uint(3)? as u32;
    let size = c.u32()? as usize;
    if size == 0 {
        return Err(Fault::malformed(at, "datatype of size 0"));
    }
    let dtype = match class {
        1 => float(&mut c, bits, size, at)?,
        3 => {
            let pad = match bits & 0x0f {
                0 => StrPad::NulTerminated,
                1 => StrPad::NulPadded,
                2 => StrPad::SpacePadded,
                p => return Err(Fault::malformed(at, format!("string padding type {p}"))),
            };
            DType::FixedString { size, pad }
        }
        9 if bits & 0x0f == 1 => DType::VlenString,
        9 => DType::Other("variable-length sequence".into()),
        0 => DType::Other(format!("{}-bit integer", size * 8)),
        _ => {
            const NAMES: [&str; 11] = [
                "integer",
                "float",
                "time",
                "string",
                "bitfield",
                "opaque",
                "compound",
                "reference",
                "enum",
                "variable-length",
                "array",
            ];
            let name = NAMES.get(usize::from(class)).copied().unwrap_or("unknown-class");
            DType::Other(format!("{name} (datatype class {class})"))
        }
    };
    Ok((dtype, size))
}

/// A floating-point datatype, accepted only when it is exactly IEEE binary16/32/64.
fn float(c: &mut Cur<'_>, bits: u32, size: usize, at: u64) -> R<DType> {
    let byte_order = (bits & 1) | ((bits >> 5) & 2);
    let big_endian = match byte_order {
        0 => false,
        1 => true,
        _ => return Err(Fault::unsupported(at, "VAX-order floating point")),
    };
    let offset = c.u16()?;
    let precision = c.u16()?;
    let exp_loc = c.u8()?;
    let exp_size = c.u8()?;
    let man_loc = c.u8()?;
    let man_size = c.u8()?;
    let bias = c.u32()?;
    let sign_loc = (bits >> 8) & 0xff;
    let norm = (bits >> 4) & 3;
    let ieee = match size {
        2 => (5, 10, 15),
        4 => (8, 23, 127),
        8 => (11, 52, 1023),
        _ => (0, 0, 0),
    };
    let bits_total = (size as u32).wrapping_mul(8);
    let layout = (offset, u32::from(precision), u32::from(exp_size), u32::from(man_size), bias);
    let is_ieee = ieee.0 != 0
        && layout == (0, bits_total, ieee.0, ieee.1, ieee.2)
        && (u32::from(exp_loc), man_loc, sign_loc, norm) == (ieee.1, 0, bits_total - 1, 2)
        && bits & 0x0e == 0; // no padding bits
    if !is_ieee {
        return Err(Fault::unsupported(
            at,
            format!("non-IEEE floating-point type ({size} bytes, precision {precision}, exponent {exp_size} bits)"),
        ));
    }
    Ok(DType::Float { size, big_endian })
}

/// An attribute message, not yet decoded.
pub(super) struct Attribute<'a> {
    pub name: String,
    pub dtype: DType,
    pub elem_size: usize,
    pub extent: Extent,
    pub data: &'a [u8],
    pub at: u64,
}

/// The part of an attribute message before its datatype.
struct AttributeHead<'a> {
    name: String,
    /// Version 1 pads the name, datatype and dataspace to multiples of 8 bytes.
    padded: bool,
    dt_size: usize,
    ds_size: usize,
    rest: Cur<'a>,
}

fn attribute_head<'a>(m: &Message<'a>) -> R<AttributeHead<'a>> {
    m.refuse_shared()?;
    let mut c = Cur::new(m.data, m.at, "attribute message");
    let version = c.u8()?;
    let flags = c.u8()?;
    let name_size = usize::from(c.u16()?);
    let dt_size = usize::from(c.u16()?);
    let ds_size = usize::from(c.u16()?);
    match version {
        1 => {}
        2 | 3 if flags & 0x03 != 0 => return Err(Fault::unsupported(m.at, "attribute with a shared datatype")),
        2 => {}
        3 => c.skip(1)?, // name character set
        v => return Err(Fault::unsupported(m.at, format!("attribute message version {v}"))),
    }
    let padded = version == 1;
    let raw_name = c.bytes(if padded { name_size.next_multiple_of(8) } else { name_size })?;
    let name = &raw_name[..name_size];
    let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
    Ok(AttributeHead { name: String::from_utf8_lossy(name).into_owned(), padded, dt_size, ds_size, rest: c })
}

/// The name of an attribute message (without decoding its type, which may be exotic).
pub(super) fn attribute_name(m: &Message<'_>) -> R<String> {
    Ok(attribute_head(m)?.name)
}

/// Attribute message (versions 1–3).
pub(super) fn attribute<'a>(m: &Message<'a>, sl: usize) -> R<Attribute<'a>> {
    let AttributeHead { name, padded, dt_size, ds_size, rest: mut c } = attribute_head(m)?;
    let pad = |n: usize| if padded { n.next_multiple_of(8) } else { n };
    let dt_at = c.at();
    let (dtype, elem_size) = datatype(&c.bytes(pad(dt_size))?[..dt_size], dt_at)?;
    let ds_at = c.at();
    let extent = dataspace(&c.bytes(pad(ds_size))?[..ds_size], ds_at, sl)?;
    let at = c.at();
    Ok(Attribute { name, dtype, elem_size, extent, data: c.rest(), at })
}

fn decode_fixed(raw: &[u8], pad: StrPad) -> &[u8] {
    match pad {
        StrPad::NulTerminated => &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())],
        StrPad::NulPadded => &raw[..raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)],
        StrPad::SpacePadded => &raw[..raw.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1)],
    }
}

impl<'a> File<'a> {
    /// An attribute's values as strings (fixed- or variable-length; an attribute with no elements,
    /// whatever its type, is an empty list: Keras 1 writes `weight_names` of weightless layers as
    /// an empty float64 array).
    pub(super) fn attribute_strings(&self, attr: &Attribute<'_>) -> R<Vec<String>> {
        let n = attr.extent.elements(attr.at)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let element = match attr.dtype {
            DType::FixedString { .. } => attr.elem_size,
            DType::VlenString => 4 + self.so + 4,
            ref other => {
                return Err(Fault::not_keras(format!("attribute `{}` holds {other} values, not strings", attr.name)))
            }
        };
        let needed = usize::try_from(n).ok().and_then(|n| n.checked_mul(element));
        let data = needed.and_then(|len| attr.data.get(..len)).ok_or_else(|| {
            Fault::malformed(
                attr.at,
                format!("attribute `{}` has {n} elements but only {} bytes", attr.name, attr.data.len()),
            )
        })?;
        let mut out = Vec::with_capacity(data.len() / element);
        for raw in data.chunks_exact(element) {
            let bytes = match attr.dtype {
                DType::FixedString { pad, .. } => decode_fixed(raw, pad),
                _ => {
                    let mut c = Cur::new(raw, attr.at, "variable-length string reference");
                    let len = c.u32()? as usize;
                    let collection = c.addr(self.so)?;
                    let index = c.u32()?;
                    let object = self.global_heap_object(collection, index)?;
                    object.get(..len).ok_or_else(|| {
                        Fault::malformed(
                            attr.at,
                            format!("string of {len} bytes in a {}-byte heap object", object.len()),
                        )
                    })?
                }
            };
            self.spend_output(bytes.len() as u64, attr.at)?;
            out.push(String::from_utf8_lossy(bytes).into_owned());
        }
        Ok(out)
    }
}
