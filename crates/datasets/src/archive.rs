//! Reading the raw archives where they are, and unpacking them without ever writing outside the
//! target folder.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot open archive {}: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error("archive {} is corrupt or truncated: {reason} (delete it and download it again: `jukemir assets --delete-wrong`)", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("archive {} has a member {member:?} that would be written outside the target folder; refusing to unpack it", path.display())]
    UnsafeMember { path: PathBuf, member: String },
    #[error("archive {} has no member {member:?}", path.display())]
    MissingMember { path: PathBuf, member: String },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "not enough free space to unpack {member:?} from {}: it is {needed} bytes, {available} are free in {}; \
         free some space or point JUKEMIR_CACHE_DIR / TMPDIR at a bigger disk",
        path.display(), dest.display()
    )]
    DiskSpace { path: PathBuf, member: String, dest: PathBuf, needed: u64, available: u64 },
}

/// The relative path a member may be unpacked to, or `None` for absolute paths, `..`, drive
/// prefixes and empty names.
pub fn safe_member_path(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Unpack the regular files of a `.tar.gz` whose member names satisfy `keep` into `dest`.
/// Returns the unpacked member names in archive order.
pub fn unpack_tar_gz(archive: &Path, dest: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, ArchiveError> {
    let corrupt = |reason: String| ArchiveError::Corrupt { path: archive.to_path_buf(), reason };
    let file = File::open(archive).map_err(|source| ArchiveError::Open { path: archive.to_path_buf(), source })?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    let mut names = Vec::new();
    for entry in tar.entries().map_err(|e| corrupt(e.to_string()))? {
        let mut entry = entry.map_err(|e| corrupt(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|e| corrupt(e.to_string()))?.to_string_lossy().into_owned();
        if !keep(&name) {
            continue;
        }
        let rel = safe_member_path(&name)
            .ok_or_else(|| ArchiveError::UnsafeMember { path: archive.to_path_buf(), member: name.clone() })?;
        let target = dest.join(rel);
        let size = entry.size();
        write_member(&mut entry, &target, size).map_err(|e| failure(e, archive, &name, &target))?;
        names.push(name);
    }
    Ok(names)
}

/// Open a zip archive stored as one file or as byte-split parts (`mp3.zip.001`, `.002`, …),
/// read in place.
pub fn open_zip(parts: &[PathBuf]) -> Result<zip::ZipArchive<MultiPartReader>, ArchiveError> {
    let reader = MultiPartReader::open(parts)?;
    let label = parts.first().cloned().unwrap_or_default();
    zip::ZipArchive::new(reader).map_err(|e| ArchiveError::Corrupt { path: label, reason: e.to_string() })
}

/// Read one member of a zip archive into memory.
pub fn read_zip_member<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    archive: &Path,
    member: &str,
) -> Result<Vec<u8>, ArchiveError> {
    let mut file = zip.by_name(member).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => {
            ArchiveError::MissingMember { path: archive.to_path_buf(), member: member.to_string() }
        }
        other => ArchiveError::Corrupt { path: archive.to_path_buf(), reason: other.to_string() },
    })?;
    // The size comes from the archive's headers: only a hint, never trusted for a large reservation.
    let mut bytes = Vec::with_capacity(file.size().min(16 << 20) as usize);
    file.read_to_end(&mut bytes)
        .map_err(|e| ArchiveError::Corrupt { path: archive.to_path_buf(), reason: format!("member {member}: {e}") })?;
    Ok(bytes)
}

/// Unpack the files of a zip archive whose names satisfy `keep` into `dest`.
pub fn unpack_zip<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    archive: &Path,
    dest: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<String>, ArchiveError> {
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip
            .by_index(i)
            .map_err(|e| ArchiveError::Corrupt { path: archive.to_path_buf(), reason: e.to_string() })?;
        let name = file
            .name()
            .map_err(|e| ArchiveError::Corrupt { path: archive.to_path_buf(), reason: e.to_string() })?
            .into_owned();
        if file.is_dir() || !keep(&name) {
            continue;
        }
        let rel = safe_member_path(&name)
            .ok_or_else(|| ArchiveError::UnsafeMember { path: archive.to_path_buf(), member: name.clone() })?;
        let target = dest.join(rel);
        let size = file.size();
        write_member(&mut file, &target, size).map_err(|e| failure(e, archive, &name, &target))?;
        names.push(name);
    }
    Ok(names)
}

