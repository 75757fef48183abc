//! Finding a network's weights: a path the user gives, or the files `jukemir weights fetch` put in
//! the cache (`<cache>/weights/…`), in their original formats.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub use crate::plugin::LoadContext;

/// The file name of the musicnn wheel in the cache.
pub const MUSICNN_WHEEL: &str = "musicnn-0.1.0-py3-none-any.whl";

fn has_tf_index(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".index")))
        .unwrap_or(false)
}

/// The checkpoint folder of musicnn `model` inside the wheel, unpacked once into
/// `<cache>/weights/musicnn/<model>/` (written to a temporary folder, then renamed).
fn unpack_from_wheel(wheel: &Path, model: &str, cache_root: &Path) -> Result<PathBuf> {
    let target = cache_root.join("weights/musicnn").join(model);
    if has_tf_index(&target) {
        return Ok(target);
    }
    let open = || format!("cannot read the musicnn wheel {}", wheel.display());
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wheel).with_context(open)?).with_context(open)?;
    jukemir_fs::write_dir_atomically(&target, |staging| -> Result<()> {
        for name in [".index", ".data-00000-of-00001"] {
            let member = format!("musicnn/{model}/{name}");
            let mut entry = match zip.by_name(&member) {
                Ok(entry) => entry,
                Err(zip::result::ZipError::FileNotFound) => {
                    bail!(
                        "{} has no {member}: the PyPI wheel holds MSD_musicnn, MTT_musicnn and the VGG models",
                        wheel.display()
                    )
                }
                Err(e) => return Err(e).with_context(open),
            };
            let mut out = std::fs::File::create(staging.join(name))?;
            std::io::copy(&mut entry, &mut out).with_context(open)?;
        }
        Ok(())
    })
    .with_context(|| format!("cannot create {}", target.display()))?;
    Ok(target)
}

/// The TensorFlow checkpoint folder of musicnn `model`.
///
/// `--weights` may be the wheel, a checkpoint folder (holding `.index`), or a folder with one
/// subfolder per model (the `musicnn` package's layout). Without it: `<cache>/weights/musicnn/<model>/`,
/// else the wheel in `<cache>/weights/musicnn/`.
pub fn musicnn_checkpoint(model: &str, options: &LoadContext) -> Result<PathBuf> {
    if let Some(path) = &options.weights {
        if path.is_file() {
            return unpack_from_wheel(path, model, &options.cache_root);
        }
        if has_tf_index(path) {
            return Ok(path.clone());
        }
        if has_tf_index(&path.join(model)) {
            return Ok(path.join(model));
        }
        bail!(
            "--weights {}: expected the musicnn wheel, a TensorFlow checkpoint folder (.index + .data-00000-of-00001) \
             or a folder holding {model}/",
            path.display()
        );
    }
    let dir = options.cache_root.join("weights/musicnn");
    if has_tf_index(&dir.join(model)) {
        return Ok(dir.join(model));
    }
    let wheel = dir.join(MUSICNN_WHEEL);
    if model != "MSD_musicnn_big" && wheel.is_file() {
        return unpack_from_wheel(&wheel, model, &options.cache_root);
    }
    let fetch = if model == "MSD_musicnn_big" { "musicnn_big" } else { "musicnn" };
    bail!(
        "no weights for musicnn model {model} under {}: run `jukemir weights fetch {fetch}` (needs internet), or \
         pass --weights with the musicnn wheel or a checkpoint folder{}",
        dir.display(),
        if model == "MSD_musicnn_big" { ", or choose a model the PyPI wheel has with --model MSD_musicnn" } else { "" }
    )
}

/// The CLMR checkpoint: `--weights` (the `.ckpt`, or a folder holding `clmr_epoch=10000.ckpt` as
/// the release's zip unpacks), else `<cache>/weights/clmr/clmr_epoch=10000.ckpt`.
pub fn clmr_checkpoint(options: &LoadContext) -> Result<PathBuf> {
    const NAME: &str = "clmr_epoch=10000.ckpt";
    let candidates = match &options.weights {
        Some(path) if path.is_file() => return Ok(path.clone()),
        Some(path) => vec![path.join(NAME), path.join("clmr_magnatagatune_mlp").join(NAME)],
        None => vec![options.cache_root.join("weights/clmr").join(NAME)],
    };
    candidates.iter().find(|p| p.is_file()).cloned().with_context(|| {
        format!(
            "no CLMR checkpoint at {}: download clmr_magnatagatune_mlp.zip from CLMR's GitHub release 2.1, unpack \
             it there, or pass --weights <file.ckpt>",
            candidates[0].display()
        )
    })
}

/// The file with all five of choi's blocks.
pub const CHOI_WEIGHTS: &str = "weights_layer4_theano.hdf5";

/// Choi's Keras weights: `--weights` (the `.hdf5` file, or the folder holding the five
/// `weights_layer{0..4}_theano.hdf5`), else `<cache>/weights/choi/`. The reference loads one file
/// per layer; they hold identical values, so only `weights_layer4_theano.hdf5` is needed.
pub fn choi_weights(options: &LoadContext) -> Result<PathBuf> {
    let candidate = match &options.weights {
        Some(path) if path.is_file() => return Ok(path.clone()),
        Some(path) => path.join(CHOI_WEIGHTS),
        None => options.cache_root.join("weights/choi").join(CHOI_WEIGHTS),
    };
    if candidate.is_file() {
        return Ok(candidate);
    }
    bail!(
        "no choi weights at {}: run `jukemir weights fetch choi` (needs internet), or pass --weights with \
         {CHOI_WEIGHTS} or the folder holding it",
        candidate.display()
    )
}

/// The Jukebox checkpoints' file names, as OpenAI publishes them under `models/5b/`.
pub const JUKEBOX_VQVAE: &str = "vqvae.pth.tar";
pub const JUKEBOX_PRIOR: &str = "prior_level_2.pth.tar";

/// Where OpenAI publishes the 5B checkpoints. No checksum or size is published for them:
/// `jukemir weights fetch jukebox` verifies them by structure instead
/// (`jukemir_models::jukebox::published`), and loading checks every tensor it reads again.
pub const JUKEBOX_URL: &str = "https://openaipublic.azureedge.net/jukebox/models/5b/";

/// The folder holding Jukebox's `vqvae.pth.tar` and `prior_level_2.pth.tar`: `--weights`, else
/// `<cache>/weights/jukebox/5b/`.
pub fn jukebox_checkpoints(options: &LoadContext) -> Result<(PathBuf, PathBuf)> {
    let dir = match &options.weights {
        Some(path) if path.is_file() => {
            bail!(
                "--weights {} is a file: jukebox needs the folder holding {JUKEBOX_VQVAE} and {JUKEBOX_PRIOR}",
                path.display()
            )
        }
        Some(path) => path.clone(),
        None => options.cache_root.join("weights/jukebox/5b"),
    };
    let (vqvae, prior) = (dir.join(JUKEBOX_VQVAE), dir.join(JUKEBOX_PRIOR));
    for file in [&vqvae, &prior] {
        if !file.is_file() {
            bail!(
                "no {} in {}: run `jukemir weights fetch jukebox` (OpenAI's {JUKEBOX_VQVAE} and {JUKEBOX_PRIOR} from \
                 {JUKEBOX_URL}, about 10 GB, resumable), or download them into that folder yourself, or pass \
                 --weights with the folder holding them",
                file.file_name().unwrap_or_default().to_string_lossy(),
                dir.display()
            );
        }
    }
    Ok((vqvae, prior))
}
