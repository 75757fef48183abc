//! The legacy `torch.save` reader against files written by torch 2.1.2's `_legacy_save` (the
//! format of torch 1.4, which wrote Jukebox's checkpoints) and a hand-written torch ≤ 0.3 style file
//! (`tools/reference/gen_torch_legacy_fixtures.py`), with torch's own load as the oracle; plus
//! truncated, corrupted and hand-crafted hostile files, which must fail with an error naming the file
//! and never panic.

#[path = "common/legacy_pickle.rs"]
mod legacy_pickle;

use jukemir_models::torch_legacy::{LegacyCheckpoint, LegacyError, StorageDtype};
use legacy_pickle::{int, legacy, tensor, SYS_INFO};
use serde_json::Value;
use std::path::{Path, PathBuf};

const FILES: [&str; 3] = ["openai_style.pth.tar", "plain_state_dict.pt", "storage_views.pt"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/torch_legacy").join(name)
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap()
}

#[test]
fn fixtures_match_torch_load() {
    let expected = expected();
    for file in FILES {
        let ckpt = LegacyCheckpoint::open(&fixture(file)).unwrap();
        let want = &expected[file];
        let keys: Vec<&str> = want["top_level_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(ckpt.top_level_keys(), keys.as_slice(), "{file}");
        let tensors = want["tensors"].as_array().unwrap();
        let names: Vec<&str> = ckpt.tensors().map(|(n, _)| n).collect();
        let want_names: Vec<&str> = tensors.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, want_names, "{file}");
        for t in tensors {
            let name = t["name"].as_str().unwrap();
            let info = ckpt.info(name).unwrap();
            let dims = |k: &str| -> Vec<usize> {
                t[k].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect()
            };
            assert_eq!(info.dtype.torch_name(), t["dtype"].as_str().unwrap(), "{file} {name}");
            assert_eq!(info.shape, dims("shape"), "{file} {name}");
            assert_eq!(info.strides, dims("strides"), "{file} {name}");
            assert_eq!(info.storage_offset, t["storage_offset"].as_u64().unwrap(), "{file} {name}");
            let values = t["values"].as_array().unwrap();
            assert_eq!(info.numel(), values.len(), "{file} {name}");
            assert_eq!(ckpt.read_bytes(name).unwrap().len(), values.len() * info.dtype.size());
            match info.dtype {
                StorageDtype::I64 => {
                    let want: Vec<i64> = values.iter().map(|v| v.as_i64().unwrap()).collect();
                    assert_eq!(ckpt.read_i64(name).unwrap(), want, "{file} {name}");
                }
                dtype => {
                    let want: Vec<f32> = values.iter().map(|v| v.as_f64().unwrap() as f32).collect();
                    assert_eq!(ckpt.read_f32(name).unwrap(), want, "{file} {name}");
                    if dtype == StorageDtype::F16 {
                        let want: Vec<u16> =
                            values.iter().map(|v| half::f16::from_f64(v.as_f64().unwrap()).to_bits()).collect();
                        let got: Vec<u16> = ckpt.read_f16(name).unwrap().iter().map(|h| h.to_bits()).collect();
                        assert_eq!(got, want, "{file} {name}");
                    }
                }
            }
        }
        // The in-memory parser sees the same thing.
        let mem = LegacyCheckpoint::from_bytes(std::fs::read(fixture(file)).unwrap(), file).unwrap();
        assert!(mem.tensors().eq(ckpt.tensors()), "{file}");
    }
}

#[test]
fn openai_layout_details() {
    let ckpt = LegacyCheckpoint::open(&fixture("openai_style.pth.tar")).unwrap();
    assert_eq!(ckpt.top_level_keys(), ["hps", "model", "opt", "step"]);
    assert!(ckpt.tensors().all(|(n, _)| !n.starts_with("module.")));
    assert!(ckpt.info("extra_int").is_none(), "non-tensor entries are left out");
    assert!(ckpt.info("exp_avg").is_none(), "optimizer state is not in the state dict");
    let (a, b) = (ckpt.info("shared.a").unwrap(), ckpt.info("shared.b").unwrap());
    assert_eq!((&a.storage_key, a.data_offset, a.storage_numel), (&b.storage_key, b.data_offset, 20));
    assert_eq!((a.storage_offset, b.storage_offset), (0, 8));
    assert!(!ckpt.info("half_t").unwrap().is_contiguous());
    assert!(!ckpt.info("decoder.weight_t").unwrap().is_contiguous());
    assert!(ckpt.info("half.weight").unwrap().is_contiguous());
    assert_eq!(ckpt.info("scalar").unwrap().shape, Vec::<usize>::new());
    assert_eq!(ckpt.read_f32("scalar").unwrap(), [3.5]);
    assert_eq!(ckpt.read_f32("empty").unwrap(), Vec::<f32>::new());
    let views = LegacyCheckpoint::open(&fixture("storage_views.pt")).unwrap();
    assert_eq!(views.info("a").unwrap().storage_key, "root");
    assert_eq!(views.info("d").unwrap().storage_key, "longs");
}

