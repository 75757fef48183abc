//! The TF1 checkpoint reader against musicnn's real checkpoints (from the published wheel) and
//! against hostile and synthetic indexes built here byte by byte.

#[path = "common/tf_table.rs"]
mod tf_table;

use std::io::Read;
use std::path::{Path, PathBuf};
use tf_table::{build_index, entry_proto, header_proto, zeros_crc, Entry};

use candle_core::{DType, Device};
use jukemir_models::tf_checkpoint::{
    crc32c, is_optimizer_slot, mask_crc, parse_index, TfCheckpoint, TfCheckpointError, TfDType,
};

fn weights_dir() -> PathBuf {
    jukemir_test_support::test_file("weights")
}

/// Extracts `musicnn/MSD_musicnn/{.index,.data-00000-of-00001,checkpoint}` from the wheel.
fn msd_musicnn(tmp: &tempfile::TempDir) -> Option<PathBuf> {
    let wheel = weights_dir().join("musicnn-0.1.0-py3-none-any.whl");
    if !wheel.is_file() {
        eprintln!("skipping: {} is absent", wheel.display());
        return None;
    }
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
    let dir = tmp.path().join("MSD_musicnn");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [".index", ".data-00000-of-00001", "checkpoint"] {
        let mut entry = zip.by_name(&format!("musicnn/MSD_musicnn/{name}")).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    Some(dir)
}

fn big_dir() -> Option<PathBuf> {
    let dir = weights_dir().join("musicnn_big");
    if !dir.join(".index").is_file() {
        eprintln!("skipping: {} is absent", dir.join(".index").display());
        return None;
    }
    Some(dir)
}

fn f32s(ckpt: &TfCheckpoint, name: &str) -> Vec<f32> {
    ckpt.tensor(name, &Device::Cpu).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Expected (non-slot) variables of MSD_musicnn: (name, shape).
fn musicnn_variables(front: usize, dense: usize) -> Vec<(String, Vec<usize>)> {
    let mut v = Vec::new();
    // The pooled front-end + mid-end features feeding the dense layer: 1506 for musicnn.
    let pooled = (561 + 3 * front) * 2;
    let bn = [1, 204, 204, 51, 51, 51, front, front, front, pooled, dense];
    for (i, &n) in bn.iter().enumerate() {
        let layer = if i == 0 { "batch_normalization".to_string() } else { format!("batch_normalization_{i}") };
        for p in ["beta", "gamma", "moving_mean", "moving_variance"] {
            v.push((format!("{layer}/{p}"), vec![n]));
        }
    }
    v.push(("beta1_power".into(), vec![]));
    v.push(("beta2_power".into(), vec![]));
    let convs: [(&str, [usize; 4]); 8] = [
        ("conv2d", [7, 38, 1, 204]),
        ("conv2d_1", [7, 67, 1, 204]),
        ("conv2d_2", [128, 1, 1, 51]),
        ("conv2d_3", [64, 1, 1, 51]),
        ("conv2d_4", [32, 1, 1, 51]),
        ("conv2d_5", [7, 561, 1, front]),
        ("conv2d_6", [7, front, 1, front]),
        ("conv2d_7", [7, front, 1, front]),
    ];
    for (layer, k) in convs {
        v.push((format!("{layer}/bias"), vec![k[3]]));
        v.push((format!("{layer}/kernel"), k.to_vec()));
    }
    v.push(("dense/bias".into(), vec![dense]));
    v.push(("dense/kernel".into(), vec![pooled, dense]));
    v.push(("dense_1/bias".into(), vec![50]));
    v.push(("dense_1/kernel".into(), vec![dense, 50]));
    v.sort();
    v
}

fn listed(ckpt: &TfCheckpoint) -> Vec<(String, Vec<usize>)> {
    ckpt.entries().filter(|(n, _)| !n.contains("/Adam")).map(|(n, i)| (n.to_string(), i.shape.clone())).collect()
}

#[test]
fn msd_musicnn_lists_its_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(dir) = msd_musicnn(&tmp) else { return };
    let ckpt = TfCheckpoint::open(&dir).unwrap();
    assert_eq!(ckpt.index_path(), dir.join(".index"));
    assert_eq!(ckpt.header().num_shards, 1);
    let names: Vec<&str> = ckpt.names().collect();
    assert_eq!(names.len(), 150);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "names are sorted");
    assert_eq!(listed(&ckpt), musicnn_variables(64, 200));
    assert!(ckpt.entries().all(|(_, i)| i.dtype == TfDType::Float && i.num_slices == 0));

    // Adam slots: two per trainable variable, shaped like it; none for BN statistics.
    let slots: Vec<&str> = ckpt.names().filter(|n| is_optimizer_slot(n)).collect();
    assert_eq!(slots.len(), 84 + 2);
    let variables: Vec<&str> = ckpt.variable_names().collect();
    assert_eq!(variables.len(), 64);
    for var in &variables {
        let trainable = !var.ends_with("moving_mean") && !var.ends_with("moving_variance");
        for slot in ["Adam", "Adam_1"] {
            let slot_entry = ckpt.entry(&format!("{var}/{slot}"));
            assert_eq!(slot_entry.is_some(), trainable, "{var}/{slot}");
            if let Some(s) = slot_entry {
                assert_eq!(s.shape, ckpt.entry(var).unwrap().shape);
            }
        }
    }

    // The same checkpoint via its `.index` path and via its (empty) prefix.
    let by_index = TfCheckpoint::open(&dir.join(".index")).unwrap();
    let by_prefix = TfCheckpoint::open(&dir.join("")).unwrap();
    assert!(by_index.names().eq(ckpt.names()) && by_prefix.names().eq(ckpt.names()));
}

