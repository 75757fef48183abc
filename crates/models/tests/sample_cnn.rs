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
fn legacy_serialization_and_foreign_files_are_refused_clearly() {
    let err = SampleCnn::from_checkpoint(&fixture("clmr/tiny_random_legacy.ckpt")).unwrap_err();
    assert!(format!("{err:#}").contains("legacy"), "{err:#}");
    let wrong = SampleCnn::from_checkpoint_with_config(&fixture("clmr/tiny_random.ckpt"), &Config::clmr()).unwrap_err();
    assert!(format!("{wrong:#}").contains("tiny_random.ckpt does not fit"), "{wrong:#}");
    let not_a_checkpoint = SampleCnn::from_checkpoint(&fixture("clmr/manifest.json")).unwrap_err();
    assert!(format!("{not_a_checkpoint:#}").contains("not a PyTorch checkpoint"), "{not_a_checkpoint:#}");
}
