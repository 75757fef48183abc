//! `jukemir example`: the original jukemir README's examples, end to end.
//!
//! `jukemir example gtzan` is the README's "simple example": GTZAN genre with
//! `make_pipeline(StandardScaler(), SVC())` under `cross_val_score(…, cv=10)`, after a Python 3
//! `random.seed(0); random.shuffle` of the sorted feature paths — downloading GTZAN, unpacking it
//! and extracting the representation first, unless `--features` names a folder of vectors.

use crate::extract::{extract_with_progress, NetworkOptions};
use crate::progress::ByteBar;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use indicatif::HumanBytes;
use jukemir_datasets::archive::unpack_tar_gz;
use jukemir_datasets::assets::{fetch, Asset, DownloadOptions, Downloader, Registry};
use jukemir_probe::cross_validation::{cross_val_score_svc, CvScores};
use jukemir_probe::svm::SvcParams;
use jukemir_representations::npy_io::read_vector;
use jukemir_representations::pyrandom::python3_shuffle;
use jukemir_representations::weights::{jukebox_checkpoints, musicnn_checkpoint};
use jukemir_representations::LoadContext;
use std::path::{Path, PathBuf};

pub const GTZAN_LONG_ABOUT: &str = "The original jukemir README's simple example, end to end: GTZAN \
genre classification by an SVM on one representation, with the numbers scikit-learn would print.

What it does:
  1. Downloads GTZAN's genres.tar.gz (1.2 GB) to <cache>/datasets/gtzan/genres.tar.gz — the file \
`jukemir assets gtzan` uses — and verifies its sha256 against the asset registry's. The original host \
(opihi.cs.uvic.ca) is gone, so the Internet Archive copy that the reference README names is used: \
https://web.archive.org/web/20211207012050/http://opihi.cs.uvic.ca/sound/genres.tar.gz (unless \
$JUKEMIR_REGISTRY gives GTZAN another URL). A copy placed at that path by hand is verified and used.
  2. Unpacks it to <cache>/examples/gtzan/genres/<genre>/<genre>.000NN.au (1000 clips of 30 s, 10 genres).
  3. Extracts the representation with the extract contract (as `jukemir extract`) into ONE folder, \
<cache>/examples/gtzan/features/<representation>/<genre>.000NN.npy, as the README's script expects. \
Finished vectors are kept, so an interrupted run resumes; delete the folder to recompute.
  4. Cross-validates exactly as the README's script does with scikit-learn: the sorted paths shuffled \
by Python 3's random.seed(0); random.shuffle, the label of a file taken from its name before the first \
'.', cross_val_score(make_pipeline(StandardScaler(), SVC()), X, y, cv=10) — StratifiedKFold with 10 \
folds, and per fold a StandardScaler fitted on the training part and an SVC with its defaults (RBF \
kernel, C=1, gamma='scale', tol=1e-3, one-vs-one voting) — then prints each fold's accuracy and \
'MEAN +- STD' in percent (population std over the folds), the line the script prints.