#[test]
fn msd_musicnn_entries_are_consistent_and_crcs_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(dir) = msd_musicnn(&tmp) else { return };
    let ckpt = TfCheckpoint::open(&dir).unwrap();
    let data = std::fs::read(ckpt.data_path(0)).unwrap();
    assert_eq!(ckpt.data_path(0), dir.join(".data-00000-of-00001"));
    for (name, info) in ckpt.entries() {
        assert!(info.offset + info.size <= data.len() as u64, "{name}");
        assert_eq!(info.size, info.elem_count() as u64 * 4, "{name}");
        // Independent of the reader: raw little-endian f32s at the entry's offset.
        let raw = &data[info.offset as usize..(info.offset + info.size) as usize];
        assert_eq!(mask_crc(crc32c(raw)), info.crc32c, "{name}");
        let expected: Vec<f32> = raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let t = ckpt.tensor(name, &Device::Cpu).unwrap();
        assert_eq!(t.dtype(), DType::F32);
        assert_eq!(t.dims(), info.shape.as_slice());
        assert_eq!(t.flatten_all().unwrap().to_vec1::<f32>().unwrap(), expected, "{name}");
        assert!(expected.iter().all(|x| x.is_finite()), "{name}");
        if name.ends_with("moving_variance") {
            assert!(expected.iter().all(|&x| x > 0.0), "{name} has a non-positive variance");
        }
    }
    let vars = ckpt.variables(&Device::Cpu).unwrap();
    assert_eq!(vars.len(), 64);
    assert_eq!(ckpt.tensors_with_prefix("conv2d_1/", &Device::Cpu).unwrap().len(), 6);
}