#[test]
fn wrong_requests_name_the_file() {
    let path = fixture("openai_style.pth.tar");
    let ckpt = LegacyCheckpoint::open(&path).unwrap();
    let missing = ckpt.read_f32("nope").unwrap_err();
    assert!(matches!(missing, LegacyError::MissingTensor { .. }));
    assert!(missing.to_string().contains("openai_style.pth.tar") && missing.to_string().contains("nope"));
    let f16 = ckpt.read_f16("encoder.bias").unwrap_err();
    assert!(matches!(f16, LegacyError::WrongDtype { dtype: StorageDtype::F32, .. }), "{f16}");
    assert!(f16.to_string().contains("openai_style.pth.tar"));
    assert!(ckpt.read_f32("counts").is_err());
    assert!(ckpt.read_i64("encoder.bias").is_err());
    let io = LegacyCheckpoint::open(Path::new("/nonexistent/vqvae.pth.tar")).unwrap_err();
    assert!(matches!(io, LegacyError::Io { .. }) && io.to_string().contains("/nonexistent/vqvae.pth.tar"));
    let zip = LegacyCheckpoint::open(&fixture("../clmr/tiny_random.ckpt")).unwrap_err();
    assert!(zip.to_string().contains("magic number"), "{zip}");
}

/// Reads everything a checkpoint offers; results are ignored, only panics matter.
fn exercise(ckpt: &LegacyCheckpoint) {
    let names: Vec<String> = ckpt.tensors().map(|(n, _)| n.to_string()).collect();
    for n in &names {
        let _ = ckpt.read_bytes(n);
        let _ = ckpt.read_f32(n);
        let _ = ckpt.read_f16(n);
        let _ = ckpt.read_i64(n);
    }
}

#[test]
fn every_truncation_fails_and_every_bit_flip_is_survived() {
    for file in FILES {
        let bytes = std::fs::read(fixture(file)).unwrap();
        let label = format!("cut-{file}");
        for cut in 0..bytes.len() {
            let err = LegacyCheckpoint::from_bytes(&bytes[..cut], &label).unwrap_err();
            assert!(err.to_string().contains(&label), "{err}");
        }
        let label = format!("flipped-{file}");
        let mut accepted = 0;
        for pos in 0..bytes.len() {
            for mask in [0x01u8, 0x10, 0x80, 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[pos] ^= mask;
                match LegacyCheckpoint::from_bytes(corrupt, &label) {
                    Ok(ckpt) => {
                        accepted += 1;
                        exercise(&ckpt);
                    }
                    Err(err) => assert!(err.to_string().contains(&label), "{err}"),
                }
            }
        }
        // Flips in tensor data (and a few harmless pickle bytes) still parse.
        assert!(accepted > 0, "{file}");
    }
}

// Hand-written legacy files, for cases torch itself never writes.