enum WriteFailure {
    Read(std::io::Error),
    Write(std::io::Error),
    /// The member's declared size exceeds the free space.
    Space {
        needed: u64,
        available: u64,
    },
    /// More bytes came out than the member's header declared.
    Longer {
        declared: u64,
    },
}

impl From<std::io::Error> for WriteFailure {
    fn from(error: std::io::Error) -> Self {
        WriteFailure::Write(error)
    }
}

fn failure(e: WriteFailure, archive: &Path, member: &str, target: &Path) -> ArchiveError {
    let corrupt = |reason: String| ArchiveError::Corrupt { path: archive.to_path_buf(), reason };
    match e {
        WriteFailure::Read(e) => corrupt(format!("member {member}: {e}")),
        WriteFailure::Write(source) => ArchiveError::Write { path: target.to_path_buf(), source },
        WriteFailure::Space { needed, available } => ArchiveError::DiskSpace {
            path: archive.to_path_buf(),
            member: member.to_string(),
            dest: target.parent().unwrap_or(Path::new(".")).to_path_buf(),
            needed,
            available,
        },
        WriteFailure::Longer { declared } => {
            corrupt(format!("member {member} unpacks to more than the {declared} bytes its header declares"))
        }
    }
}

/// Writes a member of `declared` bytes to `target` through a temporary (an interrupted unpack
/// leaves no truncated member behind). Its declared size must
/// fit in the free space before a byte is written (an archive of a few MB can declare terabytes,
/// and the deflate stream can deliver them), and it may not deliver more than it declared.
fn write_member(reader: &mut impl Read, target: &Path, declared: u64) -> Result<(), WriteFailure> {
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(WriteFailure::Write)?;
    // A filesystem that cannot report its free space is not a reason to refuse.
    if let Ok(available) = fs4::available_space(dir) {
        if declared > available {
            return Err(WriteFailure::Space { needed: declared, available });
        }
    }
    jukemir_fs::write_atomically(target, |file| {
        let mut buf = vec![0u8; 1 << 16];
        let mut written = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(WriteFailure::Read(e)),
            };
            written += n as u64;
            if written > declared {
                return Err(WriteFailure::Longer { declared });
            }
            std::io::Write::write_all(file, &buf[..n]).map_err(WriteFailure::Write)?;
        }
    })
}

/// `Read + Seek` over files that are consecutive byte ranges of one stream (a split archive),
/// so the parts are read in place rather than concatenated on disk.
pub struct MultiPartReader {
    parts: Vec<(File, u64)>,
    starts: Vec<u64>,
    total: u64,
    pos: u64,
}

impl MultiPartReader {
    pub fn open(paths: &[PathBuf]) -> Result<Self, ArchiveError> {
        let mut parts = Vec::new();
        let mut starts = Vec::new();
        let mut total = 0;
        for path in paths {
            let open_err = |source| ArchiveError::Open { path: path.clone(), source };
            let file = File::open(path).map_err(open_err)?;
            let len = file.metadata().map_err(open_err)?.len();
            starts.push(total);
            total += len;
            parts.push((file, len));
        }
        Ok(MultiPartReader { parts, starts, total, pos: 0 })
    }
}

