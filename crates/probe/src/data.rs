//! Loading a probe's data as the reference's `ProbeExperiment.load_data` does: `meta.json` for
//! splits and labels, one representation `.npy` per uid, each split sorted then shuffled with
//! CPython's `random` seeded by the config's seed.

use anyhow::{bail, ensure, Context, Result};
use ndarray::{Array1, ArrayD};
use ndarray_npy::ReadNpyExt;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use jukemir_pycompat::pyrandom::PyRandom;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    Multiclass,
    Multilabel,
    Regression,
}

/// The reference's `DATASET_TO_ATTRS` entry.
#[derive(Debug, Clone, Copy)]
pub struct DatasetAttrs {
    pub num_outputs: usize,
    pub output_type: OutputType,
    pub labels: Option<&'static [&'static str]>,
}

const TEST_LABELS: [&str; 4] = ["0", "1", "2", "3"];
const GTZAN_LABELS: [&str; 10] =
    ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];
const KEY_LABELS: [&str; 24] = [
    "C major", "Db major", "D major", "Eb major", "E major", "F major", "Gb major", "G major", "Ab major", "A major",
    "Bb major", "B major", "C minor", "Db minor", "D minor", "Eb minor", "E minor", "F minor", "Gb minor", "G minor",
    "Ab minor", "A minor", "Bb minor", "B minor",
];
/// `jukemir demo`'s synthetic set (`jukemir_datasets::synthetic::key_label`: sharps, not flats).
const SYNTHETIC_KEY_LABELS: [&str; 24] = [
    "C major", "C# major", "D major", "D# major", "E major", "F major", "F# major", "G major", "G# major", "A major",
    "A# major", "B major", "C minor", "C# minor", "D minor", "D# minor", "E minor", "F minor", "F# minor", "G minor",
    "G# minor", "A minor", "A# minor", "B minor",
];
const MTT_LABELS: [&str; 50] = [
    "guitar",
    "classical",
    "slow",
    "techno",
    "strings",
    "drums",
    "electronic",
    "rock",
    "fast",
    "piano",
    "ambient",
    "beat",
    "violin",
    "vocal",
    "synth",
    "female",
    "indian",
    "opera",
    "male",
    "singing",
    "vocals",
    "no vocals",
    "harpsichord",
    "loud",
    "quiet",
    "flute",
    "woman",
    "male vocal",
    "no vocal",
    "pop",
    "soft",
    "sitar",
    "solo",
    "man",
    "classic",
    "choir",
    "voice",
    "new age",
    "dance",
    "male voice",
    "female vocal",
    "beats",
    "harp",
    "cello",
    "no voice",
    "weird",
    "country",
    "metal",
    "female voice",
    "choral",
];

pub fn dataset_attrs(dataset: &str) -> Result<DatasetAttrs> {
    let (labels, output_type, num_outputs): (Option<&'static [&'static str]>, _, _) = match dataset {
        "test" => (Some(&TEST_LABELS), OutputType::Multiclass, 4),
        "gtzan_ff" => (Some(&GTZAN_LABELS), OutputType::Multiclass, 10),
        "giantsteps_clips" => (Some(&KEY_LABELS), OutputType::Multiclass, 24),
        "magnatagatune" => (Some(&MTT_LABELS), OutputType::Multilabel, 50),
        "emomusic" => (None, OutputType::Regression, 2),
        "synthetic_keys" => (Some(&SYNTHETIC_KEY_LABELS), OutputType::Multiclass, 24),
        other => bail!(
            "unknown probe dataset `{other}` (known: test, gtzan_ff, giantsteps_clips, magnatagatune, emomusic, \
             synthetic_keys)"
        ),
    };
    Ok(DatasetAttrs { num_outputs, output_type, labels })
}

/// Training targets for one split.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class index per example.
    Classes(Vec<u32>),
    /// `n × num_outputs`, row-major: 0/1 per tag, or regression values.
    Matrix(Vec<f32>),
}

