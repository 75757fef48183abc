//! Downloads one file over HTTP(S): resumable, retried, and verified before it lands at its path.
//!
//! Bytes stream into `<path>.part`. A `.part` left by an earlier attempt or run is resumed with a
//! `Range` request; a server that answers 200 instead of 206 sends the whole file, so the part is
//! restarted. Only a part whose checksum matches is renamed into place, so a wrong or truncated
//! download never sits at the final path.

use super::error::AssetError;
use super::progress::FetchProgress;
use super::registry::Checksum;
use super::verify::check_file;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Transient failures tolerated in a row before giving up on a file (an attempt that stored
    /// new bytes resets the count, so a long download over a flaky link still finishes).
    pub max_failures: u32,
    /// Wait after the first failure; doubles after each further one, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// Longest silence while waiting for any byte (headers or body).
    pub read_timeout: Duration,
    /// After this many files in a row from one host fail with network errors, the host's
    /// remaining files are skipped instead of each waiting out its own retries (0: never skip).
    pub host_failure_limit: u32,
    /// Honour `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (tests on loopback turn it off).
    pub proxy_from_env: bool,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            max_failures: 5,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            host_failure_limit: 3,
            proxy_from_env: true,
        }
    }
}

/// One HTTP agent (connection pool) shared by every download; safe to use from many threads.
pub struct Downloader {
    agent: ureq::Agent,
    options: DownloadOptions,
    failing_hosts: Mutex<HashMap<String, u32>>,
}

/// The `.part` file a download of `dest` streams into.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = OsString::from(dest.as_os_str());
    name.push(".part");
    PathBuf::from(name)
}

/// Why an attempt stopped: worth another try, or not.
enum Failure {
    Retry(String),
    Fatal(AssetError),
}

impl Downloader {
    pub fn new(options: DownloadOptions) -> Downloader {
        let agent = ureq::Agent::config_builder()
            // Statuses are classified below: 404 is final, 503 is worth another try.
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .max_redirects(10)
            .proxy(if options.proxy_from_env { ureq::Proxy::try_from_env() } else { None })
            // Archives must arrive byte for byte as their checksums expect.
            .accept_encoding("identity")
            .user_agent(concat!("jukemir/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Downloader { agent, options, failing_hosts: Mutex::new(HashMap::new()) }
    }

    pub fn options(&self) -> &DownloadOptions {
        &self.options
    }

    /// Downloads `url` to `dest`, checking `checksum` before `dest` appears. Returns the file size.
    pub fn download(
        &self,
        url: &str,
        dest: &Path,
        checksum: &Checksum,
        progress: &dyn FetchProgress,
    ) -> Result<u64, AssetError> {
        let host = host_of(url);
        let limit = self.options.host_failure_limit;
        let failures_so_far = self.failing_hosts.lock().unwrap().get(&host).copied().unwrap_or(0);
        if limit > 0 && failures_so_far >= limit {
            return Err(AssetError::HostDown { url: url.into(), host, failures: failures_so_far, path: dest.into() });
        }
        let result = self.download_unchecked_host(url, dest, checksum, progress);
        let mut hosts = self.failing_hosts.lock().unwrap();
        match &result {
            Err(error) if error.is_network() => *hosts.entry(host).or_insert(0) += 1,
            _ => {
                hosts.remove(&host);
            }
        }
        result
    }

    fn download_unchecked_host(
        &self,
        url: &str,
        dest: &Path,
        checksum: &Checksum,
        progress: &dyn FetchProgress,
    ) -> Result<u64, AssetError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| AssetError::io("create the folder", dir, e))?;
        let part = part_path(dest);
        let mut tally = Tally::new(progress);
        let result = self.fetch_part(url, &part, &mut tally);
        // Whatever happened, bytes that will never come leave the shared total.
        tally.set_total(tally.done);
        result?;

        if let Some(actual) = check_file(&part, checksum).map_err(|e| AssetError::io("read", &part, e))? {
            fs::remove_file(&part).map_err(|e| AssetError::io("delete the bad download", &part, e))?;
            return Err(AssetError::DownloadedWrong {
                url: url.into(),
                path: dest.into(),
                algorithm: checksum.algorithm(),
                expected: checksum.hex().into(),
                actual,
            });
        }
        fs::rename(&part, dest).map_err(|e| AssetError::io("move the verified download into place at", dest, e))?;
        Ok(tally.done)
    }

