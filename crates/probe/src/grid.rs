//! The paper's hyper-parameter grid (the reference's `reproduce/5_grid_train_serial.py`): every
//! config is trained and saved as `train::execute` does, skipping those whose `metrics.json`
//! already exists, so an interrupted grid resumes where it stopped.

use crate::config::{paper_grid, ProbeConfig};
use crate::data::{self, DataRoots, ProbeData};
use crate::train::{self, probe_dir, Metrics};
use anyhow::{bail, ensure, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// One config of a grid run.
#[derive(Debug, Clone)]
pub struct GridOutcome {
    pub uid: String,
    pub dir: PathBuf,
    /// The validation `primary` from `metrics.json`.
    pub valid_primary: f64,
    /// `false` when an earlier run had already saved this probe.
    pub trained: bool,
    /// Optimiser steps and floating-point operations of the products, when trained now.
    pub steps: usize,
    pub flops: f64,
}

impl GridOutcome {
    /// A config an earlier run saved in `dir`.
    fn saved(uid: String, dir: PathBuf) -> Result<Self> {
        let valid_primary = primary(&read_metrics(&dir)?, &dir)?;
        Ok(Self { uid, dir, valid_primary, trained: false, steps: 0, flops: 0.0 })
    }
}

/// Read the validation metrics a saved probe wrote.
pub fn read_metrics(dir: &Path) -> Result<Metrics> {
    let path = dir.join("metrics.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a metrics object", path.display()))
}

fn primary(m: &Metrics, dir: &Path) -> Result<f64> {
    m.get("primary").copied().with_context(|| format!("{}/metrics.json has no `primary`", dir.display()))
}

/// `n` configs at evenly spaced positions of `grid` (all of it when `n` ≥ its length), so that a
/// short run still sees every learning rate, batch size and depth of the paper's grid.
pub fn spread(grid: &[ProbeConfig], n: usize) -> Vec<ProbeConfig> {
    let n = n.min(grid.len());
    (0..n).map(|i| grid[i * grid.len() / n].clone()).collect()
}

/// Train the paper's 216 configs for `dataset` / `representation` on `workers` threads.
pub fn run_grid(
    dataset: &str,
    representation: &str,
    cache_root: &Path,
    workers: usize,
    progress: &(dyn Fn(&GridOutcome) + Sync),
) -> Result<Vec<GridOutcome>> {
    run_configs(&paper_grid(dataset, representation), cache_root, workers, progress)
}

