//! `jukemir demo`: the whole tool on data it makes itself, with nothing to download.

use crate::extract::{extract_with_progress, finish};
use crate::progress::files_bar;
use anyhow::Context;
use clap::Args;
use jukemir_datasets::synthetic::SyntheticKeys;
use jukemir_representations::representation;
use rayon::prelude::*;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Synthesise a small labelled music set (24 keys × 5 cadences in three \
timbres at random tempi, 4 s each, identical on every machine) and extract the chroma and mfcc \
representations from it through the same extract contract as `jukemir extract`.

Files are laid out as in the jukemir cache: OUTPUT/processed/synthetic_keys/{wav/,meta.json} and \
OUTPUT/representations/synthetic_keys/<representation>/<uid>.npy. The data is SYNTHETIC: it shows the \
tool working end to end, not how well a representation does on real music.";

const DATASET: &str = "synthetic_keys";

#[derive(Args)]
pub struct DemoArgs {
    /// Where to write the demo's files.
    #[arg(long, short, default_value = "jukemir-demo")]
    output: PathBuf,
    /// Files processed in parallel (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    threads: usize,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
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
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.threads).build()?;
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

    let mut written = Vec::new();
    for name in ["chroma", "mfcc"] {
        let repr = representation(name)?;
        let out_dir = args.output.join("representations").join(DATASET).join(name);
        let report = extract_with_progress(repr.as_ref(), &wav_dir, &out_dir, None, args.threads)?;
        finish(&report, &out_dir)?;
        written.push((name, repr.dim(), report.written + report.skipped, out_dir));
    }

    println!("\nSynthetic demo set (not real music): {}", dataset_dir.display());
    println!("  {} clips, labels and splits in {}", set.len(), meta_path.display());
    println!("\n{:<10} {:>8} {:>6}  folder", "repr", "vectors", "dim");
    for (name, dim, count, dir) in &written {
        println!("{name:<10} {count:>8} {dim:>6}  {}", dir.display());
    }
    Ok(())
}
