//! Fetching assets over real HTTP from a small server on 127.0.0.1 inside the test: good files,
//! wrong ones, connections cut mid-file, 404s, redirects, flaky 503s and parallel fetches.
//! Nothing here touches the network.

use jukemir_datasets::assets::{
    fetch, fetch_all, part_path, Algorithm, Asset, AssetError, DownloadOptions, Downloader, FetchProgress, Fetched,
    Outcome,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does for one path.
#[derive(Clone)]
enum Route {
    /// Serves the bytes, honouring `Range: bytes=N-` with 206.
    File(Vec<u8>),
    /// Like `File`, but the first request is cut off after this many body bytes.
    DropOnce(Vec<u8>, usize),
    /// Like `File`, but ignores `Range` and always answers 200 with everything.
    NoRanges(Vec<u8>),
    /// The first request is cut off after this many body bytes; every later one gets 503.
    DropThenBusy(Vec<u8>, usize),
    /// Answers 503 this many times, then serves the bytes.
    Flaky(Vec<u8>, usize),
    /// Like `File`, after a pause, so parallel requests overlap.
    Slow(Vec<u8>, Duration),
    Status(u16),
    Redirect(String),
}

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    range: Option<String>,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    hits: HashMap<String, usize>,
    seen: Vec<Seen>,
    /// Requests inside a `Slow` pause right now, and the most at once: each client waits for its
    /// own response, so this counts requests truly in flight together.
    pausing: usize,
    max_pausing: usize,
}

struct Server {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start(routes: Vec<(&str, Route)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            routes: routes.into_iter().map(|(p, r)| (p.to_string(), r)).collect(),
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Server { base, state }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn seen(&self, path: &str) -> Vec<Seen> {
        self.state.lock().unwrap().seen.iter().filter(|s| s.path == path).cloned().collect()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    let (route, hit) = {
        let mut state = state.lock().unwrap();
        state.seen.push(Seen { path: path.clone(), range: range.clone() });
        let hit = *state.hits.entry(path.clone()).and_modify(|h| *h += 1).or_insert(0);
        (state.routes.get(&path).cloned(), hit)
    };
    let mut out = stream;
    match route {
        None => respond(&mut out, 404, &[], b"not found"),
        Some(Route::Status(code)) => respond(&mut out, code, &[], b"no"),
        Some(Route::Redirect(to)) => respond(&mut out, 302, &[("Location", to)], b""),
        Some(Route::DropThenBusy(bytes, cut)) if hit == 0 => send_file(&mut out, &bytes, None, Some(cut)),
        Some(Route::DropThenBusy(..)) => respond(&mut out, 503, &[], b"busy"),
        Some(Route::Flaky(_, failures)) if hit < failures => respond(&mut out, 503, &[], b"busy"),
        Some(Route::Flaky(bytes, _)) | Some(Route::File(bytes)) => send_file(&mut out, &bytes, range.as_deref(), None),
        Some(Route::Slow(bytes, pause)) => {
            {
                let mut state = state.lock().unwrap();
                state.pausing += 1;
                state.max_pausing = state.max_pausing.max(state.pausing);
            }
            std::thread::sleep(pause);
            state.lock().unwrap().pausing -= 1;
            send_file(&mut out, &bytes, range.as_deref(), None)
        }
        Some(Route::NoRanges(bytes)) => send_file(&mut out, &bytes, None, None),
        Some(Route::DropOnce(bytes, cut)) => send_file(&mut out, &bytes, range.as_deref(), (hit == 0).then_some(cut)),
    }
}

fn respond(out: &mut TcpStream, code: u16, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)
}

/// Serves `bytes` from the requested offset; with `cut`, announces the full length but closes the
/// connection after `cut` body bytes.
fn send_file(out: &mut TcpStream, bytes: &[u8], range: Option<&str>, cut: Option<usize>) -> std::io::Result<()> {
    let start = range.and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse::<usize>().ok());
    let len = bytes.len();
    let (code, headers, body) = match start {
        Some(start) if start >= len => {
            return respond(out, 416, &[("Content-Range", format!("bytes */{len}"))], b"");
        }
        Some(start) => (206, vec![("Content-Range", format!("bytes {start}-{}/{len}", len - 1))], &bytes[start..]),
        None => (200, vec![], bytes),
    };
    let mut head = format!("HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    match cut {
        Some(cut) => {
            out.write_all(&body[..cut.min(body.len())])?;
            out.flush()?;
            out.shutdown(std::net::Shutdown::Both)
        }
        None => out.write_all(body),
    }
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8).collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn asset(tag: &str, file: &str, url: Option<String>, content: &[u8]) -> Asset {
    Asset::new(tag, &format!("datasets/test/{file}"), url.as_deref(), &sha256(content)).unwrap()
}

