//! Hostile weight files for every reader of `jukemir-models`, tested like a fuzzer:
//! * the TensorFlow checkpoint index (`tf_checkpoint::parse_index`), seeded with musicnn's real
//!   indexes (from the published wheel and `musicnn_big`), mutated with the block CRCs recomputed
//!   (so that the damage reaches the table and protobuf decoders) or not; and tables built here
//!   whose entries lie about shape, offset, size and shard, then read against a short data file;
//! * Keras HDF5 (`keras_hdf5::KerasWeights::parse`), seeded with the synthetic Keras 1/2 fixtures
//!   and a real choi weights file, with lying superblock, B-tree, heap and symbol-table fields;
//! * legacy PyTorch (`torch_legacy::LegacyCheckpoint::from_bytes`), seeded with the legacy
//!   fixtures, tiny Jukebox checkpoints and CLMR's legacy checkpoint, with the pickles' integers
//!   (storage sizes, shapes, strides, offsets, string lengths) lying; and files built here with
//!   arbitrary storage and tensor metadata;
//! * zip PyTorch (`torch_checkpoint::state_dict`, through a temporary file), seeded with CLMR's
//!   tiny Lightning checkpoint, with lying zip records and pickle integers.
//!
//! Every call must return `Ok` or an error naming the file (or the label given for in-memory
//! input), without panicking, without a single allocation above the harness's 256 MiB cap, and
//! quickly; what is accepted is then read in full. Inputs that once broke a reader are kept in
//! `fixtures/hostile/<reader>/` and replayed by `regressions_stay_fixed`.

#[path = "../../audio/tests/hostile_harness.rs"]
mod harness;

#[path = "common/legacy_pickle.rs"]
mod legacy_pickle;
#[path = "common/tf_table.rs"]
mod tf_table;

use legacy_pickle::{legacy, tensor, SYS_INFO};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tf_table::{build_index, entry_proto, header_proto, zeros_crc, Entry};

use harness::{
    apply, config, interesting, mutations, names, random_bytes, replay_fixtures, run_case, zip_fields, Field, Seed,
};
use jukemir_models::keras_hdf5::KerasWeights;
use jukemir_models::tf_checkpoint::{crc32c, mask_crc, parse_index, TfCheckpoint};
use jukemir_models::torch_checkpoint::state_dict;
use jukemir_models::torch_legacy::LegacyCheckpoint;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn shared() -> PathBuf {
    jukemir_test_support::test_data()
}

fn tmp() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
}

/// A folder of its own for each test thread (tests of this binary run in parallel).
fn thread_dir() -> PathBuf {
    let name = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), "");
    let dir = tmp().path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------------
// TensorFlow checkpoint index