#[test]
fn msd_musicnn_pinned_values() {
    // Bit patterns read by an independent `struct`-only Python parser of the same files.
    let tmp = tempfile::tempdir().unwrap();
    let Some(dir) = msd_musicnn(&tmp) else { return };
    let ckpt = TfCheckpoint::open(&dir).unwrap();
    let pins: [(&str, &[u32]); 4] = [
        ("batch_normalization/beta", &[0xbe27a160]),
        ("batch_normalization_10/beta", &[0x3e85cd80, 0x3e0dbf10, 0x3ee5742b, 0x3e843efd]),
        ("conv2d_6/kernel", &[0x3b2e166f, 0x3b07256a, 0x3b27fd0a, 0xba7ee61c]),
        ("dense_1/bias", &[0xbfa2ac05, 0xc0021ae7, 0xc017bf8f, 0xc010c68f]),
    ];
    for (name, bits) in pins {
        let got: Vec<u32> = f32s(&ckpt, name).iter().take(bits.len()).map(|x| x.to_bits()).collect();
        assert_eq!(got, bits, "{name}");
    }
    assert_eq!(f32s(&ckpt, "batch_normalization/beta"), [-0.163_701_53]);
    assert_eq!(ckpt.tensor("beta1_power", &Device::Cpu).unwrap().dims(), &[] as &[usize]);
}

#[test]
fn musicnn_big_index_without_data() {
    let Some(dir) = big_dir() else { return };
    let ckpt = TfCheckpoint::open(&dir).unwrap();
    assert_eq!(ckpt.names().count(), 150);
    assert_eq!(listed(&ckpt), musicnn_variables(512, 500));
    let err = ckpt.tensor("conv2d/kernel", &Device::Cpu).unwrap_err();
    assert!(matches!(err, TfCheckpointError::DataFileMissing { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("data file missing") && msg.contains(".data-00000-of-00001"), "{msg}");
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
}

#[test]
fn missing_tensor_and_missing_checkpoint() {
    let Some(dir) = big_dir() else { return };
    let ckpt = TfCheckpoint::open(&dir).unwrap();
    let err = ckpt.tensor("nope", &Device::Cpu).unwrap_err();
    assert!(matches!(err, TfCheckpointError::MissingTensor { .. }) && err.to_string().contains(".index"));
    let tmp = tempfile::tempdir().unwrap();
    let err = TfCheckpoint::open(tmp.path()).unwrap_err();
    assert!(matches!(err, TfCheckpointError::NotFound { .. }), "{err}");
    let err = TfCheckpoint::open(&tmp.path().join("model.ckpt")).unwrap_err();
    assert!(err.to_string().contains("model.ckpt.index"), "{err}");
}

// ---- hostile input ---------------------------------------------------------------------------

fn real_index() -> Option<Vec<u8>> {
    Some(std::fs::read(big_dir()?.join(".index")).unwrap())
}

fn assert_names_file(err: &TfCheckpointError, path: &Path) {
    assert!(err.to_string().contains(&path.display().to_string()), "error does not name the file: {err}");
}

#[test]
fn zero_length_and_truncated_indexes_are_errors() {
    let path = Path::new("some/dir/.index");
    let err = parse_index(&[], path).unwrap_err();
    assert!(err.to_string().contains("truncated footer"), "{err}");
    assert_names_file(&err, path);

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(".index"), b"").unwrap();
    let err = TfCheckpoint::open(tmp.path()).unwrap_err();
    assert_names_file(&err, &tmp.path().join(".index"));

    let Some(bytes) = real_index() else { return };
    for cut in 0..bytes.len() {
        let err = parse_index(&bytes[..cut], path).unwrap_err();
        assert_names_file(&err, path);
    }
    let err = parse_index(&bytes[..bytes.len() - 1], path).unwrap_err();
    assert!(err.to_string().contains("magic"), "{err}");
}

#[test]
fn flipped_bytes_are_detected() {
    let Some(bytes) = real_index() else { return };
    let path = Path::new("x/.index");
    let whole = parse_index(&bytes, path).unwrap();
    let err = {
        let mut b = bytes.clone();
        b[100] ^= 0x01;
        parse_index(&b, path).unwrap_err()
    };
    assert!(matches!(err, TfCheckpointError::BlockCrc { offset: 0, .. }), "{err}");
    assert!(err.to_string().contains("CRC mismatch"));
    assert_names_file(&err, path);
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            match parse_index(&b, path) {
                Err(e) => assert_names_file(&e, path),
                // Only the footer's padding is not covered by a CRC or the magic.
                Ok(index) => assert!(i >= bytes.len() - 48 && index == whole, "flip at {i} went unnoticed"),
            }
        }
    }
}