    /// Attempts until the part holds the whole body, backing off between transient failures.
    fn fetch_part(&self, url: &str, part: &Path, tally: &mut Tally) -> Result<(), AssetError> {
        let max = self.options.max_failures;
        let mut failures = 0;
        loop {
            let before = file_len(part);
            let reason = match self.attempt(url, part, tally) {
                Ok(()) => return Ok(()),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry(reason)) => reason,
            };
            failures = if file_len(part) > before { 1 } else { failures + 1 };
            if failures > max {
                return Err(AssetError::Network {
                    url: url.into(),
                    failures,
                    reason,
                    part: part.into(),
                    kept: file_len(part),
                });
            }
            let wait = self.backoff(failures);
            tally.progress.retrying(url, failures, max, wait, &reason);
            std::thread::sleep(wait);
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << (failures.saturating_sub(1)).min(16);
        self.options.first_backoff.saturating_mul(factor).min(self.options.max_backoff)
    }

    /// One request: resume from the part's length if there is one, and stream the body into it.
    fn attempt(&self, url: &str, part: &Path, tally: &mut Tally) -> Result<(), Failure> {
        let offset = file_len(part);
        tally.set_done(offset);
        let mut request = self.agent.get(url);
        if offset > 0 {
            request = request.header("Range", format!("bytes={offset}-"));
        }
        let response = request.call().map_err(|e| classify(url, e))?;
        let status = response.status().as_u16();
        let content_range = response.headers().get("content-range").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body_len = response.body().content_length();

        let (append, total) = match status {
            200 => (false, body_len),
            206 => match content_range.as_deref().and_then(parse_content_range) {
                Some((Some(start), total)) if start == offset => (true, total.or(body_len.map(|n| n + offset))),
                _ => {
                    restart(part, tally)?;
                    return Err(Failure::Retry(format!(
                        "the server resumed at the wrong place (Content-Range {content_range:?}, wanted byte {offset})"
                    )));
                }
            },
            416 if offset > 0 => {
                // The part may already hold the whole file (a run killed just before verifying).
                if let Some((None, Some(total))) = content_range.as_deref().and_then(parse_content_range) {
                    if total == offset {
                        tally.set_total(total);
                        return Ok(());
                    }
                }
                restart(part, tally)?;
                return Err(Failure::Retry(format!("the server refused to resume at byte {offset}")));
            }
            408 | 429 | 500..=599 => return Err(Failure::Retry(format!("HTTP {status}"))),
            _ => {
                return Err(Failure::Fatal(AssetError::HttpStatus { url: url.into(), status, path: final_path(part) }))
            }
        };
        if let Some(total) = total {
            tally.set_total(total);
        }
        if let Some(needed) = body_len {
            ensure_space(part, needed).map_err(Failure::Fatal)?;
        }

        let file = if append {
            OpenOptions::new().append(true).open(part)
        } else {
            tally.set_done(0);
            File::create(part)
        };
        let mut file = file.map_err(|e| Failure::Fatal(AssetError::io("write", part, e)))?;
        let mut reader = response.into_body().into_reader();
        let received = copy_counted(&mut reader, &mut file, part, tally)?;
        if let Some(expected) = body_len {
            if received < expected {
                return Err(Failure::Retry(format!("the connection closed after {received} of {expected} bytes")));
            }
        }
        Ok(())
    }
}

/// Streams the body into the part, counting bytes; read errors are transient, write errors are not.
fn copy_counted(reader: &mut impl Read, file: &mut File, part: &Path, tally: &mut Tally) -> Result<u64, Failure> {
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Keep what arrived: the next attempt resumes from it.
                file.flush().map_err(|e| Failure::Fatal(AssetError::io("write", part, e)))?;
                return Err(Failure::Retry(format!("the connection broke after {received} bytes: {e}")));
            }
        };
        file.write_all(&buf[..n]).map_err(|e| Failure::Fatal(AssetError::io("write", part, e)))?;
        received += n as u64;
        tally.add_done(n as u64);
    }
    file.flush().map_err(|e| Failure::Fatal(AssetError::io("write", part, e)))?;
    Ok(received)
}

