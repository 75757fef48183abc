//! A pure-Rust reader for Keras 1.x/2.x HDF5 weight files (`model.save_weights('x.h5')`, and the
//! `model_weights` group of `model.save`), yielding candle tensors.
//!
//! Keras lays the file out as: a root attribute `layer_names` (array of strings, in model order);
//! one group per layer carrying an attribute `weight_names`; one dataset per weight, at that name
//! relative to the layer's group (Keras 2 names such as `dense_1/kernel:0` are nested paths).
//! Keras 2 adds root attributes `keras_version` and `backend`, and splits attributes above 64 KiB
//! into `weight_names0`, `weight_names1`, ... — both are handled.
//!
//! Only the HDF5 subset that h5py writes with its default (`libver='earliest'`) settings is read:
//! superblock version 0/1 (optionally after a user block), version-1 object headers with
//! continuation blocks, groups as symbol tables (v1 B-tree + symbol table nodes + local heap),
//! attribute messages v1–v3 holding fixed- or variable-length strings (global heap), and datasets
//! of IEEE float16/32/64 (either byte order) with contiguous or compact storage. Everything else
//! (chunked or compressed storage, external files, version-2 object headers, new-style groups,
//! shared/committed datatypes, superblock ≥ 2) is refused with [`KerasHdf5Error::Unsupported`].
//!
//! [`KerasWeights::parse`] is a pure function of the bytes: every offset and length is checked
//! against the buffer before use, cycles are detected, and total work and decoded bytes are
//! bounded by the file's size, so hostile input yields an error naming the file, never a panic.
//!
//! ```no_run
//! # use std::path::Path;
//! use jukemir_models::keras_hdf5::KerasWeights;
//! let w = KerasWeights::open(Path::new("weights_layer4_theano.hdf5"))?;
//! assert_eq!(w.layer_names()[0], "melgram");
//! let kernel = w.weight("ConvBNEluDr", "convolution2d_1_W").unwrap(); // [32, 1, 3, 3], Theano order
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dataset;
mod error;
mod file;
mod groups;
mod objects;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};

pub use error::KerasHdf5Error;
use error::{Fault, R};
use file::{msg, Cur, File, Message, UNDEF};
use objects::{attribute, attribute_name, Attribute};

/// The weights of a Keras model, by layer, in file order; every tensor is `f32` on the CPU, in the
/// shape it was stored (for Theano-backend files, conv kernels are `(out, in, h, w)`).
#[derive(Clone, Debug)]
pub struct KerasWeights {
    layer_names: Vec<String>,
    layers: HashMap<String, Vec<(String, Tensor)>>,
    keras_version: Option<String>,
    backend: Option<String>,
}

impl KerasWeights {
    /// Reads and parses the whole file.
    pub fn open(path: &Path) -> Result<Self, KerasHdf5Error> {
        let bytes = std::fs::read(path).map_err(|source| KerasHdf5Error::Io { path: path.to_path_buf(), source })?;
        Self::parse(&bytes, path)
    }

    /// Parses a file's bytes; `path_for_errors` only names the file in errors.
    pub fn parse(bytes: &[u8], path_for_errors: &Path) -> Result<Self, KerasHdf5Error> {
        parse(bytes).map_err(|fault| fault.into_error(path_for_errors))
    }

    /// The root attribute `layer_names`, in order (layers without weights included).
    pub fn layer_names(&self) -> &[String] {
        &self.layer_names
    }

    /// A layer's weights in its `weight_names` order (empty for weightless layers), or `None` for
    /// a layer the file does not list.
    pub fn weights(&self, layer: &str) -> Option<&[(String, Tensor)]> {
        self.layers.get(layer).map(Vec::as_slice)
    }

    /// One weight of a layer, by its full name as listed in `weight_names`.
    pub fn weight(&self, layer: &str, name: &str) -> Option<&Tensor> {
        self.weights(layer)?.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The root attribute `keras_version` (written by Keras ≥ 2; absent in Keras 1 files).
    pub fn keras_version(&self) -> Option<&str> {
        self.keras_version.as_deref()
    }

    /// The root attribute `backend` (written by Keras ≥ 2; absent in Keras 1 files).
    pub fn backend(&self) -> Option<&str> {
        self.backend.as_deref()
    }
}

/// The attributes of one object, by name, decoded on demand.
struct Attributes<'f, 'a> {
    file: &'f File<'a>,
    by_name: HashMap<String, Message<'a>>,
    /// Where the attribute info message points at a fractal heap ("dense" storage, HDF5 ≥ 1.8
    /// for objects with many or large attributes): its offset.
    dense: Option<u64>,
}

impl<'f, 'a> Attributes<'f, 'a> {
    fn of(file: &'f File<'a>, addr: u64) -> R<Self> {
        let header = file.object_header(addr)?;
        file.tick(header.len() as u64, file.abs(addr))?; // objects may be shared by hostile files
        let mut by_name = HashMap::new();
        let mut dense = None;
        for m in header.iter() {
            match m.kind {
                msg::ATTRIBUTE => {
                    by_name.entry(attribute_name(m)?).or_insert(*m);
                }
                msg::ATTRIBUTE_INFO => {
                    // version, flags, [max creation index], fractal heap address, ...
                    let mut c = Cur::new(m.data, m.at, "attribute info message");
                    c.skip(1)?;
                    let flags = c.u8()?;
                    if flags & 1 != 0 {
                        c.skip(2)?;
                    }
                    if c.addr(file.so)? != UNDEF {
                        dense = Some(m.at);
                    }
                }
                _ => {}
            }
        }
        Ok(Self { file, by_name, dense })
    }