#[derive(Debug, Clone)]
pub struct Split {
    pub uids: Vec<String>,
    /// `n × dim`, row-major, in `uids` order.
    pub x: Vec<f32>,
    /// The labels as `meta.json` gives them (the metrics' key-ensembling needs the uids too).
    pub raw_y: Vec<Value>,
    pub targets: Targets,
}

impl Split {
    pub fn len(&self) -> usize {
        self.uids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.uids.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct ProbeData {
    pub attrs: DatasetAttrs,
    pub dim: usize,
    pub train: Split,
    pub valid: Split,
    pub test: Split,
}

/// Where the reference keeps its inputs: `<datasets>/<dataset>/meta.json` and
/// `<representations>/<dataset>/<representation>/<uid>.npy`.
#[derive(Debug, Clone)]
pub struct DataRoots {
    pub datasets: PathBuf,
    pub representations: PathBuf,
}

impl DataRoots {
    /// The cache layout: `<root>/processed` and `<root>/representations`.
    pub fn from_cache(root: &Path) -> Self {
        Self { datasets: root.join("processed"), representations: root.join("representations") }
    }
}

pub const SPLITS: [&str; 3] = ["train", "valid", "test"];

/// Load, order and label the three splits. `seed: None` shuffles from entropy, as the reference
/// does when unseeded.
pub fn load(roots: &DataRoots, dataset: &str, representation: &str, seed: Option<i64>) -> Result<ProbeData> {
    let attrs = dataset_attrs(dataset)?;
    let meta_path = roots.datasets.join(dataset).join("meta.json");
    let text = std::fs::read_to_string(&meta_path).with_context(|| format!("cannot read {}", meta_path.display()))?;
    let meta: serde_json::Map<String, Value> =
        serde_json::from_str(&text).with_context(|| format!("{} is not a JSON object", meta_path.display()))?;

    let mut split_uids: [Vec<&String>; 3] = Default::default();
    for (uid, entry) in &meta {
        let split = entry
            .get("split")
            .and_then(Value::as_str)
            .with_context(|| format!("{}: entry `{uid}` has no string `split`", meta_path.display()))?;
        if let Some(i) = SPLITS.iter().position(|s| *s == split) {
            // A uid names `<uid>.npy` in the representation folder: an absolute path or `..`
            // would read a file elsewhere.
            let mut parts = Path::new(uid.as_str()).components();
            let plain = matches!((parts.next(), parts.next()), (Some(std::path::Component::Normal(c)), None) if c == uid.as_str());
            ensure!(
                plain,
                "{}: entry `{uid}` is not a plain file name (no `/`, `..` or absolute path)",
                meta_path.display()
            );
            split_uids[i].push(uid);
        }
    }

    let rep_dir = roots.representations.join(dataset).join(representation);
    let mut dim = None;
    let mut unseeded = seed.is_none().then(fresh_random);
    let mut splits = Vec::with_capacity(3);
    for (name, mut uids) in SPLITS.into_iter().zip(split_uids) {
        ensure!(!uids.is_empty(), "split `{name}` of {} is empty", meta_path.display());
        uids.sort();
        // The reference re-seeds before each split, so every split is shuffled from the same state.
        match (&mut unseeded, seed) {
            (_, Some(s)) => PyRandom::new(s).shuffle(&mut uids),
            (Some(rng), None) => rng.shuffle(&mut uids),
            (None, None) => unreachable!(),
        }
        let mut x = Vec::new();
        let mut raw_y = Vec::with_capacity(uids.len());
        for uid in &uids {
            let path = rep_dir.join(format!("{uid}.npy"));
            let v = read_vector(&path)?;
            match dim {
                None => dim = Some(v.len()),
                Some(d) if d != v.len() => {
                    bail!("{} holds {} values, but other representations have {d}", path.display(), v.len())
                }
                _ => {}
            }
            x.extend_from_slice(&v);
            let y =
                meta[*uid].get("y").with_context(|| format!("{}: entry `{uid}` has no `y`", meta_path.display()))?;
            raw_y.push(y.clone());
        }
        let targets =
            labels_to_targets(&attrs, &raw_y).with_context(|| format!("labels in {}", meta_path.display()))?;
        splits.push(Split { uids: uids.into_iter().cloned().collect(), x, raw_y, targets });
    }
    let dim = dim.expect("splits are non-empty");
    ensure!(dim > 0, "representations in {} are empty vectors", rep_dir.display());
    let test = splits.pop().expect("three splits");
    let valid = splits.pop().expect("three splits");
    let train = splits.pop().expect("three splits");
    Ok(ProbeData { attrs, dim, train, valid, test })
}

/// One representation: a 1-D float32 (or float64, as `np.array(..., dtype=float32)` accepts) array.
fn read_vector(path: &Path) -> Result<Vec<f32>> {
    let open = || std::fs::File::open(path).with_context(|| format!("missing representation {}", path.display()));
    let mut file = open()?;
    let len = file.metadata().with_context(|| format!("cannot read {}", path.display()))?.len();
    if let Err(reason) = jukemir_pycompat::npy::check_npy_header(&mut file, len, 4) {
        bail!("{} is not a readable .npy: {reason}", path.display());
    }
    if let Ok(a) = Array1::<f32>::read_npy(std::io::BufReader::new(open()?)) {
        return Ok(a.to_vec());
    }
    if let Ok(a) = Array1::<f64>::read_npy(std::io::BufReader::new(open()?)) {
        return Ok(a.iter().map(|&v| v as f32).collect());
    }
    let shape = match ArrayD::<f32>::read_npy(std::io::BufReader::new(open()?)) {
        Ok(a) => format!("shape {:?}", a.shape()),
        Err(_) => match ArrayD::<f64>::read_npy(std::io::BufReader::new(open()?)) {
            Ok(a) => format!("shape {:?}", a.shape()),
            Err(e) => format!("unreadable: {e}"),
        },
    };
    bail!("{} is not a 1-D float32 vector ({shape})", path.display())
}

/// The reference's `raw_labels_to_targets`.
pub fn labels_to_targets(attrs: &DatasetAttrs, y: &[Value]) -> Result<Targets> {
    let label_id = |label: &Value| -> Result<usize> {
        let s = label.as_str().with_context(|| format!("label {label} is not a string"))?;
        attrs.labels.and_then(|ls| ls.iter().position(|l| *l == s)).with_context(|| format!("unknown label `{s}`"))
    };
    Ok(match attrs.output_type {
        OutputType::Multiclass => {
            Targets::Classes(y.iter().map(|l| label_id(l).map(|i| i as u32)).collect::<Result<_>>()?)
        }
        OutputType::Multilabel => {
            let mut m = vec![0.0f32; y.len() * attrs.num_outputs];
            for (i, tags) in y.iter().enumerate() {
                let tags = tags.as_array().with_context(|| format!("tags {tags} are not a list"))?;
                for t in tags {
                    m[i * attrs.num_outputs + label_id(t)?] = 1.0;
                }
            }
            Targets::Matrix(m)
        }
        OutputType::Regression => {
            let mut m = Vec::with_capacity(y.len() * attrs.num_outputs);
            for v in y {
                let row = v.as_array().filter(|r| r.len() == attrs.num_outputs);
                let row = row.with_context(|| format!("target {v} is not a list of {} numbers", attrs.num_outputs))?;
                for x in row {
                    m.push(x.as_f64().with_context(|| format!("target {v} is not numeric"))? as f32);
                }
            }
            Targets::Matrix(m)
        }
    })
}

/// An unseeded generator (the reference with `seed: null`): keyed with fresh entropy.
pub fn fresh_random() -> PyRandom {
    PyRandom::with_key(&rand::random::<[u32; 4]>())
}