impl Read for MultiPartReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.total || buf.is_empty() {
            return Ok(0);
        }
        let index = self.starts.partition_point(|&s| s <= self.pos) - 1;
        let (file, len) = &mut self.parts[index];
        let within = self.pos - self.starts[index];
        file.seek(SeekFrom::Start(within))?;
        let want = buf.len().min((*len - within) as usize);
        let n = file.read(&mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for MultiPartReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.total as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"));
        }
        self.pos = target as u64;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn member_paths_cannot_escape() {
        assert_eq!(safe_member_path("genres/blues/a.wav"), Some(PathBuf::from("genres/blues/a.wav")));
        assert_eq!(safe_member_path("./x"), Some(PathBuf::from("x")));
        assert_eq!(safe_member_path("../x"), None);
        assert_eq!(safe_member_path("a/../../x"), None);
        assert_eq!(safe_member_path("/etc/passwd"), None);
        assert_eq!(safe_member_path(""), None);
    }

    #[test]
    fn split_zip_reads_like_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut whole = Vec::new();
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut whole));
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
            zip.start_file("a/b.txt", options).unwrap();
            zip.write_all(&[7u8; 5000]).unwrap();
            zip.start_file("c.txt", options).unwrap();
            zip.write_all(b"hello").unwrap();
            zip.finish().unwrap();
        }
        let cuts = [0, 1000, 3000, whole.len()];
        let parts: Vec<PathBuf> = (0..3)
            .map(|i| {
                let p = dir.path().join(format!("x.zip.{:03}", i + 1));
                std::fs::write(&p, &whole[cuts[i]..cuts[i + 1]]).unwrap();
                p
            })
            .collect();
        let mut zip = open_zip(&parts).unwrap();
        assert_eq!(read_zip_member(&mut zip, &parts[0], "c.txt").unwrap(), b"hello");
        assert_eq!(read_zip_member(&mut zip, &parts[0], "a/b.txt").unwrap(), vec![7u8; 5000]);
        let out = dir.path().join("out");
        let names = unpack_zip(&mut zip, &parts[0], &out, |n| n.ends_with(".txt")).unwrap();
        assert_eq!(names.len(), 2);
        assert_eq!(std::fs::read(out.join("c.txt")).unwrap(), b"hello");
        assert!(matches!(read_zip_member(&mut zip, &parts[0], "nope"), Err(ArchiveError::MissingMember { .. })));
    }

    #[test]
    fn a_member_delivering_more_than_declared_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.wav");
        let err = write_member(&mut &[1u8; 100][..], &target, 99).err().unwrap();
        let err = failure(err, Path::new("a.zip"), "x.wav", &target);
        assert!(err.to_string().contains("more than the 99 bytes"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the temporary is gone");
    }

    #[test]
    fn tar_gz_unpacks_and_refuses_escaping_members() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.tar.gz");
        {
            let gz = flate2::write::GzEncoder::new(File::create(&good).unwrap(), flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            let mut header = tar::Header::new_gnu();
            header.set_size(3);
            header.set_cksum();
            tar.append_data(&mut header, "genres/x/y.wav", &b"abc"[..]).unwrap();
            tar.into_inner().unwrap().finish().unwrap();
        }
        let out = dir.path().join("out");
        assert_eq!(unpack_tar_gz(&good, &out, |_| true).unwrap(), ["genres/x/y.wav"]);
        assert_eq!(std::fs::read(out.join("genres/x/y.wav")).unwrap(), b"abc");

        let bytes = std::fs::read(&good).unwrap();
        let truncated = dir.path().join("truncated.tar.gz");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        let err = unpack_tar_gz(&truncated, &dir.path().join("o2"), |_| true).unwrap_err();
        assert!(err.to_string().contains("truncated.tar.gz"), "{err}");

        let evil = dir.path().join("evil.tar.gz");
        {
            let gz = flate2::write::GzEncoder::new(File::create(&evil).unwrap(), flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            let mut header = tar::Header::new_gnu();
            header.set_size(1);
            // Written raw: the builder itself refuses `..`.
            let name = b"../escape.txt";
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_cksum();
            tar.append(&header, &b"x"[..]).unwrap();
            tar.into_inner().unwrap().finish().unwrap();
        }
        let err = unpack_tar_gz(&evil, &dir.path().join("o3"), |_| true).unwrap_err();
        assert!(matches!(err, ArchiveError::UnsafeMember { .. }), "{err}");
        assert!(!dir.path().join("escape.txt").exists());

        // A few bytes that declare a petabyte: refused before anything is written.
        let bomb = dir.path().join("bomb.tar.gz");
        {
            let gz = flate2::write::GzEncoder::new(File::create(&bomb).unwrap(), flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            let mut header = tar::Header::new_gnu();
            header.set_path("genres/big.wav").unwrap();
            header.set_size(1 << 50);
            header.set_cksum();
            tar.append(&header, &b"x"[..]).unwrap();
            tar.into_inner().unwrap().finish().unwrap();
        }
        let out = dir.path().join("o4");
        let err = unpack_tar_gz(&bomb, &out, |_| true).unwrap_err();
        assert!(matches!(err, ArchiveError::DiskSpace { needed: 1_125_899_906_842_624, .. }), "{err}");
        assert!(err.to_string().contains("bomb.tar.gz") && err.to_string().contains("genres/big.wav"), "{err}");
        assert_eq!(std::fs::read_dir(out.join("genres")).unwrap().count(), 0, "nothing written");
    }
}
