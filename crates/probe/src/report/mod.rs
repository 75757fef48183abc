//! `jukemir report`: every evaluated dataset × representation in the paper's table layout (tags
//! ROC-AUC and AP, genre accuracy, key score, emotion arousal and valence R², their average),
//! with the paper's published numbers alongside where known.

pub mod chart;
pub mod paper;
pub mod render;

use crate::evaluate::{evaluation, saved_runs};
use anyhow::{Context, Result};
use std::path::Path;

/// One column of the table: a test metric of one dataset's best-on-valid probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The CSV header.
    pub key: &'static str,
    /// The table header.
    pub header: &'static str,
    pub dataset: &'static str,
    pub metric: &'static str,
    /// Index into [`TASKS`].
    pub task: usize,
}

pub const COLUMNS: [Column; 6] = [
    Column { key: "tags_auc", header: "Tags AUC", dataset: "magnatagatune", metric: "auc_roc", task: 0 },
    Column { key: "tags_ap", header: "Tags AP", dataset: "magnatagatune", metric: "ap", task: 0 },
    Column { key: "genre_acc", header: "Genre Acc", dataset: "gtzan_ff", metric: "accuracy", task: 1 },
    Column { key: "key_score", header: "Key Score", dataset: "giantsteps_clips", metric: "score", task: 2 },
    Column { key: "emo_arousal_r2", header: "Emo A R²", dataset: "emomusic", metric: "arousal_r2", task: 3 },
    Column { key: "emo_valence_r2", header: "Emo V R²", dataset: "emomusic", metric: "valence_r2", task: 3 },
];

pub const TASKS: [&str; 4] = ["tagging", "genre", "key", "emotion"];

/// One row: a representation's six metrics as fractions (the table shows percentages).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub representation: String,
    pub values: [Option<f64>; 6],
}

impl Row {
    /// The mean over the four tasks of each task's mean metric (tagging: AUC and AP; emotion:
    /// arousal and valence), so every task weighs the same. `None` unless all six are known.
    pub fn average(&self) -> Option<f64> {
        let mut total = 0.0;
        for task in 0..TASKS.len() {
            let values: Vec<f64> = COLUMNS
                .iter()
                .zip(&self.values)
                .filter(|(c, _)| c.task == task)
                .map(|(_, v)| *v)
                .collect::<Option<_>>()?;
            total += values.iter().sum::<f64>() / values.len() as f64;
        }
        Some(total / TASKS.len() as f64)
    }

    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// Measured rows, each with the paper's row for the same representation when it published one.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub rows: Vec<(Row, Option<Row>)>,
}

/// Where `name` comes in `order`, then alphabetically after the listed ones.
fn representation_rank(name: &str, order: &[&str]) -> (usize, String) {
    (order.iter().position(|p| *p == name).unwrap_or(order.len()), name.to_string())
}

/// Representations that have saved probes for `dataset`.
fn probed_representations(dataset: &str, cache_root: &Path) -> Result<Vec<String>> {
    let dir = cache_root.join("probes").join(dataset);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("cannot read {}", dir.display()))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if !name.starts_with('.') && path.is_dir() && !saved_runs(dataset, name, cache_root)?.is_empty() {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Collect the test metrics of every dataset × representation with saved probes under
/// `<cache_root>/probes`, evaluating (and saving `evaluations/<dataset>/<representation>.json` for) grids that have no
/// up-to-date evaluation yet. Rows come in `order` (the registry's: the paper's representations
/// first), others after them alphabetically. `on_evaluate` is told which pair is being looked at.
pub fn collect(cache_root: &Path, order: &[&str], on_evaluate: &mut dyn FnMut(&str, &str)) -> Result<Report> {
    let mut rows: Vec<Row> = Vec::new();
    let mut datasets: Vec<&str> = COLUMNS.iter().map(|c| c.dataset).collect();
    datasets.dedup();
    for dataset in datasets {
        for representation in probed_representations(dataset, cache_root)? {
            on_evaluate(dataset, &representation);
            let evaluation = evaluation(dataset, &representation, cache_root)
                .with_context(|| format!("evaluating {dataset} / {representation}"))?;
            let index = match rows.iter().position(|r| r.representation == representation) {
                Some(i) => i,
                None => {
                    rows.push(Row { representation: representation.clone(), values: [None; 6] });
                    rows.len() - 1
                }
            };
            for (slot, column) in rows[index].values.iter_mut().zip(&COLUMNS) {
                if column.dataset == dataset {
                    *slot = evaluation.test.get(column.metric).copied();
                }
            }
        }
    }
    rows.sort_by_key(|r| representation_rank(&r.representation, order));
    let rows = rows.into_iter().map(|r| {
        let published = paper::row(&r.representation);
        (r, published)
    });
    Ok(Report { rows: rows.collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, values: [Option<f64>; 6]) -> Row {
        Row { representation: name.into(), values }
    }

    #[test]
    fn average_weighs_the_four_tasks_equally() {
        let full = row("x", [Some(0.9), Some(0.4), Some(0.8), Some(0.6), Some(0.7), Some(0.5)]);
        // tagging (0.9+0.4)/2, genre 0.8, key 0.6, emotion (0.7+0.5)/2.
        assert!((full.average().unwrap() - (0.65 + 0.8 + 0.6 + 0.6) / 4.0).abs() < 1e-12);
        let partial = row("x", [Some(0.9), None, Some(0.8), Some(0.6), Some(0.7), Some(0.5)]);
        assert_eq!(partial.average(), None);
    }

    #[test]
    fn paper_rows_sit_under_their_representation() {
        let published = paper::row("jukebox").expect("the paper's jukebox numbers");
        assert_eq!(published.values[2], Some(0.797));
        assert!(paper::row("synth").is_none());
        let report = Report {
            rows: vec![(row("jukebox", [None, None, Some(0.8), Some(0.65), Some(0.7), Some(0.6)]), Some(published))],
        };
        let text = render::text(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("jukebox "), "{text}");
        assert!(
            lines[2].starts_with("jukebox (paper)") && lines[2].contains("79.7") && lines[2].contains("66.7"),
            "{text}"
        );
        assert!(lines[3].contains("Table 1"), "{text}");
        assert!(render::csv(&report).lines().nth(2).unwrap().starts_with("jukebox,paper,,,0.797,"));
        assert!(chart::svg(&report, "t").contains("paper: 79.7"));
    }

    #[test]
    fn representations_follow_the_given_order_then_the_alphabet() {
        let order = ["chroma", "mfcc", "choi", "musicnn", "clmr", "jukebox"];
        let mut names = vec!["zeta", "jukebox", "chroma", "alpha", "musicnn"];
        names.sort_by_key(|n| representation_rank(n, &order));
        assert_eq!(names, ["chroma", "musicnn", "jukebox", "alpha", "zeta"]);
    }
}