fn varint_at(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The (offset, size) of every block of a well-formed table: metaindex, index and data blocks.
fn table_blocks(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let Some(footer) = b.len().checked_sub(48).map(|f| &b[f..]) else { return out };
    let mut p = 0;
    let handles: Vec<u64> = (0..4).map_while(|_| varint_at(footer, &mut p)).collect();
    let [mo, ms, io, is] = handles[..] else { return out };
    out.extend([(mo as usize, ms as usize), (io as usize, is as usize)]);
    let Some(index) = b.get(io as usize..(io + is) as usize) else { return out };
    let n = index.len().saturating_sub(4);
    let restarts = index.get(n..).map_or(0, |r| u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as usize);
    let entries = &index[..n.saturating_sub(restarts * 4)];
    let mut pos = 0;
    while pos < entries.len() {
        let (Some(_), Some(non_shared), Some(value_len)) =
            (varint_at(entries, &mut pos), varint_at(entries, &mut pos), varint_at(entries, &mut pos))
        else {
            break;
        };
        pos += non_shared as usize;
        let mut v = pos;
        if let (Some(o), Some(s)) = (varint_at(entries, &mut v), varint_at(entries, &mut v)) {
            out.push((o as usize, s as usize));
        }
        pos += value_len as usize;
    }
    out
}

/// Recomputes the trailer CRC of each block of the seed's layout that still fits.
fn fix_table_crcs(b: &mut [u8], blocks: &[(usize, usize)]) {
    for &(off, size) in blocks {
        if off + size + 5 <= b.len() {
            let crc = mask_crc(crc32c(&b[off..off + size + 1]));
            b[off + size + 1..off + size + 5].copy_from_slice(&crc.to_le_bytes());
        }
    }
}

/// A seed index and the (offset, size) of its blocks.
type TfSeed = (Seed, Vec<(usize, usize)>);

fn tf_seeds() -> &'static [TfSeed] {
    static SEEDS: OnceLock<Vec<TfSeed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut raw: Vec<(String, Vec<u8>)> = Vec::new();
        let wheel = shared().join("weights/musicnn-0.1.0-py3-none-any.whl");
        match std::fs::File::open(&wheel) {
            Ok(f) => {
                let mut zip = zip::ZipArchive::new(f).unwrap();
                for name in ["musicnn/MSD_musicnn/.index", "musicnn/MTT_vgg/.index"] {
                    let mut bytes = Vec::new();
                    zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
                    raw.push((format!("wheel:{name}"), bytes));
                }
            }
            Err(_) => eprintln!("note: {} is absent; its seeds are skipped", wheel.display()),
        }
        if let Ok(bytes) = std::fs::read(shared().join("weights/musicnn_big/.index")) {
            raw.push(("musicnn_big/.index".into(), bytes));
        }
        let mut entries = vec![(Vec::new(), header_proto(1, false))];
        for (name, dims) in [("a/kernel", vec![2, 3]), ("b", vec![]), ("c/bias", vec![4])] {
            let e = Entry { dtype: 1, dims, shard: 0, offset: 0, size: 0, crc: zeros_crc(), slices: 0 };
            let size = e.dims.iter().product::<i64>() as u64 * 4;
            entries.push((name.as_bytes().to_vec(), entry_proto(&Entry { size, ..e })));
        }
        raw.push(("synthetic 3-entry index".into(), build_index(&entries)));
        raw.into_iter()
            .map(|(name, bytes)| {
                let blocks = table_blocks(&bytes);
                assert!(blocks.len() >= 3, "{name}: {blocks:?}");
                let mut fields: Vec<Field> = (0..4).map(|i| Field::le(bytes.len() - 48 + i, 1)).collect();
                for &(off, size) in &blocks {
                    fields.extend([Field::le(off, 1), Field::le(off + 1, 1), Field::le(off + 2, 1)]);
                    fields.extend([Field::le(off + size.saturating_sub(4), 4)]);
                }
                (Seed::new(name, bytes).with_fields(fields), blocks)
            })
            .collect()
    })
}

fn check_index(target: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let label = "models/hostile.ckpt/.index";
    run_case(target, bytes, || -> Result<(), TestCaseError> {
        match parse_index(bytes, Path::new(label)) {
            Ok(index) => {
                for info in index.entries.values() {
                    let _ = (info.elem_count(), info.expected_size());
                }
                Ok(())
            }
            Err(e) => names(label, &e.to_string()),
        }
    })?
}

/// Writes `<dir>/model.ckpt.index` and a data shard of `data_len` bytes, then opens the
/// checkpoint and reads every tensor.
fn check_checkpoint(target: &str, index: &[u8], data_len: usize) -> Result<(), TestCaseError> {
    let dir = thread_dir().join("tf");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.ckpt.index"), index).unwrap();
    std::fs::write(dir.join("model.ckpt.data-00000-of-00001"), vec![0u8; data_len]).unwrap();
    let label = dir.display().to_string();
    run_case(target, index, || -> Result<(), TestCaseError> {
        match TfCheckpoint::open(&dir.join("model.ckpt")) {
            Ok(ckpt) => {
                let names_: Vec<String> = ckpt.names().map(String::from).collect();
                for name in names_ {
                    if let Err(e) = ckpt.tensor(&name, &candle_core::Device::Cpu) {
                        names(&label, &e.to_string())?;
                    }
                }
                Ok(())
            }
            Err(e) => names(&label, &e.to_string()),
        }
    })?
}

fn arb_entry() -> impl Strategy<Value = Entry> {
    (
        prop_oneof![1u64..24, interesting()],
        proptest::collection::vec(prop_oneof![0i64..5, interesting().prop_map(|v| v as i64)], 0..5),
        prop_oneof![3 => Just(0u64), 1 => interesting()],
        prop_oneof![2 => 0u64..64, 1 => interesting()],
        prop_oneof![2 => 0u64..64, 1 => interesting()],
        prop_oneof![4 => Just(0usize), 1 => 1usize..3],
    )
        .prop_map(|(dtype, dims, shard, offset, size, slices)| Entry {
            dtype,
            dims,
            shard,
            offset,
            size,
            crc: zeros_crc(),
            slices,
        })
}

