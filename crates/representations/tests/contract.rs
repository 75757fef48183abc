//! The extract contract's semantics, with a small representation defined here so that the
//! behaviour under test is the contract's own (sharding, skipping, failures, atomic outputs).

use jukemir_representations::npy_io::{read_vector, write_vector_atomic};
use jukemir_representations::{extract_folder, Batch, ExtractError, ExtractOptions, InputError, Quiet, Representation};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Vector = [file length, first byte]; files starting with "bad" fail.
struct ByteStats {
    calls: AtomicUsize,
}

impl Representation for ByteStats {
    fn name(&self) -> &'static str {
        "bytestats"
    }
    fn dim(&self) -> usize {
        2
    }
    fn extract_file(&self, path: &Path) -> anyhow::Result<Vec<f32>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let bytes = std::fs::read(path)?;
        anyhow::ensure!(!bytes.starts_with(b"bad"), "unreadable audio");
        Ok(vec![bytes.len() as f32, bytes.first().copied().unwrap_or(0) as f32])
    }
}

fn setup(names: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let output = dir.path().join("out");
    std::fs::create_dir(&input).unwrap();
    for name in names {
        let body = if name.starts_with("bad") { b"bad!".to_vec() } else { name.as_bytes().to_vec() };
        std::fs::write(input.join(name), body).unwrap();
    }
    (dir, input, output)
}

fn outputs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn writes_one_vector_per_input_and_resumes() {
    let (_tmp, input, output) = setup(&["b.wav", "a.wav", "c.mp3"]);
    let repr = ByteStats { calls: AtomicUsize::new(0) };
    let report = extract_folder(&repr, &input, &output, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!((report.selected, report.skipped, report.written), (3, 0, 3));
    assert_eq!(outputs(&output), ["a.npy", "b.npy", "c.npy"]);
    assert_eq!(read_vector(&output.join("c.npy")).unwrap(), vec![5.0, b'c' as f32]);

    // A second run finds everything done; a corrupt output is recomputed.
    std::fs::write(output.join("b.npy"), b"garbage").unwrap();
    let report = extract_folder(&repr, &input, &output, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!((report.skipped, report.written), (2, 1));
    assert_eq!(repr.calls.load(Ordering::SeqCst), 4);
    assert_eq!(read_vector(&output.join("b.npy")).unwrap(), vec![5.0, b'b' as f32]);
}

#[test]
fn shards_are_contiguous_slices_of_the_sorted_inputs() {
    let names: Vec<String> = (0..7).map(|i| format!("{i}.wav")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_tmp, input, output) = setup(&refs);
    let repr = ByteStats { calls: AtomicUsize::new(0) };
    let shard = |index| ExtractOptions { batch: Some(Batch { size: 3, index }), threads: 1 };
    extract_folder(&repr, &input, &output, &shard(1), &Quiet).unwrap();
    assert_eq!(outputs(&output), ["3.npy", "4.npy", "5.npy"]);
    extract_folder(&repr, &input, &output, &shard(2), &Quiet).unwrap();
    assert_eq!(outputs(&output), ["3.npy", "4.npy", "5.npy", "6.npy"]);
    let past = extract_folder(&repr, &input, &output, &shard(3), &Quiet);
    assert!(matches!(past, Err(ExtractError::Inputs(InputError::BatchOutOfRange { .. }))));
}

#[test]
fn a_bad_file_is_reported_and_the_rest_still_run() {
    let (_tmp, input, output) = setup(&["a.wav", "bad.wav", "c.wav"]);
    let repr = ByteStats { calls: AtomicUsize::new(0) };
    let report = extract_folder(&repr, &input, &output, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!(report.written, 2);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].input.ends_with("bad.wav"));
    assert!(report.failed[0].error.contains("unreadable audio"));
    assert_eq!(outputs(&output), ["a.npy", "c.npy"]);
}

#[test]
fn a_good_output_is_never_replaced_by_a_failed_recomputation() {
    let (_tmp, input, output) = setup(&["bad.wav"]);
    std::fs::create_dir(&output).unwrap();
    // A valid output from an earlier run with different content stays untouched.
    write_vector_atomic(&output.join("bad.npy"), &[1.0, 2.0]).unwrap();
    let repr = ByteStats { calls: AtomicUsize::new(0) };
    let report = extract_folder(&repr, &input, &output, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!(report.skipped, 1);
    assert_eq!(read_vector(&output.join("bad.npy")).unwrap(), vec![1.0, 2.0]);
}

#[test]
fn missing_input_folder_and_colliding_stems_are_errors() {
    let (_tmp, input, output) = setup(&["a.wav", "a.mp3"]);
    let repr = ByteStats { calls: AtomicUsize::new(0) };
    let missing = extract_folder(&repr, &input.join("nope"), &output, &ExtractOptions::default(), &Quiet);
    assert!(matches!(missing, Err(ExtractError::NoInputDir(_))));
    let collide = extract_folder(&repr, &input, &output, &ExtractOptions::default(), &Quiet);
    let message = collide.unwrap_err().to_string();
    assert!(message.contains("a.mp3") && message.contains("a.wav"), "{message}");
}

/// Vector = [first byte of this file, sum of first bytes over its batch, batch size]: every output
/// depends on its batch, as choi's do. Files starting with "bad" fail to load.
struct BatchSum {
    batches: std::sync::Mutex<Vec<Vec<String>>>,
}

impl Representation for BatchSum {
    fn name(&self) -> &'static str {
        "batchsum"
    }
    fn dim(&self) -> usize {
        3
    }
    fn extract_file(&self, _: &Path) -> anyhow::Result<Vec<f32>> {
        unreachable!("the contract must call extract_batch for batch-dependent representations")
    }
    fn batch_dependence(&self) -> Option<jukemir_representations::BatchDependence> {
        Some(jukemir_representations::BatchDependence { default_batch_size: 3, shuffle_seed: 0 })
    }
    fn extract_batch(
        &self,
        paths: &[std::path::PathBuf],
    ) -> Result<Vec<Vec<f32>>, jukemir_representations::BatchFailure> {
        let names = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        self.batches.lock().unwrap().push(names);
        let mut firsts = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let bytes = std::fs::read(path).unwrap();
            if bytes.starts_with(b"bad") {
                let error = anyhow::anyhow!("unreadable audio");
                return Err(jukemir_representations::BatchFailure { file: Some(i), error });
            }
            firsts.push(f32::from(bytes[0]));
        }
        let sum: f32 = firsts.iter().sum();
        Ok(firsts.iter().map(|&f| vec![f, sum, paths.len() as f32]).collect())
    }
}

