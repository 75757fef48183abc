//! The Keras HDF5 reader against the five real choi weight files (values checked against h5py,
//! `fixtures/choi/hdf5/choi_weights.json`), a synthetic Keras-2-like file covering the features
//! the real files do not use, files it must refuse, and hostile inputs (truncations, byte flips,
//! random bytes, cycles) that must give an error naming the file and never panic.
//!
//! Fixtures: `tools/reference/gen_keras_hdf5_fixtures.py`.

use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};
use jukemir_models::keras_hdf5::{KerasHdf5Error, KerasWeights};
use serde::Deserialize;

fn choi_dir() -> PathBuf {
    jukemir_test_support::test_file("weights/choi")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/choi/hdf5")
}

fn real_file(i: usize) -> Option<PathBuf> {
    let path = choi_dir().join(format!("weights_layer{i}_theano.hdf5"));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent", path.display());
        None
    }
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

#[derive(Deserialize)]
struct ChoiFixture {
    files: std::collections::BTreeMap<String, FileFixture>,
    full_tensor: FullTensor,
    shared_values_identical: bool,
}

#[derive(Deserialize)]
struct FileFixture {
    size: u64,
    layers: Vec<LayerFixture>,
}

#[derive(Deserialize)]
struct LayerFixture {
    name: String,
    weights: Vec<WeightFixture>,
}

#[derive(Deserialize)]
struct WeightFixture {
    name: String,
    shape: Vec<usize>,
    sum: Option<f64>,
    first: Option<Vec<f64>>,
    values: Option<Vec<f64>>,
}

#[derive(Deserialize)]
struct FullTensor {
    file: String,
    layer: String,
    weight: String,
    values: Vec<f64>,
}

fn load_json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Values from the JSON are f32 values printed exactly: compare bit for bit.
fn assert_f32_eq(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.to_bits(), (w as f32).to_bits(), "{what}[{k}]: {g} != {w}");
    }
}

#[test]
fn real_files_match_h5py() {
    let fixture: ChoiFixture = load_json("choi_weights.json");
    for i in 0..5 {
        let Some(path) = real_file(i) else { return };
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let want = &fixture.files[&name];
        assert_eq!(std::fs::metadata(&path).unwrap().len(), want.size, "{name}: size differs from the fixture's");
        let w = KerasWeights::open(&path).unwrap();
        assert_eq!(w.keras_version(), None, "Keras 1 files carry no keras_version");
        assert_eq!(w.backend(), None);
        let names: Vec<&str> = want.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(w.layer_names(), names.as_slice(), "{name}");
        assert!(w.weights("no_such_layer").is_none());
        for layer in &want.layers {
            let got = w.weights(&layer.name).unwrap();
            let got_names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
            let want_names: Vec<&str> = layer.weights.iter().map(|x| x.name.as_str()).collect();
            assert_eq!(got_names, want_names, "{name}/{}", layer.name);
            for ((_, t), x) in got.iter().zip(&layer.weights) {
                let what = format!("{name}/{}/{}", layer.name, x.name);
                assert_eq!(t.dtype(), DType::F32, "{what}");
                assert_eq!(t.dims(), x.shape.as_slice(), "{what}");
                let v = values(t);
                let sum: f64 = v.iter().map(|&a| f64::from(a)).sum();
                let scale: f64 = v.iter().map(|&a| f64::from(a).abs()).sum::<f64>().max(1e-30);
                let want_sum = x.sum.unwrap();
                assert!((sum - want_sum).abs() <= 1e-12 * scale, "{what}: sum {sum} != {want_sum}");
                let first = x.first.as_ref().unwrap();
                assert_f32_eq(&v[..first.len()], first, &what);
            }
        }
        if name == fixture.full_tensor.file {
            let t = w.weight(&fixture.full_tensor.layer, &fixture.full_tensor.weight).unwrap();
            assert_f32_eq(&values(t), &fixture.full_tensor.values, "full tensor");
        }
    }
}

#[test]
fn layer4_inventory() {
    let Some(path) = real_file(4) else { return };
    let w = KerasWeights::open(&path).unwrap();
    assert_eq!(w.layer_names(), ["melgram", "ConvBNEluDr", "flatten_1", "dense_1"]);
    for layer in w.layer_names() {
        for (name, t) in w.weights(layer).unwrap() {
            println!("{layer}/{name}: {:?}", t.dims());
        }
    }
    assert_eq!(w.weight("melgram", "param_0").unwrap().dims(), [512, 1, 1, 257]);
    assert_eq!(w.weight("melgram", "param_2").unwrap().dims(), [257, 96]);
    assert_eq!(w.weight("ConvBNEluDr", "convolution2d_1_W").unwrap().dims(), [32, 1, 3, 3]);
    assert_eq!(w.weight("ConvBNEluDr", "convolution2d_5_W").unwrap().dims(), [32, 32, 3, 3]);
    assert_eq!(w.weights("ConvBNEluDr").unwrap().len(), 30);
    assert_eq!(w.weights("flatten_1").unwrap().len(), 0);
    assert_eq!(w.weight("dense_1", "dense_1_W").unwrap().dims(), [32, 50]);
}