fn quick() -> Downloader {
    Downloader::new(DownloadOptions {
        first_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        read_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        // A proxy set in the environment must not intercept requests to the loopback server.
        proxy_from_env: false,
        ..DownloadOptions::default()
    })
}

/// Sums the byte deltas like the CLI's bar does, and counts retries and finished files.
#[derive(Default)]
struct Counter {
    total: AtomicI64,
    done: AtomicI64,
    retries: AtomicU32,
    finished: AtomicU32,
}

impl FetchProgress for Counter {
    fn add_total(&self, delta: i64) {
        self.total.fetch_add(delta, Ordering::SeqCst);
    }
    fn add_done(&self, delta: i64) {
        self.done.fetch_add(delta, Ordering::SeqCst);
    }
    fn retrying(&self, _url: &str, _failure: u32, _max: u32, _wait: Duration, _reason: &str) {
        self.retries.fetch_add(1, Ordering::SeqCst);
    }
    fn finished(&self, _asset: &Asset, _result: &Result<Fetched, AssetError>) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn downloads_verifies_and_then_only_verifies() {
    let content = payload(300_000, 1);
    let server = Server::start(vec![("/good.bin", Route::File(content.clone()))]);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("GOOD", "good.bin", Some(server.url("/good.bin")), &content);
    let counter = Counter::default();

    let fetched = fetch(&asset, root.path(), false, &quick(), &counter).unwrap();
    assert_eq!(fetched.outcome, Outcome::Downloaded);
    assert_eq!(fetched.path, root.path().join("datasets/test/good.bin"));
    assert_eq!(fetched.bytes, content.len() as u64);
    assert_eq!(std::fs::read(&fetched.path).unwrap(), content);
    assert!(!part_path(&fetched.path).exists());
    assert_eq!(counter.total.load(Ordering::SeqCst), content.len() as i64);
    assert_eq!(counter.done.load(Ordering::SeqCst), content.len() as i64);

    let again = fetch(&asset, root.path(), false, &quick(), &()).unwrap();
    assert_eq!(again.outcome, Outcome::Verified);
    assert_eq!(server.seen("/good.bin").len(), 1, "a verified file is not downloaded again");
}

#[test]
fn wrong_download_never_reaches_the_final_path() {
    let served = payload(50_000, 2);
    let expected = payload(50_000, 3);
    let server = Server::start(vec![("/wrong.bin", Route::File(served))]);
    let root = tempfile::tempdir().unwrap();
    let url = server.url("/wrong.bin");
    let asset = asset("WRONG", "wrong.bin", Some(url.clone()), &expected);

    let err = fetch(&asset, root.path(), false, &quick(), &()).unwrap_err();
    assert!(matches!(err, AssetError::DownloadedWrong { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&url) && message.contains("wrong.bin") && message.contains("deleted"), "{message}");
    let path = asset.path(root.path());
    assert!(!path.exists(), "a wrong download must not land at {}", path.display());
    assert!(!part_path(&path).exists(), "the bad part is deleted");
}

#[test]
fn a_connection_cut_mid_file_is_resumed_with_a_range_request() {
    let content = payload(400_000, 4);
    let cut = 123_457;
    let server = Server::start(vec![("/drop.bin", Route::DropOnce(content.clone(), cut))]);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("DROP", "drop.bin", Some(server.url("/drop.bin")), &content);
    let counter = Counter::default();

    let fetched = fetch(&asset, root.path(), false, &quick(), &counter).unwrap();
    assert_eq!(fetched.outcome, Outcome::Downloaded);
    assert_eq!(std::fs::read(&fetched.path).unwrap(), content);
    let seen = server.seen("/drop.bin");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].range, None);
    assert_eq!(seen[1].range.as_deref(), Some(format!("bytes={cut}-").as_str()));
    assert_eq!(counter.retries.load(Ordering::SeqCst), 1);
    assert_eq!(counter.done.load(Ordering::SeqCst), content.len() as i64, "resumed bytes are not double-counted");
    assert_eq!(counter.total.load(Ordering::SeqCst), content.len() as i64);
}