What the numbers mean: 10-fold cross-validation on the TRADITIONAL GTZAN split — all 1000 clips, \
shuffled at random before the split, so the same artists (and GTZAN's repeated clips) fall on both sides. They are \
NOT comparable with the paper's GTZAN results, which use the fault-filtered train/valid/test split \
(gtzan_ff; `jukemir probe`). The README reports 92.5 +- 2.9 for jukebox.

Representations: --representation picks one of chroma, mfcc, musicnn, clmr, choi, jukebox. Without it: \
jukebox when its weights are in <cache>/weights/jukebox/5b/ (or --weights), else musicnn when its \
weights are there (`jukemir weights fetch musicnn_big`), else the command stops and says what to do. \
chroma and mfcc need no weights and take minutes for the 1000 clips; musicnn takes tens of minutes; \
jukebox needs OpenAI's 10 GB of weights and minutes per clip on a CPU (1000 clips: run the extraction \
on a cluster with `jukemir cluster`, then point --features at the vectors).

--features DIR skips steps 1-3 and cross-validates the <label>.<anything>.npy files (float32, 1-D) \
of DIR, e.g. vectors of GTZAN extracted elsewhere.

The SVM is jukemir-probe's port of scikit-learn 1.3's libsvm (SMO with second-order working-set \
selection and shrinking, float kernel cache, one-vs-one voting); its tests check its predictions \
against scikit-learn's one by one.";

/// GTZAN's archive at the Internet Archive, as the reference README gives it.
pub const GTZAN_ARCHIVE_URL: &str =
    "https://web.archive.org/web/20211207012050/http://opihi.cs.uvic.ca/sound/genres.tar.gz";
/// The original, long-gone host the asset registry records.
const GTZAN_ORIGINAL_URL: &str = "http://opihi.cs.uvic.ca/sound/genres.tar.gz";
const FOLDS: usize = 10;
/// Written once every member is unpacked.
const UNPACKED_MARKER: &str = ".unpacked";

#[derive(Subcommand)]
pub enum ExampleCommand {
    /// GTZAN genre with an SVM, 10-fold cross-validation: download, extract, score (the README's example).
    #[command(long_about = GTZAN_LONG_ABOUT, after_help = "Examples:\n  jukemir example gtzan --representation mfcc\n  \
                  jukemir example gtzan                      # jukebox or musicnn, whichever has weights\n  \
                  jukemir example gtzan --features ~/gtzan-jukebox/")]
    Gtzan(GtzanArgs),
}

#[derive(Args)]
pub struct GtzanArgs {
    /// Representation to extract [default: jukebox if its weights are present, else musicnn if its
    /// weights are present].
    #[arg(long, short = 'r', value_parser = clap::builder::PossibleValuesParser::new(jukemir_representations::plugin::names()))]
    representation: Option<String>,
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Cross-validate the <label>.<…>.npy vectors in DIR instead of downloading and extracting.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["representation", "weights", "model"])]
    features: Option<PathBuf>,
    /// Threads: files extracted at once and folds trained at once (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    threads: usize,
    #[command(flatten)]
    network: NetworkOptions,
}

pub fn run(command: ExampleCommand) -> anyhow::Result<()> {
    match command {
        ExampleCommand::Gtzan(args) => run_gtzan(args),
    }
}

fn run_gtzan(args: GtzanArgs) -> anyhow::Result<()> {
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let (features_dir, source) = match &args.features {
        Some(dir) => (dir.clone(), format!("the vectors in {}", dir.display())),
        None => {
            let root = crate::probe::resolve_cache(args.cache_dir.clone())?;
            let context = LoadContext { weights: args.network.weights.clone(), cache_root: root.clone() };
            let model = args.network.model.as_deref();
            let name = choose_representation(args.representation.as_deref(), model, &context)?;
            // Load the representation (and its weights) before a 1.2 GB download, so a problem shows now.
            let words: Vec<&str> = model.map(|m| vec!["--model", m]).unwrap_or_default();
            let repr = jukemir_representations::plugin::load(&name, &words, &context)?;
            let archive = fetch_gtzan(&root)?;
            let genres = unpack_gtzan(&archive, &root.join("examples/gtzan"))?;
            let folder = match &args.network.model {
                Some(model) => format!("{name}-{model}"),
                None => name.clone(),
            };
            let features_dir = root.join("examples/gtzan/features").join(folder);
            extract_gtzan(repr.as_ref(), &genres, &features_dir, args.threads)?;
            (
                features_dir.clone(),
                format!("{name} vectors ({} values per clip) in {}", repr.dim(), features_dir.display()),
            )
        }
    };
    let data = load_features(&features_dir)?;
    let scores = cross_validate(&data, threads)?;
    print_results(&data, &scores, &source);
    Ok(())
}