#[test]
fn five_files_share_values() {
    let fixture: ChoiFixture = load_json("choi_weights.json");
    assert!(fixture.shared_values_identical, "h5py found differing values (see the fixture's `differing`)");
    let Some(p4) = real_file(4) else { return };
    let reference = KerasWeights::open(&p4).unwrap();
    let mut compared = 0;
    for i in 0..4 {
        let Some(path) = real_file(i) else { return };
        let w = KerasWeights::open(&path).unwrap();
        for layer in w.layer_names() {
            for (name, t) in w.weights(layer).unwrap() {
                let r = reference.weight(layer, name).unwrap_or_else(|| panic!("{layer}/{name} not in layer4"));
                assert_eq!(t.dims(), r.dims(), "layer{i} {layer}/{name}");
                let (a, b) = (values(t), values(r));
                assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()), "layer{i} {layer}/{name} differs");
                compared += 1;
            }
        }
    }
    println!("{compared} shared tensors identical across weights_layer{{0..3}} and weights_layer4");
}

#[derive(Deserialize)]
struct SyntheticFixture {
    keras_version: String,
    backend: String,
    layers: Vec<LayerFixture>,
}

#[test]
fn synthetic_keras2_file() {
    let want: SyntheticFixture = load_json("synthetic_keras2.json");
    let w = KerasWeights::open(&fixtures().join("synthetic_keras2.h5")).unwrap();
    assert_eq!(w.keras_version(), Some(want.keras_version.as_str()));
    assert_eq!(w.backend(), Some(want.backend.as_str()));
    let names: Vec<&str> = want.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(w.layer_names(), names.as_slice());
    for layer in &want.layers {
        let got = w.weights(&layer.name).unwrap();
        assert_eq!(got.len(), layer.weights.len(), "{}", layer.name);
        for ((n, t), x) in got.iter().zip(&layer.weights) {
            assert_eq!(n, &x.name);
            assert_eq!(t.dims(), x.shape.as_slice(), "{}/{n}", layer.name);
            assert_f32_eq(&values(t), x.values.as_ref().unwrap(), &format!("{}/{n}", layer.name));
        }
    }
    assert_eq!(w.weight("bn", "mean").unwrap().dims(), [0usize; 0], "scalar dataset");
    assert_eq!(w.weight("zero", "z").unwrap().dims(), [0, 3]);
}

#[derive(Deserialize)]
struct ModelSaveFixture {
    file: String,
    layer: String,
    weight: String,
    shape: Vec<usize>,
    values: Vec<f64>,
}

#[test]
fn model_save_layout() {
    let want: ModelSaveFixture = load_json("synthetic_model_save.json");
    let w = KerasWeights::open(&fixtures().join(&want.file)).unwrap();
    assert_eq!(w.keras_version(), Some("2.3.1"));
    assert_eq!(w.layer_names(), std::slice::from_ref(&want.layer));
    let t = w.weight(&want.layer, &want.weight).unwrap();
    assert_eq!(t.dims(), want.shape.as_slice());
    assert_f32_eq(&values(t), &want.values, "model_weights kernel");
}

#[test]
fn unsupported_files_are_refused() {
    let cases: std::collections::BTreeMap<String, String> = load_json("unsupported.json");
    for (file, needle) in cases {
        let path = fixtures().join(&file);
        let err = KerasWeights::open(&path).unwrap_err();
        let text = err.to_string();
        println!("{text}");
        assert!(text.contains(&file), "{text}");
        let KerasHdf5Error::Unsupported { feature, .. } = err else { panic!("not Unsupported: {text}") };
        assert!(feature.contains(&needle), "{text}");
    }
    let missing = fixtures().join("does_not_exist.h5");
    let err = KerasWeights::open(&missing).unwrap_err();
    assert!(matches!(err, KerasHdf5Error::Io { .. }) && err.path() == missing, "{err}");
}

/// Parses hostile bytes: must not panic; an error must name the file. Returns whether it failed.
fn parse_hostile(bytes: &[u8], label: &str) -> bool {
    let path = PathBuf::from(format!("hostile/{label}.hdf5"));
    match KerasWeights::parse(bytes, &path) {
        Ok(_) => false,
        Err(e) => {
            assert_eq!(e.path(), path);
            assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
            true
        }
    }
}

fn superblock_at(bytes: &[u8]) -> usize {
    [0, 512].into_iter().find(|&at| bytes[at..].starts_with(b"\x89HDF\r\n\x1a\n")).unwrap()
}

/// Rewrites the end-of-file address of a version-0 superblock with 8-byte offsets (both test
/// files have one), so that truncated files get past the truncation check into the structures.
fn set_eof(bytes: &mut [u8], sb: usize, eof: u64) {
    bytes[sb + 40..sb + 48].copy_from_slice(&eof.to_le_bytes());
}

