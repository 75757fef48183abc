//! The part of processing every dataset shares: convert audio, fill in clip durations, write
//! `meta.json`.

use super::convert::ensure_wav;
use super::meta_json::write_meta_json;
use super::{DatasetProcessor, Example, ProcessContext};
use anyhow::{bail, Context};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Told about the audio conversion as it goes.
pub trait ProcessProgress: Sync {
    fn start(&self, _examples: usize, _with_audio: usize) {}
    fn converted(&self, _uid: &str) {}
}

pub struct Silent;
impl ProcessProgress for Silent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessReport {
    pub examples: usize,
    pub wavs: usize,
    pub meta_path: PathBuf,
}

/// Run `processor` and write `out_dir/meta.json` (and `out_dir/wav/<uid>.wav` unless
/// metadata-only). `meta.json` is written last, only after every WAV succeeded.
pub fn process_dataset(
    processor: &dyn DatasetProcessor,
    ctx: &ProcessContext,
    out_dir: &Path,
    progress: &dyn ProcessProgress,
) -> anyhow::Result<ProcessReport> {
    let mut examples = processor.examples(ctx).with_context(|| format!("reading the {} assets", processor.name()))?;
    check_unique(&examples)?;
    let with_audio = examples.iter().filter(|e| e.audio.is_some()).count();
    progress.start(examples.len(), with_audio);

    let wav_dir = out_dir.join("wav");
    if with_audio > 0 {
        std::fs::create_dir_all(&wav_dir).with_context(|| format!("cannot create {}", wav_dir.display()))?;
        // What a killed run was writing when it died (never a live worker's: see jukemir_fs).
        jukemir_fs::remove_stale_temporaries(&wav_dir)
            .with_context(|| format!("cannot clean {}", wav_dir.display()))?;
    }
    let durations: Vec<anyhow::Result<Option<f64>>> = examples
        .par_iter()
        .map(|example| {
            let Some(audio) = &example.audio else { return Ok(None) };
            let dest = wav_dir.join(format!("{}.wav", example.uid));
            let duration = ensure_wav(&audio.path, audio.clip, &dest)?;
            progress.converted(&example.uid);
            Ok(Some(duration))
        })
        .collect();
    let mut failures = Vec::new();
    for (example, duration) in examples.iter_mut().zip(durations) {
        match duration {
            Ok(Some(seconds)) => set_clip_duration(example, seconds),
            Ok(None) => {}
            Err(e) => failures.push(format!("{}: {e:#}", example.uid)),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {with_audio} audio file(s) could not be converted; meta.json was not written:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }

    let meta: serde_json::Map<String, serde_json::Value> =
        examples.iter().map(|e| (e.uid.clone(), e.meta.clone())).collect();
    let meta_path = out_dir.join("meta.json");
    write_meta_json(&meta_path, &serde_json::Value::Object(meta))
        .with_context(|| format!("cannot write {}", meta_path.display()))?;
    Ok(ProcessReport { examples: examples.len(), wavs: with_audio, meta_path })
}

/// The reference records the converted clip's real length when the metadata has a `clip`.
fn set_clip_duration(example: &mut Example, seconds: f64) {
    if let Some(clip) = example.meta.get_mut("clip").and_then(|c| c.as_object_mut()) {
        clip.insert("clip_duration".into(), serde_json::json!(seconds));
    }
}

fn check_unique(examples: &[Example]) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for e in examples {
        if !seen.insert(e.uid.as_str()) {
            bail!("duplicate uid {:?} (this is a bug in the dataset's rules)", e.uid);
        }
    }
    Ok(())
}
