//! `jukemir probe train`: train one probe from a config file, as the reference's
//! `python -m jukemir.probe.execute <cfg.json>`.

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jukemir_datasets::assets::cache_root;
use jukemir_probe::config::ProbeConfig;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Train linear / MLP probes on extracted representations with the paper's \
protocol: features standardised on the training split, Adam on random minibatches, early stopping on the \
validation split's primary metric (accuracy, ROC-AUC, R² or key score).\n\n\
A config is the reference's JSON (dataset, representation, hidden_layer_sizes, batch_size, learning_rate, \
dropout_p, l2_weight_decay, early_stopping_*, seed, …; unknown fields are errors). Its uid is the sha1 of \
its JSON as the reference writes it, so probe folders line up with the reference's.";

#[derive(Subcommand)]
pub enum ProbeCommand {
    /// Train one probe and save it under probes/<dataset>/<representation>/<uid>/.
    #[command(long_about = TRAIN_LONG_ABOUT)]
    Train(TrainArgs),
}

const TRAIN_LONG_ABOUT: &str = "Train one probe from a config file. Reads processed/<dataset>/meta.json and \
representations/<dataset>/<representation>/<uid>.npy from the cache, and writes cfg.json, scaler.json, \
probe.safetensors and metrics.json (validation metrics) to probes/<dataset>/<representation>/<config uid>/, \
replacing any earlier run of the same config. Prints the best validation metric.";

#[derive(Args)]
pub struct TrainArgs {
    /// The probe config (JSON).
    cfg: PathBuf,
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

pub fn run(command: ProbeCommand) -> anyhow::Result<()> {
    match command {
        ProbeCommand::Train(args) => train(args),
    }
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let root = match args.cache_dir {
        Some(dir) => std::path::absolute(&dir).with_context(|| format!("cannot use {} as cache", dir.display()))?,
        None => cache_root(),
    };
    let cfg = ProbeConfig::from_file(&args.cfg)?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("the template is valid"));
    bar.set_message(format!("loading {} / {}", cfg.dataset, cfg.representation));
    let (trained, dir) = jukemir_probe::train::execute(&cfg, &root, &mut |p| {
        bar.set_message(format!(
            "step {} (epoch {:.1}): valid {} {:.4}, best {:.4}, {}/{} evals without improvement",
            p.step, p.epoch, cfg.early_stopping_metric, p.score, p.best_score, p.boredom, cfg.early_stopping_boredom
        ));
        bar.tick();
    })?;
    bar.finish_and_clear();
    let m = &trained.valid_metrics;
    println!("{} steps; valid primary {:.4}, loss {:.4}", trained.steps, m["primary"], m["loss"]);
    println!("saved {}", dir.display());
    Ok(())
}
