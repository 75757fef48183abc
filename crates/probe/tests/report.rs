//! `jukemir report`'s collection and rendering, on seeded synthetic gtzan_ff and emomusic tasks.

use jukemir_probe::config::ProbeConfig;
use jukemir_probe::evaluate::{best_on_valid, Evaluation};
use jukemir_probe::grid;
use jukemir_probe::report::{chart, collect, render};
use serde_json::json;
mod common;
use common::write_task;

const GENRES: [&str; 10] =
    ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];

fn configs(dataset: &str) -> Vec<ProbeConfig> {
    let base = ProbeConfig::new(dataset, "synth")
        .with("early_stopping_boredom", json!(3))
        .unwrap()
        .with("max_num_epochs", json!(10))
        .unwrap();
    vec![base.with("learning_rate", json!(1e-2)).unwrap(), base.with("learning_rate", json!(1e-4)).unwrap()]
}

/// The registry's order of the paper's representations (what the CLI passes).
const PAPER_ORDER: [&str; 6] = ["chroma", "mfcc", "choi", "musicnn", "clmr", "jukebox"];

#[test]
fn report_collects_evaluates_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_task(root, "gtzan_ff", "synth", [120, 60, 60], 10, &|class, _| json!(GENRES[class]));
    write_task(root, "emomusic", "synth", [120, 60, 60], 4, &|_, x| json!([x[0] + 0.5 * x[1], x[2] - x[3]]));
    for dataset in ["gtzan_ff", "emomusic"] {
        grid::run_configs(&configs(dataset), root, 2, &|_| {}).unwrap();
    }

    let mut seen = Vec::new();
    let report = collect(root, &PAPER_ORDER, &mut |d, r| seen.push(format!("{d}/{r}"))).unwrap();
    assert_eq!(seen, ["gtzan_ff/synth", "emomusic/synth"]);
    assert_eq!(report.rows.len(), 1);
    let (row, paper) = &report.rows[0];
    assert!(paper.is_none(), "no published numbers for `synth`");
    let genre = best_on_valid("gtzan_ff", "synth", root).unwrap();
    let emotion = best_on_valid("emomusic", "synth", root).unwrap();
    let expected = [
        None,
        None,
        Some(genre.test["accuracy"]),
        None,
        Some(emotion.test["arousal_r2"]),
        Some(emotion.test["valence_r2"]),
    ];
    assert_eq!(row.values, expected);
    assert!(genre.test["accuracy"] > 0.5, "the synthetic genre task is learnable: {:?}", genre.test);
    assert_eq!(row.average(), None, "tagging and key are missing");

    // The evaluation is saved and reused while the runs are unchanged...
    let mut saved = Evaluation::load("gtzan_ff", "synth", root).unwrap().unwrap();
    assert_eq!(saved.uid, genre.uid);
    assert_eq!(saved.num_runs, 2);
    saved.test.insert("accuracy".into(), 0.25);
    saved.save(root).unwrap();
    let reused = collect(root, &PAPER_ORDER, &mut |_, _| {}).unwrap();
    assert_eq!(reused.rows[0].0.values[2], Some(0.25));
    // ...and redone once another run is saved.
    let extra = configs("gtzan_ff")[0].with("dropout_p", json!(0.25)).unwrap();
    grid::run_configs(&[extra], root, 1, &|_| {}).unwrap();
    let redone = collect(root, &PAPER_ORDER, &mut |_, _| {}).unwrap();
    assert_eq!(Evaluation::load("gtzan_ff", "synth", root).unwrap().unwrap().num_runs, 3);
    assert_ne!(redone.rows[0].0.values[2], Some(0.25));

    let text = render::text(&report);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for header in ["Representation", "Tags AUC", "Tags AP", "Genre Acc", "Key Score", "Emo A R²", "Emo V R²", "Average"]
    {
        assert!(lines[0].contains(header), "{text}");
    }
    assert!(lines[1].starts_with("synth"), "{text}");
    assert!(lines[1].contains(&format!("{:.1}", 100.0 * genre.test["accuracy"])), "{text}");
    assert_eq!(lines[0].chars().count(), lines[1].chars().count(), "columns are aligned:\n{text}");

    let md = render::markdown(&report);
    assert!(md.contains("| :--- | ---: |"), "{md}");
    let csv = render::csv(&report);
    let csv_lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        csv_lines[0],
        "representation,source,tags_auc,tags_ap,genre_acc,key_score,emo_arousal_r2,emo_valence_r2,average"
    );
    assert_eq!(
        csv_lines[1],
        format!(
            "synth,measured,,,{},,{},{},",
            genre.test["accuracy"], emotion.test["arousal_r2"], emotion.test["valence_r2"]
        )
    );

    let svg = chart::svg(&report, "synthetic <test>");
    let doc = roxmltree::Document::parse(&svg).expect("the chart is well-formed XML");
    let bars =
        doc.descendants().filter(|n| n.has_tag_name("rect") && n.children().any(|c| c.has_tag_name("title"))).count();
    assert_eq!(bars, 3, "one bar per known metric");
    assert!(svg.contains("synthetic &lt;test&gt;"));
}
