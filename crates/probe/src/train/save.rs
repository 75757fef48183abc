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
    jukemir_fs::write_dir_atomically(&dir, |staging| -> Result<()> {
        std::fs::write(staging.join("cfg.json"), p.cfg.to_json())?;
        std::fs::write(staging.join("scaler.json"), serde_json::to_string_pretty(&p.scaler)?)?;
        p.model.save_safetensors(&staging.join("probe.safetensors"))?;
        let metrics = serde_json::to_value(&p.valid_metrics)?;
        std::fs::write(staging.join("metrics.json"), dumps_indent2_sorted(&metrics))?;
        Ok(())
    })
    .with_context(|| format!("cannot save the probe to {}", dir.display()))?;
    Ok(dir)
}
