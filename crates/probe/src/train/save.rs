//! Writing a trained probe: `cfg.json`, `scaler.json` (the reference pickles its sklearn scaler),
//! `probe.safetensors` (the reference's `probe.pt`, same tensor names) and `metrics.json`.

use super::TrainedProbe;
use crate::config::dumps_indent2_sorted;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub fn probe_dir(probes_root: &Path, dataset: &str, representation: &str, uid: &str) -> PathBuf {
    probes_root.join(dataset).join(representation).join(uid)
}

/// Save under `<probes_root>/<dataset>/<representation>/<uid>/`. Files are written into a hidden
/// sibling directory that is then renamed into place, so a reader never sees a half-saved probe.
pub fn save(p: &TrainedProbe, probes_root: &Path) -> Result<PathBuf> {
    let uid = p.cfg.uid();
    let dir = probe_dir(probes_root, &p.cfg.dataset, &p.cfg.representation, &uid);
    let parent = dir.parent().expect("probe dir has a parent");
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = tempfile::Builder::new().prefix(&jukemir_fs::temp_prefix(&uid)).tempdir_in(parent)?;

    std::fs::write(tmp.path().join("cfg.json"), p.cfg.to_json())?;
    std::fs::write(tmp.path().join("scaler.json"), serde_json::to_string_pretty(&p.scaler)?)?;
    p.model.save_safetensors(&tmp.path().join("probe.safetensors"))?;
    let metrics = serde_json::to_value(&p.valid_metrics)?;
    std::fs::write(tmp.path().join("metrics.json"), dumps_indent2_sorted(&metrics))?;
    for name in ["cfg.json", "scaler.json", "probe.safetensors", "metrics.json"] {
        std::fs::File::open(tmp.path().join(name))?.sync_all()?;
    }

    // A directory cannot be renamed over a non-empty one: move any old probe aside first.
    let old = dir
        .exists()
        .then(|| tempfile::Builder::new().prefix(&jukemir_fs::temp_prefix(&format!("{uid}.old"))).tempdir_in(parent))
        .transpose()?;
    if let Some(old) = &old {
        std::fs::rename(&dir, old.path().join("probe"))?;
    }
    let staged = tmp.keep();
    std::fs::rename(&staged, &dir).with_context(|| format!("cannot move the probe into {}", dir.display()))?;
    Ok(dir)
}
