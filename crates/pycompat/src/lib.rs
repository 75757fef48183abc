//! CPython and NumPy behaviour that jukemir reproduces bit for bit, in one place: NumPy's
//! reductions and element-wise arithmetic in its rounding order, the `.npy` header bounds, CPython's
//! `random` (Python 3 and 2.7), `json.dumps(indent=2, sort_keys=True)`, and the text handling
//! (`csv`, `str` methods, number parsing) the reference's dataset code relies on. Every crate that
//! must agree with a Python-computed value uses these, so each behaviour is written once.

pub mod json;
pub mod npy;
pub mod numpy;
pub mod numpy_ops;
pub mod pyrandom;
pub mod text;