// ---------------------------------------------------------------------------------------------
// Keras HDF5

/// Superblock fields, and those after each B-tree, heap, symbol-node and global-heap signature.
fn hdf5_fields(b: &[u8]) -> Vec<Field> {
    let mut f: Vec<Field> = [8, 13, 14].map(|o| Field::le(o, 1)).to_vec();
    f.extend([16, 18].map(|o| Field::le(o, 2)));
    f.extend([24, 32, 40, 48, 56, 64].map(|o| Field::le(o, 8)));
    for p in 0..b.len().saturating_sub(4) {
        match &b[p..p + 4] {
            b"TREE" => f.extend([Field::le(p + 4, 1), Field::le(p + 5, 1), Field::le(p + 6, 2), Field::le(p + 24, 8)]),
            b"HEAP" => f.extend([8, 16, 24].map(|o| Field::le(p + o, 8))),
            b"SNOD" => f.extend([Field::le(p + 4, 1), Field::le(p + 6, 2), Field::le(p + 8, 8), Field::le(p + 16, 8)]),
            b"GCOL" => f.extend([Field::le(p + 4, 1), Field::le(p + 8, 8), Field::le(p + 16, 2), Field::le(p + 24, 8)]),
            _ => {}
        }
    }
    f
}

fn hdf5_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        for name in ["synthetic_keras2.h5", "synthetic_model_save.h5", "unsupported_int.h5"] {
            let bytes = std::fs::read(fixtures().join("choi/hdf5").join(name)).unwrap();
            out.push(Seed::new(name, bytes.clone()).with_fields(hdf5_fields(&bytes)));
        }
        let real = shared().join("weights/choi/weights_layer1_theano.hdf5");
        match std::fs::read(&real) {
            Ok(bytes) => {
                out.push(Seed::new("choi weights_layer1_theano.hdf5", bytes.clone()).with_fields(hdf5_fields(&bytes)))
            }
            Err(_) => eprintln!("note: {} is absent; its seed is skipped", real.display()),
        }
        out
    })
}

fn check_hdf5(target: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let label = "weights/hostile.h5";
    run_case(target, bytes, || -> Result<(), TestCaseError> {
        match KerasWeights::parse(bytes, Path::new(label)) {
            Ok(w) => {
                for layer in w.layer_names() {
                    for (_, t) in w.weights(layer).unwrap_or_default() {
                        prop_assert!(t.elem_count() * 4 <= 8 * bytes.len() + 64);
                    }
                }
                Ok(())
            }
            Err(e) => names(label, &e.to_string()),
        }
    })?
}

// ---------------------------------------------------------------------------------------------
// PyTorch, legacy and zip

/// The integers and lengths of a pickle (in its first 64 KiB): `LONG1` (8-byte ints: storage
/// sizes, shapes, strides, offsets), `BININT`, `BININT1/2`, and the lengths of `BINUNICODE`,
/// `BINSTRING`, `BINBYTES` and `SHORT_BINUNICODE`. Some are false positives in data; no matter.
fn pickle_fields(b: &[u8], from: usize) -> Vec<Field> {
    let mut f = Vec::new();
    let end = b.len().min(from + (64 << 10));
    for p in from..end.saturating_sub(2) {
        match b[p] {
            0x8a if b[p + 1] <= 8 && b[p + 1] > 0 => f.push(Field::le(p + 2, b[p + 1])),
            b'J' | b'X' | b'T' | b'B' => f.push(Field::le(p + 1, 4)),
            b'K' | 0x8c | b'U' | b'C' => f.push(Field::le(p + 1, 1)),
            b'M' => f.push(Field::le(p + 1, 2)),
            _ => {}
        }
    }
    f
}

fn legacy_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        [
            "torch_legacy/openai_style.pth.tar",
            "torch_legacy/plain_state_dict.pt",
            "torch_legacy/storage_views.pt",
            "jukebox/vqvae_tiny.pth.tar",
            "jukebox/prior_tiny.pth.tar",
            "clmr/tiny_random_legacy.ckpt",
        ]
        .iter()
        .map(|rel| {
            let bytes = std::fs::read(fixtures().join(rel)).unwrap();
            Seed::new(*rel, bytes.clone()).with_fields(pickle_fields(&bytes, 0))
        })
        .collect()
    })
}