/// `--representation`, else jukebox or musicnn if their weights are where they would be loaded from.
fn choose_representation(
    requested: Option<&str>,
    model: Option<&str>,
    options: &LoadContext,
) -> anyhow::Result<String> {
    if let Some(name) = requested {
        return Ok(name.to_string());
    }
    if model.is_none() && jukebox_checkpoints(options).is_ok() {
        eprintln!(
            "jukemir: representation jukebox (its weights are present), as the README's example. It takes \
             minutes per clip on a CPU; pass --representation to choose another."
        );
        return Ok("jukebox".into());
    }
    let model = model.unwrap_or("MSD_musicnn_big");
    if musicnn_checkpoint(model, options).is_ok() {
        eprintln!("jukemir: representation musicnn ({model}; no jukebox weights found, its weights are present)");
        return Ok("musicnn".into());
    }
    bail!(
        "no --representation given, and neither jukebox's weights ({}) nor musicnn's ({}) are present.\n\
         Either choose a representation that needs no weights:  jukemir example gtzan --representation mfcc\n\
         or fetch musicnn's weights first:                      jukemir weights fetch musicnn_big\n\
         or download Jukebox 5B's vqvae.pth.tar and prior_level_2.pth.tar (about 10 GB) from {} into the first folder \
         (or pass --weights with their folder).",
        options.cache_root.join("weights/jukebox/5b").display(),
        options.cache_root.join("weights/musicnn").display(),
        jukemir_representations::weights::JUKEBOX_URL,
    )
}

/// The registry's GTZAN archive, fetched from the Internet Archive when the registry only knows the
/// dead original host.
fn gtzan_asset() -> anyhow::Result<Asset> {
    let registry = Registry::active()?;
    let known = registry.get("GTZAN").context("the asset registry has no GTZAN entry")?;
    let url = match known.url.as_deref() {
        None | Some(GTZAN_ORIGINAL_URL) => GTZAN_ARCHIVE_URL,
        Some(mirror) => mirror,
    };
    Ok(Asset::new(&known.tag, &known.path_rel, Some(url), known.checksum.hex())?)
}

fn fetch_gtzan(root: &Path) -> anyhow::Result<PathBuf> {
    let asset = gtzan_asset()?;
    eprintln!("jukemir: GTZAN's genres.tar.gz (1.2 GB, {}) at {}", asset.checksum, asset.path(root).display());
    let progress = ByteBar::new();
    let downloader = Downloader::new(DownloadOptions::default());
    let result = fetch(&asset, root, false, &downloader, &progress);
    progress.bar.finish_and_clear();
    let fetched = result.with_context(|| {
        format!(
            "cannot get GTZAN from {}; if you have genres.tar.gz, put it at {} and run again (it is verified \
             against the registry's sha256)",
            asset.url.as_deref().unwrap_or("?"),
            asset.path(root).display()
        )
    })?;
    eprintln!("jukemir: {} ({}, verified)", fetched.path.display(), HumanBytes(fetched.bytes));
    Ok(fetched.path)
}

fn is_audio(name: &str) -> bool {
    name.ends_with(".au") || name.ends_with(".wav")
}

/// Unpacks the archive's clips under `dest` (`dest/genres/<genre>/…`) unless done before; returns
/// the genre folders, sorted.
fn unpack_gtzan(archive: &Path, dest: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let genres_dir = dest.join("genres");
    let marker = genres_dir.join(UNPACKED_MARKER);
    if !marker.is_file() {
        eprintln!("jukemir: unpacking {} into {}", archive.display(), genres_dir.display());
        // Members already in place (an interrupted unpack writes each one atomically) are skipped.
        unpack_tar_gz(archive, dest, |name| is_audio(name) && !dest.join(name).is_file())?;
        std::fs::write(&marker, b"").with_context(|| format!("cannot write {}", marker.display()))?;
    }
    let mut genres = Vec::new();
    for entry in std::fs::read_dir(&genres_dir).with_context(|| format!("cannot read {}", genres_dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            genres.push(path);
        }
    }
    genres.sort();
    if genres.is_empty() {
        bail!("{} holds no genre folders after unpacking {}", genres_dir.display(), archive.display());
    }
    Ok(genres)
}