/// A small deterministic generator (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Truncations (plain, and with the superblock's end-of-file fixed up), byte flips around every
/// structure signature and at a stride, and garbage after a valid superblock.
fn hostile_battery(original: &[u8], label: &str, stride: usize) -> (usize, usize) {
    let (mut cases, mut failures) = (0, 0);
    let sb = superblock_at(original);
    let stored_base = u64::from_le_bytes(original[sb + 24..sb + 32].try_into().unwrap());
    let len = original.len();
    let cuts: Vec<usize> = (0..len.min(4096)).step_by(7).chain((4096..len).step_by(stride)).chain([len - 1]).collect();
    for &cut in &cuts {
        assert!(parse_hostile(&original[..cut], &format!("{label}-cut{cut}")), "truncation at {cut} parsed");
        cases += 1;
        failures += 1;
        if cut >= sb + 96 {
            let mut b = original[..cut].to_vec();
            set_eof(&mut b, sb, cut as u64 - sb as u64 + stored_base);
            failures += usize::from(parse_hostile(&b, &format!("{label}-cut{cut}-eof")));
            cases += 1;
        }
    }
    // Flip bytes in the superblock, in every object header / B-tree / heap region, and at a stride.
    let mut spots: Vec<usize> = (0..(sb + 0x400).min(len)).collect();
    for sig in [&b"TREE"[..], b"SNOD", b"HEAP", b"GCOL"] {
        for at in original.windows(4).enumerate().filter(|(_, w)| *w == sig).map(|(i, _)| i) {
            spots.extend(at..(at + 96).min(len));
        }
    }
    spots.extend((0..len).step_by(stride));
    let mut b = original.to_vec();
    for &at in &spots {
        for mask in [0xff, 0x01, 0x80] {
            b[at] ^= mask;
            failures += usize::from(parse_hostile(&b, &format!("{label}-flip{at}^{mask:#x}")));
            cases += 1;
            b[at] ^= mask;
        }
    }
    // A valid superblock followed by garbage.
    let mut rng = Lcg(0x5eed);
    for round in 0..100 {
        let mut b = original[..sb + 96].to_vec();
        b.extend((0..4096).map(|_| rng.next() as u8));
        let n = b.len() as u64;
        set_eof(&mut b, sb, n - sb as u64 + stored_base);
        failures += usize::from(parse_hostile(&b, &format!("{label}-garbage{round}")));
        cases += 1;
    }
    (cases, failures)
}

#[test]
fn hostile_inputs_give_errors_naming_the_file() {
    assert!(parse_hostile(&[], "empty"));
    let mut rng = Lcg(42);
    for round in 0..50 {
        let b: Vec<u8> = (0..(round * 97 + 1)).map(|_| rng.next() as u8).collect();
        assert!(parse_hostile(&b, &format!("random{round}")));
    }
    let synthetic = std::fs::read(fixtures().join("synthetic_keras2.h5")).unwrap();
    let (cases, failures) = hostile_battery(&synthetic, "synthetic", 61);
    println!("synthetic_keras2.h5: {failures} of {cases} hostile variants refused, none panicked");
    // The signature, superblock version and offset sizes must be refused when damaged.
    for at in [512, 515, 520, 525] {
        let mut b = synthetic.clone();
        b[at] ^= 0x40;
        assert!(parse_hostile(&b, &format!("synthetic-sb{at}")), "flip at {at} parsed");
    }
    let Some(path) = real_file(4) else { return };
    let real = std::fs::read(path).unwrap();
    let (cases, failures) = hostile_battery(&real, "layer4", 4099);
    println!("weights_layer4_theano.hdf5: {failures} of {cases} hostile variants refused, none panicked");
}

#[test]
fn cycles_are_detected() {
    let original = std::fs::read(fixtures().join("synthetic_keras2.h5")).unwrap();
    let sb = superblock_at(&original);
    let root = u64::from_le_bytes(original[sb + 64..sb + 72].try_into().unwrap()) as usize;
    let header = sb + root;
    // The root object header's first message is a continuation: point it at the header's own
    // first block (relative address root + 16, 24 bytes long).
    assert_eq!(&original[header + 16..header + 18], &[0x10, 0x00], "expected a continuation message first");
    let mut b = original.clone();
    b[header + 24..header + 32].copy_from_slice(&(root as u64 + 16).to_le_bytes());
    b[header + 32..header + 40].copy_from_slice(&24u64.to_le_bytes());
    let err = KerasWeights::parse(&b, Path::new("cyclic.h5")).unwrap_err().to_string();
    assert!(err.contains("cyclic.h5") && err.contains("cycle"), "{err}");
    // A group B-tree whose node lists itself as a child: found either as a cycle or as a level
    // mismatch, never a hang.
    let tree = original.windows(4).position(|w| w == b"TREE").unwrap();
    let mut b = original.clone();
    b[tree + 5] = 1; // level 1: children are B-tree nodes
    b[tree + 24 + 8..tree + 24 + 16].copy_from_slice(&((tree - sb) as u64).to_le_bytes());
    let err = KerasWeights::parse(&b, Path::new("cyclic_tree.h5")).unwrap_err().to_string();
    assert!(err.contains("cyclic_tree.h5") && err.contains("B-tree"), "{err}");
}
