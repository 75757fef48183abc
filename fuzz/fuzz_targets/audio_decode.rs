//! Audio decoding (`probe`, `decode`, `load`) of arbitrary bytes written to a file whose extension
//! follows the magic number (symphonia takes it as a hint). Ogg page checksums are recomputed so
//! that mutations reach the Vorbis decoder. Corpus: `fixtures/audio/*.{wav,mp3,flac,ogg,au}`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use jukemir_audio::{decode, load, probe, LoadOptions};
use libfuzzer_sys::fuzz_target;

fn file(ext: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path().join(format!("input.{ext}"))
}

fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    crc
}

fn fix_ogg_crcs(b: &mut [u8]) {
    let mut p = 0;
    while p + 27 <= b.len() && &b[p..p + 4] == b"OggS" {
        let segs = usize::from(b[p + 26]);
        let Some(table) = b.get(p + 27..p + 27 + segs) else { return };
        let end = p + 27 + segs + table.iter().map(|&s| usize::from(s)).sum::<usize>();
        if end > b.len() {
            return;
        }
        b[p + 22..p + 26].fill(0);
        let crc = ogg_crc(&b[p..end]);
        b[p + 22..p + 26].copy_from_slice(&crc.to_le_bytes());
        p = end;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    let ext = match bytes.get(..4) {
        Some(b"RIFF") => "wav",
        Some(b"fLaC") => "flac",
        Some(b"OggS") => {
            fix_ogg_crcs(&mut bytes);
            "ogg"
        }
        Some(b".snd" | b"dns.") => "au",
        _ => "mp3",
    };
    let path = file(ext);
    std::fs::write(&path, &bytes).unwrap();
    let _ = probe(&path);
    let _ = decode(&path, 0, None);
    let _ = decode(&path, 1000, Some(4096));
    let _ = load(&path, &LoadOptions::native().span(0.05, Some(0.5)));
    let _ = load(&path, &LoadOptions::at_rate(16000).span(0.0, Some(0.25)));
});