fn restart(part: &Path, tally: &mut Tally) -> Result<(), Failure> {
    match fs::remove_file(part) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Failure::Fatal(AssetError::io("delete", part, e))),
    }
    tally.set_done(0);
    Ok(())
}

fn classify(url: &str, error: ureq::Error) -> Failure {
    match error {
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => {
            Failure::Retry(error.to_string())
        }
        ureq::Error::HostNotFound => Failure::Fatal(AssetError::Unreachable {
            url: url.into(),
            reason: "the host name does not resolve (offline, or the host is gone)".into(),
        }),
        other => Failure::Fatal(AssetError::Unreachable { url: url.into(), reason: other.to_string() }),
    }
}

fn ensure_space(part: &Path, needed: u64) -> Result<(), AssetError> {
    let dir = part.parent().unwrap_or(Path::new("."));
    // A filesystem that cannot report its free space is not a reason to refuse a download.
    let Ok(available) = fs4::available_space(dir) else { return Ok(()) };
    if available < needed {
        return Err(AssetError::DiskSpace { path: final_path(part), needed, available });
    }
    Ok(())
}

/// `bytes START-END/TOTAL`, `bytes START-END/*` or `bytes */TOTAL` → (start, total).
fn parse_content_range(value: &str) -> Option<(Option<u64>, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    let start = match range.trim() {
        "*" => None,
        r => Some(r.split_once('-')?.0.trim().parse().ok()?),
    };
    Some((start, total))
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn final_path(part: &Path) -> PathBuf {
    part.with_extension("")
}

/// `scheme://host[:port]` of a URL; the whole URL if it has no recognisable host.
fn host_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.split(['/', '?', '#']).next().unwrap_or(after_scheme).to_ascii_lowercase()
}

/// This file's share of the shared progress counters, reported as deltas.
struct Tally<'a> {
    progress: &'a dyn FetchProgress,
    total: u64,
    done: u64,
}

impl<'a> Tally<'a> {
    fn new(progress: &'a dyn FetchProgress) -> Self {
        Tally { progress, total: 0, done: 0 }
    }

    fn set_total(&mut self, total: u64) {
        if total != self.total {
            self.progress.add_total(total as i64 - self.total as i64);
            self.total = total;
        }
    }

    fn set_done(&mut self, done: u64) {
        if done != self.done {
            self.progress.add_done(done as i64 - self.done as i64);
            self.done = done;
        }
    }

    fn add_done(&mut self, n: u64) {
        self.set_done(self.done + n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        assert_eq!(parse_content_range("bytes 100-999/1000"), Some((Some(100), Some(1000))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((Some(5), None)));
        assert_eq!(parse_content_range("bytes */1000"), Some((None, Some(1000))));
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }

    #[test]
    fn hosts_and_parts() {
        assert_eq!(host_of("http://Mi.soi.city.ac.uk/datasets/x.csv"), "mi.soi.city.ac.uk");
        assert_eq!(host_of("http://127.0.0.1:8080/a?b"), "127.0.0.1:8080");
        let dest = Path::new("/c/datasets/magnatagatune/mp3.zip.001");
        assert_eq!(part_path(dest), Path::new("/c/datasets/magnatagatune/mp3.zip.001.part"));
        assert_eq!(final_path(&part_path(dest)), dest);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let d = Downloader::new(DownloadOptions::default());
        let waits: Vec<u64> = (1..=7).map(|k| d.backoff(k).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn refuses_a_download_bigger_than_the_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("huge.tar.gz.part");
        assert!(ensure_space(&part, 1).is_ok());
        let err = ensure_space(&part, u64::MAX).unwrap_err().to_string();
        assert!(err.contains("not enough free space") && err.contains("huge.tar.gz"), "{err}");
    }
}