/// Train `configs` (all of one dataset and representation) on `workers` threads, into
/// `<cache_root>/probes`. Configs whose `metrics.json` exists are not trained again. The data are
/// loaded once per distinct seed and shared; unseeded configs each load (and shuffle) their own.
/// `progress` is called once per config as it finishes. Outcomes are in the order of `configs`.
/// On the first failure the remaining configs are abandoned and the error names the config.
pub fn run_configs(
    configs: &[ProbeConfig],
    cache_root: &Path,
    workers: usize,
    progress: &(dyn Fn(&GridOutcome) + Sync),
) -> Result<Vec<GridOutcome>> {
    let Some(first) = configs.first() else { return Ok(vec![]) };
    let (dataset, representation) = (first.dataset.clone(), first.representation.clone());
    ensure!(
        configs.iter().all(|c| c.dataset == dataset && c.representation == representation),
        "a grid must be of one dataset and representation"
    );
    let probes_root = cache_root.join("probes");
    let roots = DataRoots::from_cache(cache_root);
    let grid_dir = probes_root.join(&dataset).join(&representation);
    std::fs::create_dir_all(&grid_dir).with_context(|| format!("cannot create {}", grid_dir.display()))?;
    jukemir_fs::remove_stale_temporaries(&grid_dir).with_context(|| format!("cannot clean {}", grid_dir.display()))?;

    let mut outcomes: Vec<Option<GridOutcome>> = vec![None; configs.len()];
    let mut pending = Vec::new();
    for (i, cfg) in configs.iter().enumerate() {
        let uid = cfg.uid();
        let dir = probe_dir(&probes_root, &dataset, &representation, &uid);
        if dir.join("metrics.json").is_file() {
            let outcome = GridOutcome::saved(uid, dir)?;
            progress(&outcome);
            outcomes[i] = Some(outcome);
        } else {
            pending.push(i);
        }
    }

    let mut shared: HashMap<i64, ProbeData> = HashMap::new();
    for &i in &pending {
        if let Some(seed) = configs[i].seed {
            if let std::collections::hash_map::Entry::Vacant(e) = shared.entry(seed) {
                e.insert(data::load(&roots, &dataset, &representation, Some(seed))?);
            }
        }
    }
    let units = work_units(configs, &pending);
    let workers = workers.max(1);
    // A unit trains on one thread while every worker has one; once workers run out of units, the
    // units still running share their threads (the products then run on the pool's idle threads).
    let running = AtomicUsize::new(0);
    let threads = || (workers / running.load(Ordering::Relaxed).max(1)).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .start_handler(|_| crate::denormals::flush_denormals_on_this_thread())
        .build()
        .context("cannot start the grid's threads")?;

    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, Result<GridOutcome>)>> = Mutex::new(Vec::new());
    let report = |i: usize, result: Result<GridOutcome>| {
        match &result {
            Ok(outcome) => progress(outcome),
            Err(_) => failed.store(true, Ordering::Relaxed),
        }
        results.lock().expect("no worker panics holding the lock").push((i, result));
    };
    // Configs another process is training (its lock is held): waited for once ours are done.
    let deferred: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    let lock_path = |i: usize| grid_dir.join(format!(".{}.lock", configs[i].uid()));
    // Train the configs of `unit` that nobody else is training, as one group. One worker per config
    // across processes: an exclusive lock on `.<uid>.lock`, which the kernel releases if the holder
    // dies, so a killed worker's config is taken over. With `wait`, block on the locks instead of
    // deferring the configs whose lock is held.
    let train_unit = |unit: &[usize], wait: bool| -> Result<()> {
        let mut members = Vec::with_capacity(unit.len());
        let mut locks = Vec::with_capacity(unit.len());
        for &i in unit {
            let path = lock_path(i);
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            if wait {
                lock.lock().with_context(|| format!("cannot lock {}", path.display()))?;
            } else {
                match lock.try_lock() {
                    Ok(()) => {}
                    Err(std::fs::TryLockError::WouldBlock) => {
                        deferred.lock().expect("no worker panics holding the lock").push(i);
                        continue;
                    }
                    Err(std::fs::TryLockError::Error(e)) => {
                        return Err(e).with_context(|| format!("cannot lock {}", path.display()))
                    }
                }
            }
            let dir = probe_dir(&probes_root, &dataset, &representation, &configs[i].uid());
            if dir.join("metrics.json").is_file() {
                // Finished by the worker that held the lock before us.
                let _ = std::fs::remove_file(&path);
                report(i, Ok(GridOutcome::saved(configs[i].uid(), dir)?));
                continue;
            }
            members.push(i);
            locks.push(lock);
        }
        let Some(&first) = members.first() else { return Ok(()) };
        let owned;
        let data = match configs[first].seed {
            Some(seed) => &shared[&seed],
            None => {
                owned = data::load(&roots, &dataset, &representation, None)?;
                &owned
            }
        };
        let save = |i: usize, trained: train::TrainedProbe| -> Result<()> {
            let dir = train::save(&trained, &probes_root)?;
            let valid_primary = primary(&trained.valid_metrics, &dir)?;
            // Whoever locks this path next finds metrics.json first, so removing it is safe.
            let _ = std::fs::remove_file(lock_path(i));
            let (steps, flops) = (trained.steps, trained.flops);
            report(i, Ok(GridOutcome { uid: configs[i].uid(), dir, valid_primary, trained: true, steps, flops }));
            Ok(())
        };
        if let [i] = members[..] {
            let trained = train::train(&configs[i], data, &mut |_| {})?;
            return save(i, trained);
        }
        let group: Vec<ProbeConfig> = members.iter().map(|&i| configs[i].clone()).collect();
        train::group::train_group(&group, data, &threads, &mut |_, _| {}, &mut |j, trained| save(members[j], trained))
    };
    pool.scope(|s| {
        for _ in 0..workers.min(units.len()) {
            s.spawn(|_| loop {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let (unit, wait) = match units.get(next.fetch_add(1, Ordering::Relaxed)) {
                    Some(unit) => (unit.clone(), false),
                    None => match deferred.lock().expect("no worker panics holding the lock").pop() {
                        Some(i) => (vec![i], true),
                        None => break,
                    },
                };
                running.fetch_add(1, Ordering::Relaxed);
                let result = train_unit(&unit, wait);
                running.fetch_sub(1, Ordering::Relaxed);
                if let Err(e) = result {
                    let done: Vec<usize> = results.lock().expect("no worker panics").iter().map(|(i, _)| *i).collect();
                    let i = unit.iter().copied().find(|i| !done.contains(i)).unwrap_or(unit[0]);
                    report(i, Err(e.context(format!("config {}", configs[i].uid()))));
                }
            });
        }
    });
    for (i, result) in results.into_inner().expect("no worker panicked holding the lock") {
        outcomes[i] = Some(result?);
    }
    if outcomes.iter().any(Option::is_none) {
        bail!("the grid stopped before every config was trained");
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// The pending configs as units of work: those that can share batches
/// ([`train::group::group_key`]) together, every other config alone; costliest first, so that
/// the units that start last are short.
fn work_units(configs: &[ProbeConfig], pending: &[usize]) -> Vec<Vec<usize>> {
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for &i in pending {
        match train::group::group_key(&configs[i]) {
            Some(key) => {
                let unit = *by_key.entry(key).or_insert_with(|| {
                    units.push(Vec::new());
                    units.len() - 1
                });
                units[unit].push(i);
            }
            None => units.push(vec![i]),
        }
    }
    // A step costs about batch × first-layer width per config (outputs are few next to 512).
    let cost = |unit: &Vec<usize>| -> usize {
        unit.iter().map(|&i| configs[i].batch_size * configs[i].hidden_layer_sizes.first().copied().unwrap_or(16)).sum()
    };
    units.sort_by_key(|unit| std::cmp::Reverse(cost(unit)));
    units
}

/// Write each config as `<cache_root>/probes/<dataset>/<representation>/<uid>.json`, where the
/// reference's `4_grid_config.py` puts them, so cluster jobs can train them one by one with
/// `jukemir probe train`. Existing files are left alone (the uid is the content's hash). Returns
/// the paths in config order.
pub fn emit_configs(configs: &[ProbeConfig], cache_root: &Path) -> Result<Vec<PathBuf>> {
    let probes_root = cache_root.join("probes");
    let mut paths = Vec::with_capacity(configs.len());
    for cfg in configs {
        let path = probes_root.join(&cfg.dataset).join(&cfg.representation).join(format!("{}.json", cfg.uid()));
        if !path.is_file() {
            crate::atomic::write_atomic(&path, cfg.to_json().as_bytes())?;
        }
        paths.push(path);
    }
    Ok(paths)
}
