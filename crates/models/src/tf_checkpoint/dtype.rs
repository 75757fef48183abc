//! TensorFlow's `DataType` enum (tensorflow/core/framework/types.proto) as far as checkpoints
//! need it: element sizes and the matching candle dtypes.

use std::fmt;

/// A TensorFlow `DataType` as stored in a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TfDType {
    Float,
    Double,
    Int32,
    UInt8,
    Int16,
    Int8,
    String,
    Complex64,
    Int64,
    Bool,
    BFloat16,
    UInt16,
    Complex128,
    Half,
    UInt32,
    UInt64,
    /// Any other `DataType` enum value (quantized types, resources, variants, unknown).
    Other(i32),
}

impl TfDType {
    /// Maps the protobuf enum value (`DT_FLOAT = 1`, ...).
    pub fn from_proto(value: i32) -> Self {
        match value {
            1 => Self::Float,
            2 => Self::Double,
            3 => Self::Int32,
            4 => Self::UInt8,
            5 => Self::Int16,
            6 => Self::Int8,
            7 => Self::String,
            8 => Self::Complex64,
            9 => Self::Int64,
            10 => Self::Bool,
            14 => Self::BFloat16,
            17 => Self::UInt16,
            18 => Self::Complex128,
            19 => Self::Half,
            22 => Self::UInt32,
            23 => Self::UInt64,
            other => Self::Other(other),
        }
    }

    /// Bytes per element for fixed-size types; `None` for strings and unknown types.
    pub fn size_in_bytes(self) -> Option<usize> {
        Some(match self {
            Self::UInt8 | Self::Int8 | Self::Bool => 1,
            Self::Int16 | Self::UInt16 | Self::BFloat16 | Self::Half => 2,
            Self::Float | Self::Int32 | Self::UInt32 => 4,
            Self::Double | Self::Int64 | Self::UInt64 | Self::Complex64 => 8,
            Self::Complex128 => 16,
            Self::String | Self::Other(_) => return None,
        })
    }

    /// Bytes of the scalar unit that byte order applies to (complex numbers are two floats).
    pub(crate) fn swap_unit(self) -> Option<usize> {
        match self {
            Self::Complex64 => Some(4),
            Self::Complex128 => Some(8),
            other => other.size_in_bytes(),
        }
    }

    /// The candle dtype holding this type's values unchanged (booleans become `U8` 0/1), if any.
    pub fn to_candle(self) -> Option<candle_core::DType> {
        use candle_core::DType;
        Some(match self {
            Self::Float => DType::F32,
            Self::Double => DType::F64,
            Self::Half => DType::F16,
            Self::BFloat16 => DType::BF16,
            Self::Int64 => DType::I64,
            Self::Int32 => DType::I32,
            Self::Int16 => DType::I16,
            Self::UInt32 => DType::U32,
            Self::UInt8 | Self::Bool => DType::U8,
            _ => return None,
        })
    }
}

impl fmt::Display for TfDType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Float => "DT_FLOAT",
            Self::Double => "DT_DOUBLE",
            Self::Int32 => "DT_INT32",
            Self::UInt8 => "DT_UINT8",
            Self::Int16 => "DT_INT16",
            Self::Int8 => "DT_INT8",
            Self::String => "DT_STRING",
            Self::Complex64 => "DT_COMPLEX64",
            Self::Int64 => "DT_INT64",
            Self::Bool => "DT_BOOL",
            Self::BFloat16 => "DT_BFLOAT16",
            Self::UInt16 => "DT_UINT16",
            Self::Complex128 => "DT_COMPLEX128",
            Self::Half => "DT_HALF",
            Self::UInt32 => "DT_UINT32",
            Self::UInt64 => "DT_UINT64",
            Self::Other(v) => return write!(f, "DataType({v})"),
        };
        f.write_str(name)
    }
}