#[test]
fn batch_dependent_representations_get_the_references_shuffled_batches() {
    // Sorted: a b c d e f g; Python 2's random.seed(0); random.shuffle makes it g a d b c e f
    // (fixtures/choi/py2_shuffle_seed0.json, n = 7), so the batches are [g a d] [b c e] [f].
    let names = ["a.wav", "b.wav", "c.wav", "d.wav", "e.wav", "f.wav", "g.wav"];
    let (_tmp, input, output) = setup(&names);
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/choi/py2_shuffle_seed0.json"))
            .unwrap(),
    )
    .unwrap();
    let order: Vec<String> = fixture["permutations"]["7"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| names[i.as_u64().unwrap() as usize].into())
        .collect();
    let expected_batches: Vec<Vec<String>> = order.chunks(3).map(<[String]>::to_vec).collect();

    let repr = BatchSum { batches: Default::default() };
    let report = extract_folder(&repr, &input, &output, &ExtractOptions::default(), &Quiet).unwrap();
    assert_eq!((report.selected, report.written), (7, 7));
    assert_eq!(*repr.batches.lock().unwrap(), expected_batches);
    let first_of = |name: &str| f32::from(name.as_bytes()[0]);
    for batch in &expected_batches {
        let sum: f32 = batch.iter().map(|n| first_of(n)).sum();
        for name in batch {
            let stem = name.trim_end_matches(".wav");
            let vector = read_vector(&output.join(format!("{stem}.npy"))).unwrap();
            assert_eq!(vector, vec![first_of(name), sum, batch.len() as f32]);
        }
    }

    // A shard is one batch of the shuffled order; a batch with one output missing is recomputed
    // whole, and only the missing output is written.
    let missing = &expected_batches[1][2];
    std::fs::remove_file(output.join(missing.replace(".wav", ".npy"))).unwrap();
    repr.batches.lock().unwrap().clear();
    let options = ExtractOptions { batch: Some(Batch { size: 3, index: 1 }), ..Default::default() };
    let report = extract_folder(&repr, &input, &output, &options, &Quiet).unwrap();
    assert_eq!((report.selected, report.skipped, report.written), (3, 2, 1));
    assert_eq!(*repr.batches.lock().unwrap(), vec![expected_batches[1].clone()]);
    let options = ExtractOptions { batch: Some(Batch { size: 3, index: 3 }), ..Default::default() };
    assert!(matches!(
        extract_folder(&repr, &input, &output, &options, &Quiet),
        Err(ExtractError::Inputs(InputError::BatchOutOfRange { .. }))
    ));
}

#[test]
fn a_bad_file_fails_its_whole_batch_and_names_itself() {
    let (_tmp, input, output) = setup(&["a.wav", "bad.wav", "c.wav", "d.wav"]);
    let repr = BatchSum { batches: Default::default() };
    let options = ExtractOptions { batch: Some(Batch { size: 4, index: 0 }), ..Default::default() };
    let report = extract_folder(&repr, &input, &output, &options, &Quiet).unwrap();
    assert_eq!((report.written, report.failed.len()), (0, 4));
    for failed in &report.failed {
        if failed.input.ends_with("bad.wav") {
            assert_eq!(failed.error, "unreadable audio");
        } else {
            assert!(failed.error.contains("bad.wav") && failed.error.contains("batch 0"), "{}", failed.error);
        }
    }
    assert!(outputs(&output).is_empty());
}
