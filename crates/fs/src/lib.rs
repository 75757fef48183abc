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

/// Write `path` so that it is either absent, its old contents or the complete new file: `write`
/// fills a hidden temporary (named by [`temp_prefix`]) in the same folder (which must exist),
/// which is synced to disk and only then renamed over `path`. On any error the temporary is
/// removed and `path` is untouched. The one place jukemir writes an output.
pub fn write_atomically<E: From<std::io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), E>,
) -> Result<(), E> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut tmp = tempfile::Builder::new().prefix(&temp_prefix(&name)).suffix(".tmp").tempfile_in(dir)?;
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

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

/// Replace the folder `dir` as a whole: `fill` writes the new contents into a hidden staging
/// folder beside it; its files are synced, any old `dir` is moved aside, and the staging folder is
/// renamed to `dir` (the old one is then deleted). A reader sees the old folder or the complete
/// new one; on any error `dir` is untouched and the staging folder removed.
pub fn write_dir_atomically<E: From<std::io::Error>>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let staging = tempfile::Builder::new().prefix(&temp_prefix(&name)).tempdir_in(parent)?;
    fill(staging.path())?;
    for entry in std::fs::read_dir(staging.path())? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::File::open(entry.path())?.sync_all()?;
        }
    }
    // A folder cannot be renamed over a non-empty one: move the old one aside first.
    let old = match dir.exists() {
        true => {
            let old = tempfile::Builder::new().prefix(&temp_prefix(&format!("{name}.old"))).tempdir_in(parent)?;
            std::fs::rename(dir, old.path().join(&name))?;
            Some(old)
        }
        false => None,
    };
    std::fs::rename(staging.keep(), dir)?;
    drop(old);
    Ok(())
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

    #[test]
    fn atomic_writes_replace_whole_files_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.bin");
        assert!(super::write_atomically(&path, |f| std::io::Write::write_all(f, b"x")).is_err(), "no folder");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        super::write_atomically(&path, |f| std::io::Write::write_all(f, b"first")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let failed: std::io::Result<()> = super::write_atomically(&path, |f| {
            std::io::Write::write_all(f, b"half")?;
            Err(std::io::Error::other("disk on fire"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "disk on fire");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1, "no temporary left");
    }

    #[test]
    fn folders_are_replaced_whole_or_not_at_all() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("probe");
        let fill = |files: &'static [&'static str]| {
            move |staging: &Path| -> std::io::Result<()> {
                files.iter().try_for_each(|f| std::fs::write(staging.join(f), f.as_bytes()))
            }
        };
        super::write_dir_atomically(&dir, fill(&["a", "b"])).unwrap();
        super::write_dir_atomically(&dir, fill(&["c"])).unwrap();
        let names = |d: &Path| {
            let mut n: Vec<String> =
                std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            n.sort();
            n
        };
        assert_eq!(names(&dir), ["c"]);
        let failed: std::io::Result<()> = super::write_dir_atomically(&dir, |staging| {
            std::fs::write(staging.join("d"), "d")?;
            Err(std::io::Error::other("no"))
        });
        assert!(failed.is_err());
        assert_eq!(names(&dir), ["c"]);
        assert_eq!(names(root.path()), ["probe"], "nothing left beside it");
    }
}