    fn get(&self, name: &str) -> R<Option<Attribute<'a>>> {
        match (self.by_name.get(name), self.dense) {
            (Some(m), _) => attribute(m, self.file.sl).map(Some),
            (None, Some(at)) => Err(Fault::unsupported(at, format!("dense attribute storage (looking for `{name}`)"))),
            (None, None) => Ok(None),
        }
    }

    /// A string-list attribute, joined from Keras 2's `name0`, `name1`, ... when it was split.
    fn strings(&self, name: &str) -> R<Option<Vec<String>>> {
        if let Some(attr) = self.get(name)? {
            return self.file.attribute_strings(&attr).map(Some);
        }
        let mut out: Option<Vec<String>> = None;
        for chunk in 0..self.by_name.len() {
            let Some(attr) = self.get(&format!("{name}{chunk}"))? else { break };
            out.get_or_insert_with(Vec::new).extend(self.file.attribute_strings(&attr)?);
        }
        Ok(out)
    }

    /// A scalar (or first-element) string attribute.
    fn string(&self, name: &str) -> R<Option<String>> {
        Ok(self.strings(name)?.and_then(|v| v.into_iter().next()))
    }
}

/// The member `path` (components separated by `/`) under the group at `addr`.
fn resolve(file: &File<'_>, mut addr: u64, path: &str) -> R<u64> {
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        file.tick(1, file.abs(addr))?;
        addr = *file.group(addr)?.get(part).ok_or_else(|| Fault::not_keras(format!("no member named `{part}`")))?;
    }
    Ok(addr)
}

fn parse(bytes: &[u8]) -> R<KerasWeights> {
    let file = File::open(bytes).map_err(|f| f.within("superblock"))?;
    let root = file.root;
    let root_attrs = Attributes::of(&file, root).map_err(|f| f.within("/"))?;
    let keras_version = root_attrs.string("keras_version").map_err(|f| f.within("/"))?;
    let backend = root_attrs.string("backend").map_err(|f| f.within("/"))?;
    let (top, top_name, layer_names) = match root_attrs.strings("layer_names").map_err(|f| f.within("/"))? {
        Some(names) => (root, String::new(), names),
        // `model.save` files keep the weights under `/model_weights`.
        None => {
            let Some(&group) = file.group(root).map_err(|f| f.within("/"))?.get("model_weights") else {
                return Err(Fault::not_keras("the root group has no `layer_names` attribute").within("/"));
            };
            let names = Attributes::of(&file, group)
                .and_then(|a| a.strings("layer_names"))
                .and_then(|names| names.ok_or_else(|| Fault::not_keras("no `layer_names` attribute")))
                .map_err(|f| f.within("/model_weights"))?;
            (group, "/model_weights".to_owned(), names)
        }
    };
    let top_label = if top_name.is_empty() { "/".to_owned() } else { top_name.clone() };
    let mut layers = HashMap::with_capacity(layer_names.len());
    for layer in &layer_names {
        let object = format!("{top_name}/{layer}");
        let weights = read_layer(&file, top, &top_label, layer, &object)?;
        if layers.insert(layer.clone(), weights).is_some() {
            return Err(
                Fault::not_keras(format!("layer `{layer}` is listed twice in `layer_names`")).within(&top_label)
            );
        }
    }
    Ok(KerasWeights { layer_names, layers, keras_version, backend })
}

fn read_layer(file: &File<'_>, top: u64, top_label: &str, layer: &str, object: &str) -> R<Vec<(String, Tensor)>> {
    let members = file.group(top).map_err(|f| f.within(top_label))?;
    let group = *members
        .get(layer)
        .ok_or_else(|| Fault::not_keras("listed in `layer_names` but the file has no such group").within(object))?;
    let names = Attributes::of(file, group)
        .and_then(|a| a.strings("weight_names"))
        .and_then(|names| names.ok_or_else(|| Fault::not_keras("the layer group has no `weight_names` attribute")))
        .map_err(|f| f.within(object))?;
    let mut weights = Vec::with_capacity(names.len());
    for name in names {
        let object = format!("{object}/{name}");
        let tensor = resolve(file, group, &name)
            .and_then(|addr| file.dataset_f32(addr))
            .and_then(|(shape, values)| Tensor::from_vec(values, shape, &Device::Cpu).map_err(Fault::tensor))
            .map_err(|f| f.within(&object))?;
        weights.push((name, tensor));
    }
    Ok(weights)
}