fn check_legacy(target: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let label = "checkpoints/hostile.pth.tar";
    run_case(target, bytes, || -> Result<(), TestCaseError> {
        match LegacyCheckpoint::from_bytes(bytes.to_vec(), label) {
            Ok(ckpt) => {
                let tensors: Vec<String> = ckpt.tensors().map(|(n, _)| n.to_string()).collect();
                for name in tensors {
                    match ckpt.read_bytes(&name) {
                        Ok(b) => prop_assert!(b.len() <= bytes.len(), "{name}: {} bytes", b.len()),
                        Err(e) => names(label, &e.to_string())?,
                    }
                    for e in [ckpt.read_f32(&name).err(), ckpt.read_i64(&name).err()].into_iter().flatten() {
                        names(label, &e.to_string())?;
                    }
                }
                Ok(())
            }
            Err(e) => names(label, &e.to_string()),
        }
    })?
}

fn zip_seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let bytes = std::fs::read(fixtures().join("clmr/tiny_random.ckpt")).unwrap();
        // data.pkl is the first member, stored: its pickle starts after the local header.
        let pkl = 30
            + usize::from(u16::from_le_bytes([bytes[26], bytes[27]]))
            + usize::from(u16::from_le_bytes([bytes[28], bytes[29]]));
        let mut fields = zip_fields(&bytes);
        fields.extend(pickle_fields(&bytes, pkl));
        Seed::new("clmr/tiny_random.ckpt", bytes).with_fields(fields)
    })
}

