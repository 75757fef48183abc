//! `jukemir demo`: the whole tool on data it makes itself, with nothing to download.

use crate::extract::{extract_with_progress, finish};
use crate::progress::files_bar;
use anyhow::Context;
use clap::Args;
use jukemir_datasets::synthetic::SyntheticKeys;
use jukemir_probe::config::{paper_grid, ProbeConfig};
use jukemir_probe::evaluate::{evaluation, Evaluation};
use jukemir_probe::grid::{run_configs, spread};
use jukemir_probe::report::chart::{grouped_bars, Series};
use jukemir_representations::plugin::load;
use jukemir_representations::{LoadContext, Representation};
use rayon::prelude::*;
use std::path::PathBuf;

pub const LONG_ABOUT: &str =
    "The whole pipeline on data it makes itself, with nothing to download: synthesise a small \
labelled music set (24 keys × 5 cadences in three timbres at random tempi, 4 s each, identical on every \
machine), extract chroma and mfcc from it through the same extract contract as `jukemir extract` (and musicnn \
too when its weights are in the cache), train probes on its train split with the paper's protocol (Adam, \
early stopping on the valid split, configs of the paper's grid), pick the best on valid, score it on test, and \
print the results table.

Files are laid out as in the jukemir cache: OUTPUT/processed/synthetic_keys/{wav/,meta.json}, \
OUTPUT/representations/synthetic_keys/<representation>/<uid>.npy, OUTPUT/probes/…, OUTPUT/evaluations/…, and \
the table as OUTPUT/results.{md,csv,svg}. Running it again reuses what is there. The data is SYNTHETIC: it \
shows the tool working end to end, not how well a representation does on real music.";

const DATASET: &str = "synthetic_keys";

#[derive(Args)]
pub struct DemoArgs {
    /// Where to write the demo's files.
    #[arg(long, short, default_value = "jukemir-demo")]
    output: PathBuf,
    /// Threads (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    threads: usize,
    /// Probe configs per representation, spread evenly over the paper's 216 (216: all of them).
    #[arg(long, default_value_t = 12, value_name = "N")]
    probes: usize,
    /// Cache folder searched for musicnn's weights [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

/// One representation's outcome.
struct Outcome {
    name: String,
    dim: usize,
    vectors: usize,
    probes: usize,
    valid_accuracy: f64,
    test_accuracy: f64,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let set = SyntheticKeys::default();
    let dataset_dir = args.output.join("processed").join(DATASET);
    let wav_dir = dataset_dir.join("wav");
    std::fs::create_dir_all(&wav_dir).with_context(|| format!("cannot create {}", wav_dir.display()))?;
    eprintln!(
        "jukemir demo: SYNTHETIC data — {} clips of {} s, 24 keys (task: key), made on this machine",
        set.len(),
        set.seconds
    );

    let bar = files_bar(set.len() as u64, "synth");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    pool.install(|| {
        (0..set.len()).into_par_iter().try_for_each(|index| {
            let result = set.write_clip(index, &wav_dir);
            bar.inc(1);
            result
        })
    })?;
    bar.finish();
    let meta_path = dataset_dir.join("meta.json");
    std::fs::write(&meta_path, serde_json::to_string_pretty(&set.meta())?)
        .with_context(|| format!("cannot write {}", meta_path.display()))?;

    let context =
        LoadContext { cache_root: crate::probe::resolve_cache(args.cache_dir.clone())?, ..Default::default() };
    let mut representations: Vec<Box<dyn Representation>> =
        vec![load("chroma", &[], &context)?, load("mfcc", &[], &context)?];
    match load("musicnn", &[], &context) {
        Ok(musicnn) => representations.push(musicnn),
        Err(_) => eprintln!("musicnn: skipped (no weights in the cache; `jukemir weights fetch musicnn_big` adds it)"),
    }

