//! A loopback HTTP file server for the download tests: serves fixed bytes by URL path, honours
//! `Range: bytes=N-` as the downloader sends it to resume a `.part` (206, or 416 when nothing is
//! left), optionally slowly, and logs what was asked.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
}

/// Sends bodies `chunk` bytes at a time with `pause` after each, so a test can kill a client
/// mid-file.
#[derive(Clone, Copy)]
pub struct Pace {
    pub chunk: usize,
    pub pause: Duration,
}

pub struct FileServer {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FileServer {
    /// Serves `files` (URL path such as `/genres.tar.gz` → bytes) until the test process ends.
    pub fn start(files: BTreeMap<String, Vec<u8>>, pace: Option<Pace>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (files, log) = (Arc::new(files), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (files, log) = (files.clone(), log.clone());
                // A killed client breaks the connection mid-body: that write error ends the thread.
                std::thread::spawn(move || serve(stream, &files, &log, pace));
            }
        });
        FileServer { base, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    files: &BTreeMap<String, Vec<u8>>,
    log: &Mutex<Vec<Seen>>,
    pace: Option<Pace>,
) -> std::io::Result<()> {
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
    log.lock().unwrap().push(Seen { path: path.clone(), range: range.clone() });
    let mut out = stream;
    let Some(bytes) = files.get(&path) else {
        return out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    };
    let len = bytes.len();
    let start = range.as_deref().map(|r| {
        r.strip_prefix("bytes=").and_then(|r| r.strip_suffix('-')).and_then(|s| s.parse::<usize>().ok()).unwrap()
    });
    let (status, extra, body) = match start {
        Some(start) if start >= len => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            );
            return out.write_all(head.as_bytes());
        }
        Some(start) => {
            ("206 Partial Content", format!("Content-Range: bytes {start}-{}/{len}\r\n", len - 1), &bytes[start..])
        }
        None => ("200 OK", String::new(), &bytes[..]),
    };
    let head = format!("HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    out.write_all(head.as_bytes())?;
    match pace {
        None => out.write_all(body),
        Some(Pace { chunk, pause }) => {
            for piece in body.chunks(chunk) {
                out.write_all(piece)?;
                out.flush()?;
                std::thread::sleep(pause);
            }
            Ok(())
        }
    }
}