fn check_torch_file(target: &str, bytes: &[u8], ext: &str) -> Result<(), TestCaseError> {
    let path = thread_dir().join(format!("hostile.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let label = path.display().to_string();
    run_case(target, bytes, || match state_dict(&path) {
        Ok(tensors) => {
            for t in tensors.values() {
                prop_assert!(t.elem_count() <= bytes.len(), "{} elements from {} bytes", t.elem_count(), bytes.len());
            }
            Ok(())
        }
        Err(e) => names(&label, &format!("{e:#}")),
    })?
}

/// A legacy file built by hand: one storage, one tensor, all of their numbers arbitrary.
fn legacy_file(
    numel: i64,
    count: i64,
    offset: i64,
    shape: &[i64],
    strides: &[i64],
    class: &str,
    data: &[u8],
) -> Vec<u8> {
    let w = tensor(class, "0", numel, offset, shape, strides);
    legacy(&[("w", w)], &["0"], &[(count, data.to_vec())], SYS_INFO)
}

fn arb_i64() -> impl Strategy<Value = i64> {
    prop_oneof![3 => 0i64..8, 1 => interesting().prop_map(|v| v as i64), 1 => Just(-1i64)]
}

proptest! {
    #![proptest_config(config("proptest-regressions/hostile_weights.txt", 256))]

    #[test]
    fn tf_index_mutations_fail_cleanly(seed in any::<prop::sample::Index>(), muts in mutations(), fix_crcs in any::<bool>()) {
        let (seed, blocks) = &tf_seeds()[seed.index(tf_seeds().len())];
        let mut bytes = apply(seed, &muts);
        if fix_crcs {
            fix_table_crcs(&mut bytes, blocks);
        }
        check_index(&format!("parse_index {}", seed.name), &bytes)?;
    }

    /// Well-formed tables whose entries lie (dtype, shape, shard, offset, size, slices), read
    /// against a data shard of arbitrary length.
    #[test]
    fn tf_lying_entries_fail_cleanly(
        entries in proptest::collection::vec(arb_entry(), 0..4),
        num_shards in prop_oneof![Just(1u64), interesting()],
        data_len in 0usize..256,
    ) {
        let mut rows = vec![(Vec::new(), header_proto(num_shards, false))];
        for (i, e) in entries.iter().enumerate() {
            rows.push((format!("t{i}").into_bytes(), entry_proto(e)));
        }
        let index = build_index(&rows);
        check_index("parse_index (lying entries)", &index)?;
        check_checkpoint("TfCheckpoint (lying entries)", &index, data_len)?;
    }

    #[test]
    fn keras_hdf5_mutations_fail_cleanly(seed in any::<prop::sample::Index>(), muts in mutations()) {
        let seed = &hdf5_seeds()[seed.index(hdf5_seeds().len())];
        check_hdf5(&format!("KerasWeights::parse {}", seed.name), &apply(seed, &muts))?;
    }

    #[test]
    fn torch_legacy_mutations_fail_cleanly(seed in any::<prop::sample::Index>(), muts in mutations()) {
        let seed = &legacy_seeds()[seed.index(legacy_seeds().len())];
        check_legacy(&format!("LegacyCheckpoint::from_bytes {}", seed.name), &apply(seed, &muts))?;
    }

    /// Legacy files whose storage size, data count, offset, shape and strides are arbitrary.
    #[test]
    fn torch_legacy_lying_tensors_fail_cleanly(
        numel in arb_i64(),
        count in prop_oneof![Just(None), arb_i64().prop_map(Some)],
        offset in arb_i64(),
        dims in proptest::collection::vec((arb_i64(), arb_i64()), 0..4),
        class in prop::sample::select(vec!["FloatStorage", "HalfStorage", "LongStorage", "BoolStorage", "ComplexDoubleStorage", "NoStorage"]),
        data_len in 0usize..128,
    ) {
        let (shape, strides): (Vec<i64>, Vec<i64>) = dims.into_iter().unzip();
        let bytes = legacy_file(numel, count.unwrap_or(numel), offset, &shape, &strides, class, &vec![7u8; data_len]);
        check_legacy("LegacyCheckpoint::from_bytes (lying tensor)", &bytes)?;
        check_torch_file("state_dict (lying legacy tensor)", &bytes, "pt")?;
    }

    /// CLMR's zip checkpoint with lying zip records and pickle integers, through a file.
    #[test]
    fn torch_zip_mutations_fail_cleanly(muts in mutations()) {
        check_torch_file("state_dict clmr/tiny_random.ckpt", &apply(zip_seed(), &muts), "ckpt")?;
    }

    #[test]
    fn random_bytes_fail_cleanly(
        bytes in random_bytes(vec![
            b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00\x00\x08\x08\x00".to_vec(),
            vec![0x80, 0x02, 0x8a, 0x0a],
            b"PK\x03\x04".to_vec(),
        ], 2048),
    ) {
        check_index("parse_index random bytes", &bytes)?;
        check_hdf5("KerasWeights::parse random bytes", &bytes)?;
        check_legacy("LegacyCheckpoint::from_bytes random bytes", &bytes)?;
        check_torch_file("state_dict random bytes", &bytes, "pt")?;
    }
}

/// Inputs that once broke a reader: `fixtures/hostile/{tf_index,keras_hdf5,torch_legacy,torch_zip}/`.
#[test]
fn regressions_stay_fixed() {
    let mut n = replay_fixtures("tf_index", check_index);
    n += replay_fixtures("keras_hdf5", check_hdf5);
    n += replay_fixtures("torch_legacy", |name, b| {
        check_legacy(name, b)?;
        check_torch_file(name, b, "pt")
    });
    n += replay_fixtures("torch_zip", |name, b| check_torch_file(name, b, "ckpt"));
    eprintln!("{n} regression inputs replayed");
}

/// Sanity: every seed reads as it is.
#[test]
fn seeds_read_unmutated() {
    for (seed, _) in tf_seeds() {
        parse_index(&seed.bytes, Path::new("seed")).unwrap_or_else(|e| panic!("{seed:?}: {e}"));
    }
    for seed in hdf5_seeds().iter().filter(|s| !s.name.starts_with("unsupported")) {
        KerasWeights::parse(&seed.bytes, Path::new("seed")).unwrap_or_else(|e| panic!("{seed:?}: {e}"));
    }
    for seed in legacy_seeds() {
        LegacyCheckpoint::from_bytes(seed.bytes.clone(), "seed").unwrap_or_else(|e| panic!("{seed:?}: {e}"));
        assert!(!seed.fields.is_empty());
    }
    check_torch_file("seed", &zip_seed().bytes, "ckpt").unwrap();
    let path = thread_dir().join("seed.ckpt");
    std::fs::write(&path, &zip_seed().bytes).unwrap();
    assert!(!state_dict(&path).unwrap().is_empty());
    let ok = legacy_file(6, 6, 0, &[2, 3], &[3, 1], "FloatStorage", &[0; 24]);
    assert_eq!(LegacyCheckpoint::from_bytes(ok, "built").unwrap().read_f32("w").unwrap().len(), 6);
}