    let mut outcomes = Vec::new();
    for repr in &representations {
        let name = repr.name();
        let out_dir = args.output.join("representations").join(DATASET).join(name);
        let report = extract_with_progress(repr.as_ref(), &wav_dir, &out_dir, None, threads)?;
        finish(&report, &out_dir)?;
        let (probes, evaluation) = probe(name, &args.output, args.probes, threads)?;
        let accuracy = |m: &jukemir_probe::train::Metrics| m.get("accuracy").copied().unwrap_or(f64::NAN);
        outcomes.push(Outcome {
            name: name.to_string(),
            dim: repr.dim(),
            vectors: report.written + report.skipped,
            probes,
            valid_accuracy: accuracy(&evaluation.valid),
            test_accuracy: accuracy(&evaluation.test),
        });
    }

    let table = results_table(&outcomes);
    let written = write_results(&args.output, &outcomes, &table)?;
    println!("\nSYNTHETIC key-detection demo (24 classes, chance 4.2 %; not real music)\n");
    print!("{table}");
    println!("\nclips and labels:  {} ({} clips)", meta_path.display(), set.len());
    println!("representations:   {}", args.output.join("representations").join(DATASET).display());
    println!("probes:            {}", args.output.join("probes").join(DATASET).display());
    for path in written {
        println!("results:           {}", path.display());
    }
    Ok(())
}

/// Trains `n` configs of the paper's grid (seed 0, so reruns agree) and evaluates the best on
/// valid. Returns how many configs make up the grid and the evaluation.
fn probe(name: &str, root: &std::path::Path, n: usize, threads: usize) -> anyhow::Result<(usize, Evaluation)> {
    let configs: Vec<ProbeConfig> = spread(&paper_grid(DATASET, name), n.max(1))
        .into_iter()
        .map(|c| c.with("seed", serde_json::json!(0)))
        .collect::<anyhow::Result<_>>()?;
    let bar = files_bar(configs.len() as u64, &format!("probe {name}"));
    run_configs(&configs, root, threads, &|_| bar.inc(1))?;
    bar.finish();
    let evaluation = evaluation(DATASET, name, root).with_context(|| format!("evaluating the {name} probes"))?;
    Ok((configs.len(), evaluation))
}

fn results_table(outcomes: &[Outcome]) -> String {
    let mut table = format!(
        "{:<10} {:>6} {:>8} {:>7} {:>16} {:>15}\n",
        "repr", "dim", "vectors", "probes", "valid accuracy", "test accuracy"
    );
    for o in outcomes {
        table.push_str(&format!(
            "{:<10} {:>6} {:>8} {:>7} {:>15.1}% {:>14.1}%\n",
            o.name,
            o.dim,
            o.vectors,
            o.probes,
            100.0 * o.valid_accuracy,
            100.0 * o.test_accuracy
        ));
    }
    table
}

/// `results.md`, `results.csv` and `results.svg` in `root`, each written atomically.
fn write_results(root: &std::path::Path, outcomes: &[Outcome], table: &str) -> anyhow::Result<Vec<PathBuf>> {
    let title = "jukemir demo: key accuracy on a SYNTHETIC set (not real music)";
    let markdown = format!("# {title}\n\n```\n{table}```\n");
    let mut csv = String::from("representation,dim,probes,valid_accuracy,test_accuracy\n");
    for o in outcomes {
        csv.push_str(&format!("{},{},{},{},{}\n", o.name, o.dim, o.probes, o.valid_accuracy, o.test_accuracy));
    }
    let series: Vec<Series> = outcomes
        .iter()
        .map(|o| Series {
            name: o.name.clone(),
            values: vec![Some(100.0 * o.valid_accuracy), Some(100.0 * o.test_accuracy)],
            reference: vec![None, None],
        })
        .collect();
    let svg = grouped_bars(title, &["valid accuracy", "test accuracy"], &series, "accuracy (%)", "");
    let mut written = Vec::new();
    for (name, text) in [("results.md", markdown), ("results.csv", csv), ("results.svg", svg)] {
        let path = root.join(name);
        jukemir_probe::atomic::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
