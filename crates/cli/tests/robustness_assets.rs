//! Killed runs lose nothing, as `robustness.rs` checks for `extract` and `probe grid`: `jukemir
//! assets` (downloads from a throttled HTTP server on 127.0.0.1) and `jukemir datasets process` are
//! SIGKILLed at several points and restarted, and must end exactly as an uninterrupted run ends,
//! with no partial downloads or hidden temporaries left behind.

mod common;

use common::http::{FileServer, Pace, Seen};
use common::{hidden_entries, jukemir, kill_after, run, sha256_hex};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// SIGKILLs `child` as soon as `ready` holds; the run must still be going then (else the kill would
/// interrupt nothing).
fn kill_when(mut child: Child, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before {what}");
        }
        if ready() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not happen within a minute");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Every regular file under `root`, by `/`-separated relative path, with its bytes; folders are
/// walked, and hidden entries are included like any other.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{rel}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.insert(name, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, "", &mut out);
    out
}

/// Entries under `root` (at any depth) that are hidden or are partial downloads.
fn leftovers(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with(".part") {
                out.push(entry.path().display().to_string());
            }
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// Every file of `reference` exists in `other` with the same bytes, and nothing else does.
fn same_tree(reference: &Path, other: &Path) {
    let (want, got) = (tree(reference), tree(other));
    assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>());
    for (name, bytes) in &want {
        assert!(got[name] == *bytes, "{name} differs");
    }
}

// ---------------------------------------------------------------------------------------------
// `jukemir assets`: downloads killed mid-transfer.

/// Bytes that differ at every offset and between files, so a misplaced or repeated range shows.
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// The served files: (tag, file name, bytes); 3.5 MB, about 3 s at two downloads at once.
fn served_assets() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("ROBUST_A", "a.bin", payload(250_000, 1)),
        ("ROBUST_B", "b.tar.gz", payload(700_000, 2)),
        ("ROBUST_C", "c.zip", payload(1_100_000, 3)),
        ("ROBUST_D", "d.mp3", payload(1_500_000, 4)),
    ]
}

/// `.part` files under `dir` and their lengths, by the final file's name.
fn parts(dir: &Path) -> BTreeMap<String, u64> {
    let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".part")?.to_string();
            Some((stem, e.metadata().unwrap().len()))
        })
        .collect()
}

