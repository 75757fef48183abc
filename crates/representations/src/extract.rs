//! The extract contract, identical for every representation:
//! sorted inputs → optional shard → skip finished outputs → one atomic `<stem>.npy` per file,
//! failures collected (with their paths) instead of stopping the run.

use crate::inputs::{check_unique_outputs, list_input_files, output_name, Batch, InputError};
use crate::npy_io::{is_valid_output, write_vector_atomic};
use crate::pyrandom::python2_shuffle;
use crate::representation::{BatchDependence, Representation};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Process only this shard of the sorted inputs.
    pub batch: Option<Batch>,
    /// Files processed at once; 0 means one per available core.
    pub threads: usize,
}

/// Told about the run as it goes (the CLI draws a progress bar from it).
pub trait ExtractProgress: Sync {
    /// `pending` files will be computed; `skipped` already had valid outputs.
    fn start(&self, _pending: usize, _skipped: usize) {}
    /// One file finished, successfully or not.
    fn file_done(&self, _input: &Path, _outcome: &Result<(), String>) {}
}

/// No progress reporting.
pub struct Quiet;
impl ExtractProgress for Quiet {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedFile {
    pub input: PathBuf,
    pub error: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractReport {
    /// Input files in this run's shard.
    pub selected: usize,
    /// Of those, files whose output already existed and was valid.
    pub skipped: usize,
    /// Outputs written by this run.
    pub written: usize,
    pub failed: Vec<FailedFile>,
}

impl ExtractReport {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Inputs(#[from] InputError),
    #[error("input folder {} does not exist or is not a folder", .0.display())]
    NoInputDir(PathBuf),
    #[error("cannot create output folder {}: {source}", path.display())]
    CreateOutputDir { path: PathBuf, source: std::io::Error },
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool { threads: usize, message: String },
}

/// Run `representation` over the audio files in `input_dir`, writing `<stem>.npy` files into
/// `output_dir`. Per-file failures are returned in the report, not as an error: an `Err` means
/// the run could not start at all.
pub fn extract_folder(
    representation: &dyn Representation,
    input_dir: &Path,
    output_dir: &Path,
    options: &ExtractOptions,
    progress: &dyn ExtractProgress,
) -> Result<ExtractReport, ExtractError> {
    if !input_dir.is_dir() {
        return Err(ExtractError::NoInputDir(input_dir.to_path_buf()));
    }
    let all = list_input_files(input_dir)?;
    if let Some(dependence) = representation.batch_dependence() {
        return extract_batches(representation, dependence, all, output_dir, options, progress);
    }
    let selected = match options.batch {
        Some(batch) => batch.select(&all)?,
        None => &all[..],
    };
    check_unique_outputs(selected)?;
    let outputs = Outputs::new(representation, output_dir);
    outputs.create()?;

    let (done, pending): (Vec<&PathBuf>, Vec<&PathBuf>) = selected.iter().partition(|input| outputs.is_done(input));
    progress.start(pending.len(), done.len());

    let pool = thread_pool(options.threads)?;
    let run = |input: &&PathBuf| {
        let outcome = extract_one(representation, input, &outputs);
        progress.file_done(input, &outcome);
        ((*input).clone(), outcome)
    };
    // Representations that parallelise inside one file get the whole pool for each file in turn.
    let outcomes: Vec<(PathBuf, Result<(), String>)> = pool.install(|| {
        if representation.parallel_within_file() {
            pending.iter().map(run).collect()
        } else {
            pending.par_iter().map(run).collect()
        }
    });

    let mut report = ExtractReport { selected: selected.len(), skipped: done.len(), ..Default::default() };
    for (input, outcome) in outcomes {
        match outcome {
            Ok(()) => report.written += 1,
            Err(error) => report.failed.push(FailedFile { input, error }),
        }
    }
    Ok(report)
}

/// Creates the output folder and removes what a killed run of this host left half-written there
/// (temporaries of live workers, e.g. an overlapping array task, are kept).
fn create_output_dir(output_dir: &Path) -> Result<(), ExtractError> {
    let fail = |source| ExtractError::CreateOutputDir { path: output_dir.to_path_buf(), source };
    std::fs::create_dir_all(output_dir).map_err(fail)?;
    jukemir_fs::remove_stale_temporaries(output_dir).map_err(fail)?;
    Ok(())
}

fn thread_pool(threads: usize) -> Result<rayon::ThreadPool, ExtractError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ExtractError::ThreadPool { threads, message: e.to_string() })
}

/// The contract for representations whose vectors depend on their batch: the sorted listing is
/// shuffled as the reference shuffled it and cut into batches of `--batch-size` files; a shard is
/// one such batch. A batch with any missing output is computed whole (its statistics need every
/// file), and only the missing outputs are written.
fn extract_batches(
    representation: &dyn Representation,
    dependence: BatchDependence,
    mut order: Vec<PathBuf>,
    output_dir: &Path,
    options: &ExtractOptions,
    progress: &dyn ExtractProgress,
) -> Result<ExtractReport, ExtractError> {
    python2_shuffle(&mut order, dependence.shuffle_seed);
    let size = options.batch.map_or(dependence.default_batch_size, |b| b.size);
    let selected = match options.batch {
        Some(batch) => batch.select(&order)?,
        None => &order[..],
    };
    check_unique_outputs(selected)?;
    let outputs = Outputs::new(representation, output_dir);
    outputs.create()?;

    let is_done = |input: &PathBuf| outputs.is_done(input);
    let skipped = selected.iter().filter(|input| is_done(input)).count();
    progress.start(selected.len() - skipped, skipped);
    let pool = thread_pool(options.threads)?;

    let mut report = ExtractReport { selected: selected.len(), skipped, ..Default::default() };
    for (batch_number, batch) in selected.chunks(size).enumerate() {
        let pending: Vec<usize> = (0..batch.len()).filter(|&i| !is_done(&batch[i])).collect();
        if pending.is_empty() {
            continue;
        }
        let outcomes: Vec<Result<(), String>> = match pool.install(|| representation.extract_batch(batch)) {
            Ok(vectors) if vectors.len() == batch.len() => {
                pending.iter().map(|&i| outputs.write(representation, &vectors[i], &batch[i])).collect()
            }
            Ok(vectors) => {
                let bug = format!(
                    "{} returned {} vectors for a batch of {} files (this is a bug in jukemir)",
                    representation.name(),
                    vectors.len(),
                    batch.len()
                );
                pending.iter().map(|_| Err(bug.clone())).collect()
            }
            Err(failure) => {
                let batch_index = options.batch.map_or(batch_number, |b| b.index);
                let cause = format!("{:#}", failure.error);
                pending
                    .iter()
                    .map(|&i| match failure.file {
                        Some(bad) if bad == i => Err(cause.clone()),
                        Some(bad) => Err(format!(
                            "not computed: {} computes batch {batch_index} as a whole (its vectors depend on the \
                             batch) and {} in it failed; fix or remove that file and rerun",
                            representation.name(),
                            batch[bad].display()
                        )),
                        None => Err(format!("batch {batch_index} could not be computed: {cause}")),
                    })
                    .collect()
            }
        };
        for (&i, outcome) in pending.iter().zip(outcomes) {
            progress.file_done(&batch[i], &outcome);
            match outcome {
                Ok(()) => report.written += 1,
                Err(error) => report.failed.push(FailedFile { input: batch[i].clone(), error }),
            }
        }
    }
    Ok(report)
}

fn extract_one(representation: &dyn Representation, input: &Path, outputs: &Outputs) -> Result<(), String> {
    let vector = representation.extract_file(input).map_err(|e| format!("{e:#}"))?;
    outputs.write(representation, &vector, input)
}

/// Where an input's vector goes: `<out>/<stem>.npy`, or equal parts of it to
/// `<out>/<part>/<stem>.npy` for each of the representation's [`Representation::output_parts`].
struct Outputs {
    dirs: Vec<PathBuf>,
    part_dim: usize,
}

impl Outputs {
    fn new(representation: &dyn Representation, output_dir: &Path) -> Self {
        let parts = representation.output_parts();
        if parts.is_empty() {
            return Outputs { dirs: vec![output_dir.to_path_buf()], part_dim: representation.dim() };
        }
        let part_dim = representation.dim() / parts.len();
        Outputs { dirs: parts.iter().map(|p| output_dir.join(p)).collect(), part_dim }
    }

    fn create(&self) -> Result<(), ExtractError> {
        self.dirs.iter().try_for_each(|dir| create_output_dir(dir))
    }

    fn is_done(&self, input: &Path) -> bool {
        self.dirs.iter().all(|dir| is_valid_output(&dir.join(output_name(input)), Some(self.part_dim)))
    }

    /// Writes a vector after checking it has the representation's length and only finite values;
    /// each part atomically (a run killed between parts computes the file again).
    fn write(&self, representation: &dyn Representation, vector: &[f32], input: &Path) -> Result<(), String> {
        if vector.len() != representation.dim() || vector.len() != self.part_dim * self.dirs.len() {
            return Err(format!(
                "{} produced {} values, expected {} (this is a bug in jukemir)",
                representation.name(),
                vector.len(),
                representation.dim()
            ));
        }
        if let Some(bad) = vector.iter().position(|v| !v.is_finite()) {
            return Err(format!("value {bad} of the {} vector is not finite ({})", representation.name(), vector[bad]));
        }
        for (dir, part) in self.dirs.iter().zip(vector.chunks(self.part_dim.max(1))) {
            let output = dir.join(output_name(input));
            write_vector_atomic(&output, part).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
        }
        Ok(())
    }
}