#[test]
fn a_part_left_by_an_earlier_run_is_resumed() {
    let content = payload(200_000, 5);
    let server = Server::start(vec![("/partial.bin", Route::File(content.clone()))]);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("PARTIAL", "partial.bin", Some(server.url("/partial.bin")), &content);
    let path = asset.path(root.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(part_path(&path), &content[..70_000]).unwrap();

    fetch(&asset, root.path(), false, &quick(), &()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content);
    let seen = server.seen("/partial.bin");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].range.as_deref(), Some("bytes=70000-"));
}

#[test]
fn a_complete_part_from_a_killed_run_is_verified_without_downloading_again() {
    let content = payload(10_000, 6);
    let server = Server::start(vec![("/complete.bin", Route::File(content.clone()))]);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("COMPLETE", "complete.bin", Some(server.url("/complete.bin")), &content);
    let path = asset.path(root.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(part_path(&path), &content).unwrap();

    fetch(&asset, root.path(), false, &quick(), &()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert_eq!(server.seen("/complete.bin")[0].range.as_deref(), Some("bytes=10000-"), "answered 416, no body");
}

#[test]
fn a_server_without_ranges_restarts_the_part_from_zero() {
    let content = payload(100_000, 7);
    let server = Server::start(vec![("/noranges.bin", Route::NoRanges(content.clone()))]);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("NORANGES", "noranges.bin", Some(server.url("/noranges.bin")), &content);
    let path = asset.path(root.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(part_path(&path), &content[..40_000]).unwrap();
    let counter = Counter::default();

    fetch(&asset, root.path(), false, &quick(), &counter).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content, "the part was not appended to");
    assert_eq!(counter.done.load(Ordering::SeqCst), content.len() as i64);
}

#[test]
fn not_found_fails_at_once_naming_the_url() {
    let server = Server::start(vec![("/gone.bin", Route::Status(404)), ("/secret.bin", Route::Status(403))]);
    let root = tempfile::tempdir().unwrap();
    for (file, status) in [("gone.bin", 404), ("secret.bin", 403)] {
        let url = server.url(&format!("/{file}"));
        let asset = asset("GONE", file, Some(url.clone()), b"whatever");
        let err = fetch(&asset, root.path(), false, &quick(), &()).unwrap_err();
        assert!(matches!(err, AssetError::HttpStatus { status: s, .. } if s == status), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&url) && message.contains(&status.to_string()), "{message}");
        assert_eq!(server.seen(&format!("/{file}")).len(), 1, "no retry on {status}");
        assert!(!asset.path(root.path()).exists());
    }
}

#[test]
fn redirects_are_followed() {
    let content = payload(20_000, 8);
    let server = Server::start(vec![("/real.bin", Route::File(content.clone()))]);
    server.state.lock().unwrap().routes.insert("/moved.bin".into(), Route::Redirect(server.url("/real.bin")));
    let root = tempfile::tempdir().unwrap();
    let asset = asset("MOVED", "moved.bin", Some(server.url("/moved.bin")), &content);

    let fetched = fetch(&asset, root.path(), false, &quick(), &()).unwrap();
    assert_eq!(std::fs::read(fetched.path).unwrap(), content);
    assert_eq!(server.seen("/moved.bin").len(), 1);
    assert_eq!(server.seen("/real.bin").len(), 1);
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let content = payload(5_000, 9);
    let server = Server::start(vec![("/busy.bin", Route::Flaky(content.clone(), 2))]);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("BUSY", "busy.bin", Some(server.url("/busy.bin")), &content);
    let counter = Counter::default();

    fetch(&asset, root.path(), false, &quick(), &counter).unwrap();
    assert_eq!(server.seen("/busy.bin").len(), 3);
    assert_eq!(counter.retries.load(Ordering::SeqCst), 2);
}

#[test]
fn retries_are_bounded_and_the_part_is_kept_for_the_next_run() {
    let content = payload(80_000, 13);
    let server = Server::start(vec![("/down.bin", Route::DropThenBusy(content.clone(), 30_000))]);
    let root = tempfile::tempdir().unwrap();
    let url = server.url("/down.bin");
    let asset = asset("DOWN", "down.bin", Some(url.clone()), &content);
    let downloader = Downloader::new(DownloadOptions { max_failures: 3, ..quick().options().clone() });
    let counter = Counter::default();

    let err = fetch(&asset, root.path(), false, &downloader, &counter).unwrap_err();
    assert!(matches!(err, AssetError::Network { failures: 4, kept: 30_000, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&url) && message.contains("resume"), "{message}");
    assert_eq!(server.seen("/down.bin").len(), 4, "the cut attempt is failure 1; the fourth in a row ends it");
    let path = asset.path(root.path());
    assert!(!path.exists());
    assert_eq!(std::fs::read(part_path(&path)).unwrap(), &content[..30_000]);
    assert_eq!(counter.total.load(Ordering::SeqCst), 30_000, "bytes that never came leave the total");

    // The server recovers; the next run resumes from the kept part.
    server.state.lock().unwrap().routes.insert("/down.bin".into(), Route::File(content.clone()));
    fetch(&asset, root.path(), false, &quick(), &()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert_eq!(server.seen("/down.bin").last().unwrap().range.as_deref(), Some("bytes=30000-"));
}

#[test]
fn a_host_that_keeps_failing_is_skipped_after_a_few_files() {
    // A port that was just free: connections are refused.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let root = tempfile::tempdir().unwrap();
    let assets: Vec<Asset> = (0..4)
        .map(|i| asset(&format!("DEAD{i}"), &format!("dead{i}.bin"), Some(format!("http://{dead}/{i}")), b"x"))
        .collect();
    let refs: Vec<&Asset> = assets.iter().collect();
    let downloader =
        Downloader::new(DownloadOptions { max_failures: 1, host_failure_limit: 2, ..quick().options().clone() });

    let results = fetch_all(&refs, root.path(), false, 1, &downloader, &());
    let errors: Vec<&AssetError> = results.iter().map(|(_, r)| r.as_ref().unwrap_err()).collect();
    assert!(matches!(errors[0], AssetError::Network { .. }), "{:?}", errors[0]);
    assert!(matches!(errors[1], AssetError::Network { .. }), "{:?}", errors[1]);
    assert!(matches!(errors[2], AssetError::HostDown { .. }), "{:?}", errors[2]);
    assert!(matches!(errors[3], AssetError::HostDown { .. }), "{:?}", errors[3]);
}

#[test]
fn a_wrong_file_in_place_is_an_error_unless_delete_wrong() {
    let content = payload(30_000, 10);
    let server = Server::start(vec![("/fix.bin", Route::File(content.clone()))]);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("FIX", "fix.bin", Some(server.url("/fix.bin")), &content);
    let path = asset.path(root.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"corrupted").unwrap();

    let err = fetch(&asset, root.path(), false, &quick(), &()).unwrap_err();
    assert!(matches!(err, AssetError::WrongChecksum { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("--delete-wrong") && message.contains("fix.bin"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), b"corrupted", "left alone without --delete-wrong");
    assert!(server.seen("/fix.bin").is_empty());

    let fetched = fetch(&asset, root.path(), true, &quick(), &()).unwrap();
    assert_eq!(fetched.outcome, Outcome::Replaced);
    assert_eq!(std::fs::read(&path).unwrap(), content);
}

#[test]
fn delete_wrong_keeps_a_good_file() {
    let content = payload(1_000, 11);
    let root = tempfile::tempdir().unwrap();
    let asset = asset("KEEP", "keep.bin", None, &content);
    let path = asset.path(root.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &content).unwrap();
    let fetched = fetch(&asset, root.path(), true, &quick(), &()).unwrap();
    assert_eq!(fetched.outcome, Outcome::Verified);
    assert!(path.exists());
}

#[test]
fn an_asset_without_url_asks_to_be_placed_by_hand() {
    let root = tempfile::tempdir().unwrap();
    let asset = asset("MANUAL", "manual.bin", None, b"anything");
    let err = fetch(&asset, root.path(), false, &quick(), &()).unwrap_err();
    let message = err.to_string();
    let path = root.path().join("datasets/test/manual.bin");
    assert!(message.contains("missing and cannot be downloaded"), "{message}");
    assert!(message.contains(&format!("place it at {}", path.display())), "{message}");

    // With --delete-wrong, a wrong file is deleted first; the error then says so.
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"wrong").unwrap();
    let err = fetch(&asset, root.path(), true, &quick(), &()).unwrap_err();
    assert!(matches!(&err, AssetError::ReplaceFailed { error, .. } if matches!(**error, AssetError::NoUrl { .. })));
    assert!(err.to_string().starts_with("deleted "), "{err}");
    assert!(!path.exists());
}

#[test]
fn many_assets_download_in_parallel() {
    let files: Vec<(String, Vec<u8>)> =
        (0..8).map(|i| (format!("/clip{i}.mp3"), payload(20_000 + i * 1000, i as u8))).collect();
    let routes = files.iter().map(|(p, c)| (p.as_str(), Route::Slow(c.clone(), Duration::from_millis(150)))).collect();
    let server = Server::start(routes);
    let root = tempfile::tempdir().unwrap();
    let mut assets: Vec<Asset> = files
        .iter()
        .enumerate()
        .map(|(i, (p, c))| asset(&format!("CLIP_{i}"), &p[1..], Some(server.url(p)), c))
        .collect();
    assets.push(asset("CLIP_MISSING", "missing.mp3", Some(server.url("/missing.mp3")), b"?"));
    let refs: Vec<&Asset> = assets.iter().collect();
    let counter = Counter::default();

    let results = fetch_all(&refs, root.path(), false, 4, &quick(), &counter);
    assert_eq!(results.len(), 9);
    assert_eq!(counter.finished.load(Ordering::SeqCst), 9);
    for ((asset, result), (_, content)) in results.iter().zip(&files) {
        let fetched = result.as_ref().unwrap_or_else(|e| panic!("{}: {e}", asset.tag));
        assert_eq!(fetched.outcome, Outcome::Downloaded);
        assert_eq!(&std::fs::read(&fetched.path).unwrap(), content);
    }
    assert!(
        matches!(results[8].1, Err(AssetError::HttpStatus { status: 404, .. })),
        "one failure does not stop the rest"
    );
    let overlap = server.state.lock().unwrap().max_pausing;
    assert!((2..=4).contains(&overlap), "expected up to 4 downloads at once, saw {overlap}");
    let bytes: usize = files.iter().map(|(_, c)| c.len()).sum();
    assert_eq!(counter.done.load(Ordering::SeqCst), bytes as i64);
}

#[test]
fn md5_sha1_and_sha256_checksums_are_all_verified() {
    let content = payload(70_000, 12);
    let server = Server::start(vec![("/h.bin", Route::File(content.clone()))]);
    let root = tempfile::tempdir().unwrap();
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let digests = [hex(&md5::Md5::digest(&content)), hex(&sha1::Sha1::digest(&content)), sha256(&content)];
    for (digest, algorithm) in digests.iter().zip([Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256]) {
        let tag = algorithm.name().to_uppercase();
        let asset = Asset::new(&tag, &format!("{tag}.bin"), Some(&server.url("/h.bin")), digest).unwrap();
        assert_eq!(asset.checksum.algorithm(), algorithm);
        assert_eq!(fetch(&asset, root.path(), false, &quick(), &()).unwrap().outcome, Outcome::Downloaded);
        // One flipped digit must fail, in every algorithm.
        let mut wrong = digest.clone();
        wrong.replace_range(0..1, if digest.starts_with('0') { "1" } else { "0" });
        let asset = Asset::new(&tag, &format!("{tag}.wrong"), Some(&server.url("/h.bin")), &wrong).unwrap();
        let err = fetch(&asset, root.path(), false, &quick(), &()).unwrap_err();
        assert!(matches!(err, AssetError::DownloadedWrong { algorithm: a, .. } if a == algorithm), "{err:?}");
    }
}

/// Jukebox's checkpoints have no published checksum: a download is verified by structure. The
/// tiny fixture model (right format, wrong shapes) and a truncated file are both refused, and
/// neither reaches the final path.
#[test]
fn structure_checked_downloads_refuse_the_wrong_model_and_truncated_files() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/jukebox/prior_tiny.pth.tar");
    let tiny = std::fs::read(fixture).unwrap();
    let truncated = tiny[..tiny.len() / 2].to_vec();
    let server = Server::start(vec![
        ("/tiny/prior_level_2.pth.tar", Route::File(tiny.clone())),
        ("/cut/prior_level_2.pth.tar", Route::File(truncated)),
    ]);
    for (route, why) in [("/tiny/prior_level_2.pth.tar", "4800"), ("/cut/prior_level_2.pth.tar", "not a complete")] {
        let root = tempfile::tempdir().unwrap();
        let asset = Asset::new(
            "JUKEBOX_5B_PRIOR",
            "weights/jukebox/5b/prior_level_2.pth.tar",
            Some(&server.url(route)),
            "structure:jukebox-5b-prior",
        )
        .unwrap();
        let err = fetch(&asset, root.path(), false, &quick(), &()).unwrap_err();
        assert!(matches!(err, AssetError::DownloadedWrong { .. }), "{err:?}");
        assert!(err.to_string().contains(why) && err.to_string().contains("structure"), "{err}");
        assert!(!asset.path(root.path()).exists() && !part_path(&asset.path(root.path())).exists());
    }
    // Placed by hand: reported as wrong, naming the file and the problem.
    let root = tempfile::tempdir().unwrap();
    let asset =
        Asset::new("JUKEBOX_5B_PRIOR", "weights/jukebox/5b/prior_level_2.pth.tar", None, "structure:jukebox-5b-prior")
            .unwrap();
    std::fs::create_dir_all(asset.path(root.path()).parent().unwrap()).unwrap();
    std::fs::write(asset.path(root.path()), &tiny).unwrap();
    let err = fetch(&asset, root.path(), false, &quick(), &()).unwrap_err();
    assert!(matches!(err, AssetError::WrongChecksum { .. }), "{err:?}");
    assert!(err.to_string().contains("prior_level_2.pth.tar") && err.to_string().contains("shape"), "{err}");
}