fn f32_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn hand_written_files() {
    let data = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    // A sound file: the builder is right.
    let ok = legacy(
        &[("w", tensor("FloatStorage", "k", 6, 0, &[3, 2], &[1, 3])), ("n", int(3))],
        &["k"],
        &[(6, data.clone())],
        SYS_INFO,
    );
    let ckpt = LegacyCheckpoint::from_bytes(ok, "ok").unwrap();
    assert_eq!(ckpt.top_level_keys(), ["w", "n"]);
    assert_eq!(ckpt.read_f32("w").unwrap(), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    // Strides of size-1 dims can be anything.
    let odd = legacy(
        &[("w", tensor("FloatStorage", "k", 6, 1, &[1, 2, 1, 2], &[i64::MAX, 3, i64::MAX, 1]))],
        &["k"],
        &[(6, data.clone())],
        SYS_INFO,
    );
    let ckpt = LegacyCheckpoint::from_bytes(odd, "odd").unwrap();
    assert!(!ckpt.info("w").unwrap().is_contiguous());
    assert_eq!(ckpt.read_f32("w").unwrap(), [2.0, 3.0, 5.0, 6.0]);

    let fails = |bytes: Vec<u8>, label: &str, needle: &str| {
        let err = LegacyCheckpoint::from_bytes(bytes, label).unwrap_err().to_string();
        assert!(err.contains(label) && err.contains(needle), "{label}: {err}");
    };
    // Elements past the end of the storage.
    fails(
        legacy(&[("w", tensor("FloatStorage", "k", 6, 1, &[3, 2], &[2, 1]))], &["k"], &[(6, data.clone())], SYS_INFO),
        "overreach",
        "reach element 6",
    );
    // A storage claiming 2^40 elements: checked against the file size, not allocated.
    let huge = 1i64 << 40;
    fails(
        legacy(&[("w", tensor("FloatStorage", "k", huge, 0, &[2], &[1]))], &["k"], &[(huge, data.clone())], SYS_INFO),
        "huge",
        "truncated",
    );
    // A count disagreeing with the pickle.
    fails(
        legacy(&[("w", tensor("FloatStorage", "k", 6, 0, &[6], &[1]))], &["k"], &[(5, data.clone())], SYS_INFO),
        "count",
        "elements",
    );
    // Data for a storage nobody declared, or no data for a used one.
    fails(
        legacy(&[("w", tensor("FloatStorage", "k", 6, 0, &[6], &[1]))], &["z"], &[(6, data.clone())], SYS_INFO),
        "stray",
        "\"z\"",
    );
    fails(legacy(&[("w", tensor("FloatStorage", "k", 6, 0, &[6], &[1]))], &[], &[], SYS_INFO), "nodata", "no data");
    // Unknown storage types, negative strides, too many dims.
    fails(
        legacy(&[("w", tensor("QInt8Storage", "k", 6, 0, &[6], &[1]))], &["k"], &[(6, data.clone())], SYS_INFO),
        "q",
        "QInt8Storage",
    );
    fails(
        legacy(&[("w", tensor("FloatStorage", "k", 6, 5, &[6], &[-1]))], &["k"], &[(6, data.clone())], SYS_INFO),
        "neg",
        "strides",
    );
    fails(
        legacy(&[("w", tensor("FloatStorage", "k", 6, 0, &[1; 65], &[1; 65]))], &["k"], &[(6, data.clone())], SYS_INFO),
        "dims",
        "shape",
    );
    // Big-endian writer.
    let big_endian = b"\x80\x02}(X\x0d\x00\x00\x00little_endian\x89u.";
    fails(
        legacy(&[("w", tensor("FloatStorage", "k", 6, 0, &[6], &[1]))], &["k"], &[(6, data.clone())], big_endian),
        "be",
        "big-endian",
    );
    // Not this format at all.
    fails(b"{\"json\": true}".to_vec(), "json", "magic number");
    let mut tar = vec![0u8; 1024];
    tar[..8].copy_from_slice(b"storages");
    tar[257..262].copy_from_slice(b"ustar");
    fails(tar, "tar", "tar archive");

    // An expanded view larger than the whole file opens (torch writes such strides) but is not
    // materialised.
    let expanded =
        legacy(&[("e", tensor("FloatStorage", "k", 6, 0, &[1 << 40], &[0]))], &["k"], &[(6, data)], SYS_INFO);
    let ckpt = LegacyCheckpoint::from_bytes(expanded, "expanded").unwrap();
    let err = ckpt.read_f32("e").unwrap_err();
    assert!(matches!(err, LegacyError::BadTensor { .. }) && err.to_string().contains("expanded"), "{err}");
}

/// A real checkpoint (e.g. Jukebox's `vqvae.pth.tar`), when `JUKEMIR_TORCH_LEGACY` names one:
/// `JUKEMIR_TORCH_LEGACY=/path/vqvae.pth.tar cargo test --release -p jukemir-models --test
/// torch_legacy -- --ignored --nocapture`. Opens it, then reads every state-dict tensor.
#[test]
#[ignore]
fn real_checkpoint_from_env() {
    let Some(path) = std::env::var_os("JUKEMIR_TORCH_LEGACY") else { return };
    let t = std::time::Instant::now();
    let ckpt = LegacyCheckpoint::open(Path::new(&path)).unwrap();
    println!(
        "opened {} in {:?}: top-level {:?}, {} tensors",
        ckpt.path().display(),
        t.elapsed(),
        ckpt.top_level_keys(),
        ckpt.len()
    );
    let t = std::time::Instant::now();
    let mut bytes = 0;
    for (name, info) in ckpt.tensors() {
        let data = ckpt.read_bytes(name).unwrap();
        assert_eq!(data.len(), info.numel() * info.dtype.size(), "{name}");
        bytes += data.len();
    }
    println!("read {bytes} bytes of tensors in {:?}", t.elapsed());
}