#[test]
fn entries_past_the_data_file_and_corrupt_data() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(dir) = msd_musicnn(&tmp) else { return };
    let data_path = dir.join(".data-00000-of-00001");
    let data = std::fs::read(&data_path).unwrap();

    // A flipped data byte: the index opens, the tensor's CRC fails, the others read fine.
    let mut flipped = data.clone();
    flipped[5] ^= 0x10; // inside batch_normalization/beta/Adam [4, 8)
    std::fs::write(&data_path, &flipped).unwrap();
    let ckpt = TfCheckpoint::open(&dir).unwrap();
    let err = ckpt.tensor("batch_normalization/beta/Adam", &Device::Cpu).unwrap_err();
    assert!(matches!(err, TfCheckpointError::DataCrc { .. }), "{err}");
    assert_names_file(&err, &data_path);
    assert!(ckpt.tensor("batch_normalization/beta", &Device::Cpu).is_ok());

    // A truncated data file: opening names the data file and the first entry past its end.
    std::fs::write(&data_path, &data[..1000]).unwrap();
    let err = TfCheckpoint::open(&dir).unwrap_err();
    assert!(matches!(err, TfCheckpointError::CorruptEntry { .. }), "{err}");
    assert!(err.to_string().contains("past the end of the data file"), "{err}");
    assert_names_file(&err, &data_path);

    // Truncated after opening: reading checks again before allocating.
    std::fs::write(&data_path, &data).unwrap();
    let ckpt = TfCheckpoint::open(&dir).unwrap();
    std::fs::write(&data_path, &data[..1000]).unwrap();
    let err = ckpt.tensor("dense/kernel", &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("past the end of the data file"), "{err}");
    assert!(ckpt.tensor("batch_normalization/beta", &Device::Cpu).is_ok());
}

// ---- synthetic checkpoints -------------------------------------------------------------------

/// Builds a checkpoint `<dir>/model.ckpt` from (name, dtype, dims, element bytes) with all
/// data in shard 0 of `num_shards`.
fn write_checkpoint(dir: &Path, tensors: &[(&str, u64, Vec<i64>, Vec<u8>)], big_endian: bool) -> PathBuf {
    let mut data = Vec::new();
    let mut rows = vec![(Vec::new(), header_proto(1, big_endian))];
    let mut sorted: Vec<_> = tensors.iter().collect();
    sorted.sort_by_key(|t| t.0);
    for (name, dtype, dims, bytes) in sorted {
        let e = Entry {
            dtype: *dtype,
            dims: dims.clone(),
            shard: 0,
            offset: data.len() as u64,
            size: bytes.len() as u64,
            crc: mask_crc(crc32c(bytes)),
            slices: 0,
        };
        data.extend_from_slice(bytes);
        rows.push((name.as_bytes().to_vec(), entry_proto(&e)));
    }
    let prefix = dir.join("model.ckpt");
    std::fs::write(dir.join("model.ckpt.index"), build_index(&rows)).unwrap();
    std::fs::write(dir.join("model.ckpt.data-00000-of-00001"), data).unwrap();
    prefix
}