#[test]
fn killed_asset_downloads_resume_to_the_served_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let served = served_assets();
    // Slowly (8 KiB, then 10 ms), so that the kills land mid-file.
    let pace = Pace { chunk: 8 * 1024, pause: Duration::from_millis(10) };
    let files = served.iter().map(|(_, name, bytes)| (format!("/files/{name}"), bytes.clone())).collect();
    let server = FileServer::start(files, Some(pace));
    let mut registry: serde_json::Map<String, serde_json::Value> = served
        .iter()
        .map(|(tag, name, bytes)| {
            let asset = serde_json::json!({
                "path_rel": format!("datasets/robust/{name}"),
                "url": format!("{}/files/{name}", server.base),
                "checksum": sha256_hex(bytes),
            });
            (tag.to_string(), asset)
        })
        .collect();
    // Not selected by the prefix: were it fetched, its 404 would fail the run.
    registry.insert(
        "OTHER_X".into(),
        serde_json::json!({"path_rel": "datasets/other/x.bin", "url": format!("{}/nowhere", server.base),
                           "checksum": sha256_hex(b"x")}),
    );
    let registry_path = tmp.path().join("registry.json");
    std::fs::write(&registry_path, serde_json::Value::Object(registry).to_string()).unwrap();
    let assets = |cache: &Path, extra: &[&str]| {
        let mut cmd = jukemir();
        cmd.args(["assets", "robust", "-j", "2", "--cache-dir", cache.to_str().unwrap()])
            .args(extra)
            .env("JUKEMIR_REGISTRY", &registry_path);
        cmd
    };

    // Uninterrupted.
    let reference = tmp.path().join("reference");
    let started = Instant::now();
    let out = run(&mut assets(&reference, &[]));
    let uninterrupted = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0 ok, 4 downloaded, 0 replaced (had a wrong checksum), 0 failed"), "{text}");
    let want: BTreeMap<String, Vec<u8>> =
        served.iter().map(|(_, name, bytes)| (format!("datasets/robust/{name}"), bytes.clone())).collect();
    assert!(tree(&reference) == want, "the uninterrupted run did not store exactly the served files");
    assert!(server.seen().iter().all(|s| s.range.is_none()), "nothing to resume: {:?}", server.seen());
    eprintln!("uninterrupted download: {uninterrupted:.2?}");

    // Killed three times, restarted each time: after 0.3 s, after 0.8 s, and mid-file (once a
    // download of this run has stored 150 KB more than it resumed from, and 200 KB before its end).
    let cache = tmp.path().join("killed");
    let dir = cache.join("datasets/robust");
    let file = |name: &str| &served.iter().find(|(_, n, _)| *n == name).unwrap().2;
    let tag = |name: &str| served.iter().find(|(_, n, _)| *n == name).unwrap().0;
    // Parts a kill left, and where the server's log stood then: the next run must resume them.
    let mut to_resume: (usize, BTreeMap<String, u64>) = (server.seen().len(), BTreeMap::new());
    let mut resumed = 0;
    let resumes = |(from, left): &(usize, BTreeMap<String, u64>)| {
        let seen = server.seen();
        for (name, len) in left.iter().filter(|(_, &len)| len > 0) {
            let want = Seen { path: format!("/files/{name}"), range: Some(format!("bytes={len}-")) };
            assert!(seen[*from..].contains(&want), "{name}.part ({len} bytes) was not resumed: {:?}", &seen[*from..]);
        }
        left.values().filter(|&&len| len > 0).count()
    };
    for k in 0..3 {
        let before = parts(&dir);
        let child = assets(&cache, &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        match k {
            // At 0.3 s and 0.8 s (or later, on a loaded machine, once a byte has arrived).
            0 | 1 => kill_when(child, "a first byte", || {
                started.elapsed() >= Duration::from_millis([300, 800][k]) && parts(&dir).values().any(|&n| n > 0)
            }),
            _ => kill_when(child, "a download grew by 150 KB", || {
                parts(&dir).iter().any(|(name, &len)| {
                    len >= before.get(name).copied().unwrap_or(0) + 150_000 && len + 200_000 <= file(name).len() as u64
                })
            }),
        }
        resumed += resumes(&to_resume);
        let left = parts(&dir);
        assert!(!left.is_empty(), "kill {k} interrupted no transfer");
        // `--list` reports them as partial; each holds a prefix of the file, nothing else.
        let list = String::from_utf8_lossy(&run(&mut assets(&cache, &["--list"])).stdout).into_owned();
        for (name, len) in &left {
            let line = list.lines().find(|l| l.starts_with(tag(name))).unwrap_or_else(|| panic!("{list}"));
            assert!(line.contains("partial"), "{line}");
            let part = std::fs::read(dir.join(format!("{name}.part"))).unwrap();
            assert_eq!(part.len() as u64, *len);
            // (A whole part is possible: killed while verifying it. The next run asks from its end.)
            assert!(file(name).starts_with(&part), "{name}.part is not a prefix of the served file");
            assert!(!dir.join(name).exists(), "{name} and its part at once");
        }
        to_resume = (server.seen().len(), left);
    }
    let out = run(&mut assets(&cache, &[]));
    resumed += resumes(&to_resume);
    assert!(resumed > 0, "no kill left a part holding bytes, so no resume was exercised");
    eprintln!("{resumed} partial download(s) resumed with a Range request");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text.lines().find(|l| l.contains(" downloaded, ")).unwrap_or_else(|| panic!("{text}"));
    let numbers: Vec<usize> =
        summary.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    assert_eq!((numbers[0] + numbers[1], numbers[2], numbers[3]), (4, 0, 0), "{summary}");

    same_tree(&reference, &cache);
    assert!(tree(&cache) == want);
    assert!(leftovers(&cache).is_empty(), "left behind: {:?}", leftovers(&cache));

    // Once complete, a rerun only verifies: no request at all.
    let requests = server.seen().len();
    let text = String::from_utf8_lossy(&run(&mut assets(&cache, &[])).stdout).into_owned();
    assert!(text.contains("4 ok, 0 downloaded"), "{text}");
    assert_eq!(server.seen().len(), requests);
    assert!(server.seen().iter().all(|s| s.path != "/nowhere"), "an unselected asset was fetched");
}

