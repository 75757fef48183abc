//! The musicnn network with the real MSD_musicnn / MTT_musicnn weights (the PyPI wheel in
//! ../shared) against the `musicnn` package's TensorFlow graph (`tools/reference/gen_musicnn_fixtures.py`):
//! every feature map of the first patch of a real clip, given the same log-mel input.

use candle_core::{Device, Tensor};
use jukemir_models::musicnn::{Config, Musicnn};
use ndarray::{Array2, Array3, ArrayD};
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};

const CLIP: &str = "joram-moments_of_clarity-08-solipsism-59-88";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn wheel() -> Option<PathBuf> {
    let wheel = jukemir_test_support::test_file("weights/musicnn-0.1.0-py3-none-any.whl");
    if wheel.is_file() {
        Some(wheel)
    } else {
        eprintln!("skipping: {} is missing", wheel.display());
        None
    }
}

/// The checkpoint files of `model` from the wheel, in a temporary folder.
fn unpack(wheel: &Path, model: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    for name in [".index", ".data-00000-of-00001"] {
        let mut entry = zip.by_name(&format!("musicnn/{model}/{name}")).unwrap();
        let mut out = std::fs::File::create(dir.path().join(name)).unwrap();
        std::io::copy(&mut entry, &mut out).unwrap();
    }
    dir
}

fn npy<T: ReadNpyExt>(name: &str) -> T {
    T::read_npy(std::fs::File::open(repo(&format!("fixtures/musicnn/{name}"))).unwrap()).unwrap()
}

/// Max |a − b| over max |b|.
fn relative_error(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max) / scale
}

/// `(1, channels, time)` → the reference's `(time, channels)` order, flattened.
fn time_major(t: &Tensor) -> Vec<f32> {
    t.squeeze(0).unwrap().t().unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

#[test]
fn msd_musicnn_feature_maps_match_tensorflow() {
    let Some(wheel) = wheel() else { return };
    let dir = unpack(&wheel, "MSD_musicnn");
    let model = Musicnn::from_checkpoint(dir.path(), &Config::musicnn()).unwrap();
    let input: Array3<f32> = npy(&format!("{CLIP}.input.npy"));
    let x = Tensor::from_slice(input.as_slice().unwrap(), (1, 187, 96), &Device::Cpu).unwrap();
    let f = model.forward(&x).unwrap();
    for (name, ours) in
        [("timbral", &f.timbral), ("temporal", &f.temporal), ("cnn1", &f.cnn1), ("cnn2", &f.cnn2), ("cnn3", &f.cnn3)]
    {
        let theirs: ArrayD<f32> = npy(&format!("{CLIP}.MSD_musicnn.{name}.npy"));
        let err = relative_error(&time_major(ours), theirs.as_slice().unwrap());
        eprintln!("{name}: {err:.2e}");
        assert!(err < 1e-5, "{name}: {err}");
    }
    for (name, ours) in [("mean_pool", &f.mean_pool), ("max_pool", &f.max_pool)] {
        let theirs: Array2<f32> = npy(&format!("{CLIP}.MSD_musicnn.{name}.npy"));
        let ours = ours.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let err = relative_error(&ours, theirs.row(0).as_slice().unwrap());
        eprintln!("{name}: {err:.2e}");
        assert!(err < 1e-5, "{name}: {err}");
    }
}

#[test]
fn checkpoints_that_do_not_fit_are_refused_with_the_folder_named() {
    let Some(wheel) = wheel() else { return };
    let dir = unpack(&wheel, "MSD_vgg");
    let err = Musicnn::from_checkpoint(dir.path(), &Config::musicnn()).unwrap_err();
    assert!(format!("{err:#}").contains(&dir.path().display().to_string()), "{err:#}");
    let dir = unpack(&wheel, "MSD_musicnn");
    let err = Musicnn::from_checkpoint(dir.path(), &Config::musicnn_big()).unwrap_err();
    assert!(format!("{err:#}").contains("does not fit"), "{err:#}");
}