#[test]
fn synthetic_dtypes_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let le = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let half: Vec<u8> = [0x3c00u16, 0xc000, 0x3800].iter().flat_map(|x| x.to_le_bytes()).collect();
    let tensors = vec![
        ("a/float", 1, vec![2, 3], le(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
        ("b/double", 2, vec![2], [0.25f64, -8.0].iter().flat_map(|x| x.to_le_bytes()).collect()),
        ("c/int32", 3, vec![], (-7i32).to_le_bytes().to_vec()),
        ("d/int64", 9, vec![2], [i64::MIN, 42].iter().flat_map(|x| x.to_le_bytes()).collect()),
        ("e/half", 19, vec![3], half),
        ("f/bool", 10, vec![3], vec![1, 0, 1]),
        ("g/empty", 1, vec![0, 5], vec![]),
        ("h/int8", 6, vec![2], vec![1, 0xff]),
    ];
    let prefix = write_checkpoint(tmp.path(), &tensors, false);
    // A directory with a single `*.index` and no `checkpoint` file resolves to it.
    let ckpt = TfCheckpoint::open(tmp.path()).unwrap();
    assert_eq!(ckpt.prefix(), prefix);
    let cpu = Device::Cpu;
    let t = ckpt.tensor("a/float", &cpu).unwrap();
    assert_eq!(t.to_vec2::<f32>().unwrap(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(ckpt.tensor("b/double", &cpu).unwrap().to_vec1::<f64>().unwrap(), [0.25, -8.0]);
    assert_eq!(ckpt.tensor("c/int32", &cpu).unwrap().to_scalar::<i32>().unwrap(), -7);
    assert_eq!(ckpt.tensor("d/int64", &cpu).unwrap().to_vec1::<i64>().unwrap(), [i64::MIN, 42]);
    let h = ckpt.tensor("e/half", &cpu).unwrap();
    assert_eq!(h.dtype(), DType::F16);
    assert_eq!(h.to_dtype(DType::F32).unwrap().to_vec1::<f32>().unwrap(), [1.0, -2.0, 0.5]);
    assert_eq!(ckpt.tensor("f/bool", &cpu).unwrap().to_vec1::<u8>().unwrap(), [1, 0, 1]);
    assert_eq!(ckpt.tensor("g/empty", &cpu).unwrap().dims(), [0, 5]);
    // int8 has no candle dtype, but its raw bytes are readable.
    let err = ckpt.tensor("h/int8", &cpu).unwrap_err();
    assert!(matches!(err, TfCheckpointError::UnsupportedDtype { dtype: TfDType::Int8, .. }), "{err}");
    assert!(err.to_string().contains("DT_INT8"));
    assert_eq!(ckpt.tensor_bytes("h/int8").unwrap(), [1, 0xff]);

    // The same through a `checkpoint` state file naming a relative prefix.
    std::fs::write(tmp.path().join("checkpoint"), "model_checkpoint_path: \"model.ckpt\"\n").unwrap();
    assert_eq!(TfCheckpoint::open(tmp.path()).unwrap().prefix(), prefix);
}

#[test]
fn synthetic_big_endian_is_swapped() {
    let tmp = tempfile::tempdir().unwrap();
    let be: Vec<u8> = [1.5f32, -3.0].iter().flat_map(|x| x.to_be_bytes()).collect();
    let be64: Vec<u8> = [7i64].iter().flat_map(|x| x.to_be_bytes()).collect();
    write_checkpoint(tmp.path(), &[("x", 1, vec![2], be), ("y", 9, vec![1], be64)], true);
    let ckpt = TfCheckpoint::open(&tmp.path().join("model.ckpt")).unwrap();
    assert_eq!(f32s(&ckpt, "x"), [1.5, -3.0]);
    assert_eq!(ckpt.tensor("y", &Device::Cpu).unwrap().to_vec1::<i64>().unwrap(), [7]);
}

fn one_entry_index(e: &Entry, num_shards: u64) -> Vec<u8> {
    build_index(&[(Vec::new(), header_proto(num_shards, false)), (b"t".to_vec(), entry_proto(e))])
}

fn base_entry() -> Entry {
    Entry { dtype: 1, dims: vec![2, 2], shard: 0, offset: 0, size: 16, crc: zeros_crc(), slices: 0 }
}

#[test]
fn synthetic_hostile_entries() {
    let path = Path::new("h/.index");
    let base = parse_index(&one_entry_index(&base_entry(), 1), path).unwrap();
    assert_eq!(base.entries["t"].shape, [2, 2]);

    let cases: Vec<(Entry, &str)> = vec![
        (Entry { dims: vec![-1, 2], ..base_entry() }, "invalid dimension -1"),
        (Entry { size: 12, ..base_entry() }, "does not match shape"),
        (Entry { dims: vec![1 << 40, 1 << 40], ..base_entry() }, "overflows"),
        (Entry { shard: 3, ..base_entry() }, "shard_id 3"),
        (Entry { offset: u64::MAX, ..base_entry() }, "negative offset"),
        (Entry { offset: i64::MAX as u64, size: i64::MAX as u64, dtype: 7, ..base_entry() }, "overflows"),
    ];
    for (entry, expected) in cases {
        let err = parse_index(&one_entry_index(&entry, 1), path).unwrap_err();
        assert!(err.to_string().contains(expected) && err.to_string().contains("entry `t`"), "{err}");
        assert_names_file(&err, path);
    }

    // No header, and a header that is not first.
    let err = parse_index(&build_index(&[(b"t".to_vec(), entry_proto(&base_entry()))]), path).unwrap_err();
    assert!(err.to_string().contains("header"), "{err}");
    // Out-of-order keys.
    let rows = [(Vec::new(), header_proto(1, false)), (b"b".to_vec(), vec![]), (b"a".to_vec(), vec![])];
    assert!(parse_index(&build_index(&rows), path).unwrap_err().to_string().contains("strictly increasing"));
    // Garbage protobuf.
    let rows = [(Vec::new(), vec![0x0a, 0x7f, 0x00])];
    assert!(parse_index(&build_index(&rows), path).unwrap_err().to_string().contains("malformed"));
}

#[test]
fn synthetic_unsupported_tensors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sliced = Entry { slices: 2, size: 0, ..base_entry() };
    let string = Entry { dtype: 7, size: 5, ..base_entry() };
    let other_shard = Entry { shard: 1, ..base_entry() };
    let far = Entry { offset: 1 << 40, ..base_entry() };
    let rows = vec![
        (Vec::new(), header_proto(2, false)),
        (b"far".to_vec(), entry_proto(&far)),
        (b"other_shard".to_vec(), entry_proto(&other_shard)),
        (b"sliced".to_vec(), entry_proto(&sliced)),
        (b"string".to_vec(), entry_proto(&string)),
    ];
    std::fs::write(dir.join("m.index"), build_index(&rows)).unwrap();
    let ckpt = TfCheckpoint::open(&dir.join("m")).unwrap(); // shard 0 is absent: nothing to check yet
    let cpu = Device::Cpu;
    let err = ckpt.tensor("sliced", &cpu).unwrap_err();
    assert!(matches!(err, TfCheckpointError::SlicedTensor { slices: 2, .. }), "{err}");
    assert!(err.to_string().contains("sliced tensors are unsupported"));
    let err = ckpt.tensor("string", &cpu).unwrap_err();
    assert!(err.to_string().contains("DT_STRING"), "{err}");
    let err = ckpt.tensor("other_shard", &cpu).unwrap_err();
    assert!(err.to_string().contains("m.data-00001-of-00002") && err.to_string().contains("data file missing"));

    // With shard 0 present, the entry far past its end is caught at open and at read.
    std::fs::write(dir.join("m.data-00000-of-00002"), [0u8; 16]).unwrap();
    let err = TfCheckpoint::open(&dir.join("m")).unwrap_err();
    assert!(err.to_string().contains("`far`") && err.to_string().contains("past the end"), "{err}");
    let err = ckpt.tensor("far", &cpu).unwrap_err();
    assert!(err.to_string().contains("m.data-00000-of-00002") && err.to_string().contains("past the end"), "{err}");
}