// ---------------------------------------------------------------------------------------------
// `jukemir datasets process gtzan_ff`: conversion killed part-way.

use common::GENRES;

fn shared(rel: &str) -> PathBuf {
    let path = jukemir_test_support::test_file(rel);
    assert!(path.exists(), "{} is missing: this test needs the project's shared/ folder", path.display());
    path
}

/// A 16-bit mono PCM WAV file at 22050 Hz.
fn wav_bytes(samples: &[i16]) -> Vec<u8> {
    let data = samples.len() as u32 * 2;
    let mut bytes = b"RIFF".to_vec();
    bytes.extend((36 + data).to_le_bytes());
    bytes.extend(b"WAVEfmt ");
    bytes.extend(16u32.to_le_bytes());
    bytes.extend(1u16.to_le_bytes()); // PCM
    bytes.extend(1u16.to_le_bytes()); // mono
    bytes.extend(22050u32.to_le_bytes());
    bytes.extend((22050u32 * 2).to_le_bytes());
    bytes.extend(2u16.to_le_bytes());
    bytes.extend(16u16.to_le_bytes());
    bytes.extend(b"data");
    bytes.extend(data.to_le_bytes());
    samples.iter().for_each(|s| bytes.extend(s.to_le_bytes()));
    bytes
}

/// `genres.tar.gz` in the original layout, `genres/<genre>/<genre>.000NN.wav`: 1000 clips of
/// `seconds`, each with its own pitch, so a WAV written under the wrong uid would show.
fn gtzan_archive(seconds: f64) -> Vec<u8> {
    let frames = (seconds * 22050.0) as usize;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        for (g, genre) in GENRES.iter().enumerate() {
            for n in 0..100 {
                let step = 0.01 + (g * 100 + n) as f32 * 1e-4;
                let samples: Vec<i16> = (0..frames).map(|i| ((i as f32 * step).sin() * 12000.0) as i16).collect();
                let wav = wav_bytes(&samples);
                let mut header = tar::Header::new_gnu();
                header.set_size(wav.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(&mut header, format!("genres/{genre}/{genre}.{n:05}.wav"), &wav[..]).unwrap();
            }
        }
        tar.finish().unwrap();
    }
    gz.finish().unwrap()
}

/// The raw GTZAN files (the archive and the real split lists) by cache path, and a registry naming
/// them with their checksums and no URL, so nothing is downloaded.
fn gtzan_assets(dir: &Path, seconds: f64) -> (BTreeMap<String, Vec<u8>>, PathBuf) {
    let mut raw = vec![("GTZAN".to_string(), "datasets/gtzan/genres.tar.gz".to_string(), gtzan_archive(seconds))];
    for split in ["train", "valid", "test"] {
        let name = format!("{split}_filtered.txt");
        let bytes = std::fs::read(shared(&format!("data/annotations/gtzan/{name}"))).unwrap();
        raw.push((format!("GTZAN_{}", split.to_uppercase()), format!("datasets/gtzan/{name}"), bytes));
    }
    let registry: serde_json::Map<String, serde_json::Value> = raw
        .iter()
        .map(|(tag, path_rel, bytes)| {
            (tag.clone(), serde_json::json!({"path_rel": path_rel, "checksum": sha256_hex(bytes)}))
        })
        .collect();
    let registry_path = dir.join("gtzan-registry.json");
    std::fs::write(&registry_path, serde_json::Value::Object(registry).to_string()).unwrap();
    (raw.into_iter().map(|(_, path_rel, bytes)| (path_rel, bytes)).collect(), registry_path)
}