/// Every genre folder through the extract contract into the one `features_dir`.
fn extract_gtzan(
    repr: &dyn jukemir_representations::Representation,
    genres: &[PathBuf],
    features_dir: &Path,
    threads: usize,
) -> anyhow::Result<()> {
    eprintln!("jukemir: extracting {} into {}", repr.name(), features_dir.display());
    let (mut written, mut skipped, mut selected) = (0, 0, 0);
    let mut failed = Vec::new();
    for genre in genres {
        let report = extract_with_progress(repr, genre, features_dir, None, threads)?;
        written += report.written;
        skipped += report.skipped;
        selected += report.selected;
        failed.extend(report.failed);
    }
    eprintln!("{written} written, {skipped} skipped (already done), {} failed", failed.len());
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("  {}: {}", f.input.display(), f.error);
        }
        bail!(
            "{} of {selected} clip(s) failed (listed above); the script needs every clip. Finished vectors are kept: \
             fix or remove the failing clips and run the same command again",
            failed.len()
        );
    }
    Ok(())
}

/// The vectors in the script's order, and their labels.
struct Features {
    /// File names, sorted, then shuffled as the script does.
    names: Vec<String>,
    labels: Vec<String>,
    /// The distinct labels, sorted (scikit-learn's `classes_`).
    classes: Vec<String>,
    x: Vec<f32>,
    dim: usize,
}

/// `sorted(glob.glob(DIR + '/*.npy'))`, `random.seed(0); random.shuffle(…)`, `np.load` each,
/// labels `name.split('.')[0]`.
fn load_features(dir: &Path) -> anyhow::Result<Features> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read the features folder {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && name.ends_with(".npy") {
            names.push(name);
        }
    }
    if names.is_empty() {
        bail!("{} holds no .npy files", dir.display());
    }
    names.sort();
    python3_shuffle(&mut names, 0);
    let mut x = Vec::new();
    let mut dim = 0;
    let mut labels = Vec::with_capacity(names.len());
    for name in &names {
        let path = dir.join(name);
        let v = read_vector(&path).with_context(|| format!("cannot read {} as a float32 1-D .npy", path.display()))?;
        if dim == 0 {
            dim = v.len();
        }
        if v.len() != dim || dim == 0 {
            bail!("{} has {} values where the others have {dim}", path.display(), v.len());
        }
        x.extend_from_slice(&v);
        labels.push(name.split('.').next().unwrap_or_default().to_string());
    }
    let mut classes = labels.clone();
    classes.sort();
    classes.dedup();
    if classes.len() < 2 {
        bail!(
            "the files in {} have one label only ({:?}); labels come from the names, <label>.<…>.npy",
            dir.display(),
            classes[0]
        );
    }
    Ok(Features { names, labels, classes, x, dim })
}

fn cross_validate(data: &Features, threads: usize) -> anyhow::Result<CvScores> {
    let ids: Vec<usize> = data.labels.iter().map(|l| data.classes.binary_search(l).expect("listed")).collect();
    eprintln!("jukemir: 10-fold cross-validation of StandardScaler + SVC on {} vectors", data.names.len());
    Ok(cross_val_score_svc(&data.x, data.dim, &ids, FOLDS, &SvcParams::default(), threads)?)
}

fn print_results(data: &Features, scores: &CvScores, source: &str) {
    let n = data.names.len();
    println!(
        "GTZAN genre, as the original jukemir README's example: 10-fold cross-validation (scikit-learn's \
         cross_val_score with StratifiedKFold) of StandardScaler + SVC (RBF kernel, C=1, gamma='scale') on the \
         traditional GTZAN split (all clips, not the fault-filtered gtzan_ff split of the paper)."
    );
    println!("features: {source}");
    println!("{n} clips, {} dimensions, {} labels: {}", data.dim, data.classes.len(), data.classes.join(", "));
    if n != 1000 {
        println!("note: GTZAN has 1000 clips; these {n} vectors are another set, so this is not the GTZAN benchmark.");
    }
    if let Some(warning) = &scores.warning {
        println!("warning (as scikit-learn's): {warning}");
    }
    for (k, fold) in scores.folds.iter().enumerate() {
        let correct = (fold.accuracy * fold.test.len() as f64).round() as usize;
        println!("fold {:>2}: {:5.1}%  ({correct}/{} correct)", k + 1, fold.accuracy * 100.0, fold.test.len());
    }
    println!("accuracy in percent, mean +- std over the 10 folds (what the README's script prints):");
    println!("{}", scores.summary());
}
