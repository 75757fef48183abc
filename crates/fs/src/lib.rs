//! Crash-safe output, shared by every stage that writes files.
//!
//! Every jukemir output is written to a hidden temporary beside it and renamed into place, so an
//! output is complete or absent. A process killed mid-write leaves its temporary behind, though,
//! and a resumed run must not leave it there forever, nor delete the temporary of a live worker
//! writing to the same folder (a resubmitted array task, a second grid worker). So temporaries are
//! named with [`temp_prefix`] — `.<name>.jukemir@<host>@<pid>.` — and [`remove_stale_temporaries`]
//! removes only those made on this host by a process that no longer exists. Temporaries of other
//! hosts (on a shared filesystem) are left alone: whether their process lives cannot be known here.

use std::path::{Path, PathBuf};

const MARKER: &str = ".jukemir";

fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it on success.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let len = buf.iter().position(|&b| b == 0).unwrap_or(0);
    let name = if ok { String::from_utf8_lossy(&buf[..len]).into_owned() } else { String::new() };
    let name: String = name.chars().map(|c| if c == '@' || c == '/' { '_' } else { c }).collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

/// The prefix for a temporary that stands for `name` while it is written: hidden, and naming this
/// host and process (`tempfile::Builder::prefix` then adds random characters).
pub fn temp_prefix(name: &str) -> String {
    format!(".{name}{MARKER}@{}@{}.", host(), std::process::id())
}

/// `(host, pid)` of a temporary made with [`temp_prefix`], if `file_name` is one.
fn owner(file_name: &str) -> Option<(&str, u32)> {
    if !file_name.starts_with('.') {
        return None;
    }
    let mut parts = file_name.rsplitn(3, '@');
    let rest = parts.next()?;
    let host = parts.next()?;
    let head = parts.next()?;
    if !head.ends_with(MARKER) {
        return None;
    }
    let pid = rest.split('.').next()?.parse().ok()?;
    Some((host, pid))
}

fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks whether the process exists; nothing is sent.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Removes the temporaries in `dir` (files or folders, not recursing) that a process of this host
/// made and that no longer runs. Returns what was removed; a missing `dir` is not an error.
pub fn remove_stale_temporaries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let this_host = host();
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some((host, pid)) = name.to_str().and_then(owner) else { continue };
        if host != this_host || process_exists(pid) {
            continue;
        }
        let path = entry.path();
        let result =
            if entry.file_type()?.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        match result {
            Ok(()) => removed.push(path),
            // Another resumed worker removed it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_name_host_and_process() {
        let prefix = temp_prefix("a@b.npy");
        let name = format!("{prefix}x1y2z3.tmp");
        assert_eq!(owner(&name), Some((host().as_str(), std::process::id())));
        assert_eq!(owner(".a.npy.x1y2.tmp"), None);
        assert_eq!(owner("a.npy"), None);
    }

    #[test]
    fn only_temporaries_of_dead_processes_on_this_host_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let host = host();
        // A finished child's pid: it exists no more once waited for.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let names = [
            format!(".out.npy.jukemir@{host}@{dead}.abc.tmp"),
            format!(".out.npy.jukemir@{host}@{}.abc.tmp", std::process::id()),
            format!(".out.npy.jukemir@elsewhere@{dead}.abc.tmp"),
            ".out.npy.abc.tmp".to_string(),
            "out.npy".to_string(),
        ];
        for name in &names {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let stale_dir = dir.path().join(format!(".0123.jukemir@{host}@{dead}.qq"));
        std::fs::create_dir(&stale_dir).unwrap();
        std::fs::write(stale_dir.join("cfg.json"), b"{}").unwrap();

        let removed = remove_stale_temporaries(dir.path()).unwrap();
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(!dir.path().join(&names[0]).exists() && !stale_dir.exists());
        for kept in &names[1..] {
            assert!(dir.path().join(kept).exists(), "{kept}");
        }
        assert!(remove_stale_temporaries(&dir.path().join("missing")).unwrap().is_empty());
    }
}
