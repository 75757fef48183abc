//! SampleCNN against CLMR's own encoder (PyTorch, `tools/reference/gen_clmr_fixtures.py`): a tiny
//! random model (every width ÷ 8) saved as a PyTorch Lightning checkpoint, run on the frames of a
//! real clip.

use candle_core::{Device, Tensor};
use jukemir_models::sample_cnn::{Config, SampleCnn};
use ndarray::{Array1, Array2};
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};

const FRAME: usize = 59409;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path)
}

#[test]
fn tiny_lightning_checkpoint_matches_clmr_frame_by_frame() {
    let model = SampleCnn::from_checkpoint(&fixture("clmr/tiny_random.ckpt")).unwrap();
    assert_eq!(model.config(), &Config::scaled(8), "widths read from the weights");
    let audio = Array1::<f32>::read_npy(std::fs::File::open(fixture("load/defeat_full.npy")).unwrap()).unwrap();
    let expected =
        Array2::<f32>::read_npy(std::fs::File::open(fixture("clmr/defeat.tiny.frames.npy")).unwrap()).unwrap();
    let frames = audio.len().div_ceil(FRAME) - 1;
    assert_eq!(frames, expected.nrows());
    let x = Tensor::from_slice(&audio.as_slice().unwrap()[..frames * FRAME], (frames, 1, FRAME), &Device::Cpu).unwrap();
    let out = model.forward(&x).unwrap().to_vec2::<f32>().unwrap();
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (f, row) in out.iter().enumerate() {
        assert_eq!(row.len(), 64);
        for (d, (&a, &b)) in row.iter().zip(expected.row(f)).enumerate() {
            assert!((a - b).abs() <= 1e-4 * scale.max(1.0), "frame {f} dim {d}: {a} vs {b}");
        }
    }
}

#[test]
fn legacy_serialization_loads_the_same_weights_and_foreign_files_are_refused_clearly() {
    use jukemir_models::torch_checkpoint::{serialization, state_dict, Serialization};
    let (zip, legacy) = (fixture("clmr/tiny_random.ckpt"), fixture("clmr/tiny_random_legacy.ckpt"));
    assert_eq!(serialization(&legacy).unwrap(), Serialization::Legacy);
    let (a, b) = (state_dict(&zip).unwrap(), state_dict(&legacy).unwrap());
    let mut keys: Vec<_> = a.keys().collect();
    keys.sort();
    let mut legacy_keys: Vec<_> = b.keys().collect();
    legacy_keys.sort();
    assert_eq!(keys, legacy_keys);
    for k in keys {
        let (x, y) = (&a[k], &b[k]);
        assert_eq!((x.dtype(), x.dims()), (y.dtype(), y.dims()), "{k}");
        let (x, y) = (x.flatten_all().unwrap(), y.flatten_all().unwrap());
        let (x, y) = (x.to_dtype(candle_core::DType::F64).unwrap(), y.to_dtype(candle_core::DType::F64).unwrap());
        assert_eq!(x.to_vec1::<f64>().unwrap(), y.to_vec1::<f64>().unwrap(), "{k}");
    }
    let model = SampleCnn::from_checkpoint(&legacy).unwrap();
    assert_eq!(model.config(), &Config::scaled(8));
    let wrong = SampleCnn::from_checkpoint_with_config(&fixture("clmr/tiny_random.ckpt"), &Config::clmr()).unwrap_err();
    assert!(format!("{wrong:#}").contains("tiny_random.ckpt does not fit"), "{wrong:#}");
    let not_a_checkpoint = SampleCnn::from_checkpoint(&fixture("clmr/manifest.json")).unwrap_err();
    assert!(format!("{not_a_checkpoint:#}").contains("not a PyTorch checkpoint"), "{not_a_checkpoint:#}");
}