/// A cache holding the raw files, and an empty scratch folder to serve as its runs' `$TMPDIR`.
fn gtzan_cache(root: &Path, raw: &BTreeMap<String, Vec<u8>>) -> (PathBuf, PathBuf) {
    for (rel, bytes) in raw {
        let path = root.join("cache").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    std::fs::create_dir_all(root.join("scratch")).unwrap();
    (root.join("cache"), root.join("scratch"))
}

fn process(registry: &Path, cache: &Path, scratch: &Path) -> Command {
    let mut cmd = jukemir();
    cmd.args(["datasets", "process", "gtzan_ff", "-j", "2", "--cache-dir", cache.to_str().unwrap()])
        .env("JUKEMIR_REGISTRY", registry)
        // Where the archive is unpacked.
        .env("TMPDIR", scratch);
    cmd
}

/// The finished (non-hidden) WAVs in `dir`.
fn wavs(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wav") && !n.starts_with('.'))
        .collect()
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn killed_dataset_processing_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (raw, registry) = gtzan_assets(tmp.path(), 1.0);

    let (reference, scratch) = gtzan_cache(&tmp.path().join("reference"), &raw);
    let started = Instant::now();
    let out = run(&mut process(&registry, &reference, &scratch));
    eprintln!("uninterrupted processing: {:.2?}", started.elapsed());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gtzan_ff: 930 examples, 930 WAVs"), "{text}");
    assert_eq!(entries(&scratch), 0, "an uninterrupted run leaves its scratch folder behind");
    let processed = reference.join("processed/gtzan_ff");
    let want = tree(&processed);
    assert_eq!(want.len(), 931, "meta.json and 930 WAVs");

    // Killed three times, restarted each time: after 0.25 s, once the run
    // has written 300 WAVs, and once the next has written 250 more (it skips the finished ones).
    let (cache, scratch) = gtzan_cache(&tmp.path().join("killed"), &raw);
    let out_dir = cache.join("processed/gtzan_ff");
    let wav_dir = out_dir.join("wav");
    let mut temporaries_left = 0;
    for k in 0..3 {
        let done = wavs(&wav_dir).len();
        let child = process(&registry, &cache, &scratch)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        match k {
            0 => kill_after(child, Duration::from_millis(250)),
            1 => kill_when(child, "300 WAVs", || wavs(&wav_dir).len() >= done + 300),
            _ => kill_when(child, "250 more WAVs", || wavs(&wav_dir).len() >= done + 250),
        }
        assert!(!out_dir.join("meta.json").exists(), "kill {k}: meta.json before every WAV was written");
        // Every WAV at its final name is whole: exactly the uninterrupted run's bytes.
        for name in wavs(&wav_dir) {
            let path = wav_dir.join(&name);
            assert!(std::fs::read(&path).unwrap() == want[&format!("wav/{name}")], "kill {k}: {name} differs");
        }
        if wav_dir.is_dir() {
            temporaries_left += hidden_entries(&wav_dir).len();
        }
    }
    let unpacked_left = entries(&scratch);
    let out = run(&mut process(&registry, &cache, &scratch));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gtzan_ff: 930 examples, 930 WAVs"), "{text}");
    eprintln!(
        "the kills left {temporaries_left} WAV temporaries (all gone now) and {unpacked_left} unpacked \
         archive (removed by the next run) in $TMPDIR"
    );

    // meta.json and every WAV, byte for byte, and no other file.
    same_tree(&processed, &out_dir);
    assert!(hidden_entries(&out_dir).is_empty(), "left behind: {:?}", hidden_entries(&out_dir));
    assert!(hidden_entries(&wav_dir).is_empty(), "left behind: {:?}", hidden_entries(&wav_dir));
    // The raw assets are read, never touched.
    same_tree(&reference.join("datasets"), &cache.join("datasets"));
    // Each run removes the unpacked copy the previous killed run left, and its own when done.
    assert!(unpacked_left <= 1, "{unpacked_left} unpacked archives piled up in $TMPDIR");
    assert_eq!(entries(&scratch), 0, "unpacked archives left in $TMPDIR");
}

/// A run killed while its archive is unpacked leaves the unpacked copy in `$TMPDIR` (for the real
/// GTZAN, 1.2 GB); the next run removes it (its name says which process made it).
#[test]
fn a_killed_process_run_leaves_no_unpacked_archive_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let (raw, registry) = gtzan_assets(tmp.path(), 0.2);
    let (cache, scratch) = gtzan_cache(tmp.path(), &raw);
    let child = process(&registry, &cache, &scratch)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    kill_when(child, "a first unpacked clip", || {
        std::fs::read_dir(&scratch).unwrap().any(|e| {
            let dir = e.unwrap().path();
            dir.join("gtzan/genres/blues").is_dir()
        })
    });
    assert_eq!(entries(&scratch), 1);
    run(&mut process(&registry, &cache, &scratch));
    let left: Vec<PathBuf> = std::fs::read_dir(&scratch).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "left behind after a successful rerun: {left:?}");
}
