//! Hostile inputs for audio decoding, tested like a fuzzer: `probe`, `decode` (whole and spans) and
//! `load` on mutations of real files of every container and codec — WAV (PCM16, float,
//! extensible), MP3, FLAC, Ogg Vorbis (with page CRCs recomputed after mutation, so the damage
//! reaches the Vorbis decoder) and Sun `.au` — and on random bytes behind each format's magic.
//! Every call must return `Ok` or an error naming the file, without panicking, without a single
//! allocation above the harness's 256 MiB cap, and quickly. Inputs that once broke a decoder are
//! kept in `fixtures/hostile/audio/` and replayed by `regressions_stay_fixed`.

#[path = "hostile_harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use harness::{apply, config, mutations, names, random_bytes, replay_fixtures, run_case, Field, Seed};
use jukemir_audio::{decode, load, load_head, probe, write_wav_pcm16, Audio, LoadOptions};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio").join(name)
}

fn music(rel: &str) -> PathBuf {
    jukemir_test_support::music(rel)
}

/// The first `n` bytes of a file of the shared music folder (a long file's head decodes in
/// milliseconds), or `None` when `../shared` is absent.
fn music_prefix(rel: &str, n: usize) -> Option<Vec<u8>> {
    let mut bytes = std::fs::read(music(rel)).ok()?;
    bytes.truncate(n);
    Some(bytes)
}

fn sine(frames: usize, channels: usize, rate: u32) -> Audio {
    let samples = (0..frames * channels)
        .map(|i| ((i / channels) as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 0.5)
        .collect();
    Audio { samples, sample_rate: rate, channels }
}

/// Known fields of a RIFF/WAVE file: the RIFF size, every chunk size, and the `fmt ` fields.
fn wav_fields(b: &[u8]) -> Vec<Field> {
    let mut f = vec![Field::le(4, 4)];
    let mut p = 12;
    while p + 8 <= b.len() {
        f.push(Field::le(p + 4, 4));
        let size = u32::from_le_bytes([b[p + 4], b[p + 5], b[p + 6], b[p + 7]]) as usize;
        if &b[p..p + 4] == b"fmt " {
            let q = p + 8;
            f.extend([
                Field::le(q, 2),
                Field::le(q + 2, 2),
                Field::le(q + 4, 4),
                Field::le(q + 8, 4),
                Field::le(q + 12, 2),
                Field::le(q + 14, 2),
            ]);
            if size >= 18 {
                f.extend([Field::le(q + 16, 2), Field::le(q + 18, 2), Field::le(q + 20, 4), Field::le(q + 24, 2)]);
            }
        }
        p += 8 + size + size % 2;
    }
    f
}

/// AU: data offset, data size, encoding, sample rate, channels (big-endian words).
fn au_fields() -> Vec<Field> {
    (1..6).map(|i| Field::be(4 * i, 4)).collect()
}

/// FLAC: every metadata block length, STREAMINFO's block/frame sizes and packed rate/channels/
/// bits/total, and the first frame header's block-size/rate and channel/bits bytes.
fn flac_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut p = 4;
    while p + 4 <= b.len() {
        let (last, kind) = (b[p] & 0x80 != 0, b[p] & 0x7f);
        let len = u32::from_be_bytes([0, b[p + 1], b[p + 2], b[p + 3]]) as usize;
        f.push(Field::be(p + 1, 3));
        if kind == 0 {
            let q = p + 4;
            f.extend([Field::be(q, 2), Field::be(q + 2, 2), Field::be(q + 4, 3), Field::be(q + 7, 3)]);
            f.extend([Field::be(q + 10, 4), Field::be(q + 14, 4), Field::be(q + 10, 8)]);
        }
        p += 4 + len;
        if last {
            f.extend([Field::be(p + 2, 1), Field::be(p + 3, 1)]);
            break;
        }
    }
    f
}

/// Ogg: each page's granule position, serial, sequence number and segment count, the first
/// segment-table byte, and the Vorbis identification header's channels/rate/bitrates/blocksizes.
fn ogg_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut p = 0;
    let mut first = true;
    while p + 27 <= b.len() && &b[p..p + 4] == b"OggS" {
        let segs = usize::from(b[p + 26]);
        f.extend([Field::le(p + 6, 8), Field::le(p + 14, 4), Field::le(p + 18, 4), Field::le(p + 26, 1)]);
        f.push(Field::le(p + 27, 1));
        let body = p + 27 + segs;
        if first {
            f.extend([Field::le(body + 11, 1), Field::le(body + 12, 4), Field::le(body + 16, 4)]);
            f.extend([Field::le(body + 20, 4), Field::le(body + 24, 4), Field::le(body + 28, 1)]);
            first = false;
        }
        let Some(table) = b.get(p + 27..body) else { break };
        p = body + table.iter().map(|&s| usize::from(s)).sum::<usize>();
    }
    f
}

/// MP3: the ID3v2 size, the first frame header, and the Xing/Info frame and byte counts.
fn mp3_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut start = 0;
    if b.starts_with(b"ID3") && b.len() >= 10 {
        f.push(Field::be(6, 4));
        start = 10 + b[6..10].iter().fold(0usize, |acc, &x| (acc << 7) | usize::from(x & 0x7f));
    }
    if let Some(off) = b.get(start..).and_then(|t| t.windows(2).position(|w| w[0] == 0xff && w[1] & 0xe0 == 0xe0)) {
        f.extend([Field::be(start + off, 4), Field::be(start + off + 2, 1)]);
    }
    for tag in [&b"Xing"[..], b"Info"] {
        if let Some(x) = b.windows(4).position(|w| w == tag) {
            f.extend([Field::be(x + 4, 4), Field::be(x + 8, 4), Field::be(x + 12, 4)]);
        }
    }
    f
}

/// The seeds: real files of every format (short prefixes of the shared music), and WAVs written
/// here with `write_wav_pcm16` and hound (float).
fn seeds() -> &'static [(Seed, &'static str)] {
    static SEEDS: OnceLock<Vec<(Seed, &'static str)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let pcm16 = dir.path().join("pcm16.wav");
        write_wav_pcm16(&pcm16, &sine(2000, 2, 8000)).unwrap();
        let bytes = std::fs::read(&pcm16).unwrap();
        out.push((Seed::new("generated pcm16 stereo wav", bytes.clone()).with_fields(wav_fields(&bytes)), "wav"));
        let float = dir.path().join("float.wav");
        {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 11025,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            };
            let mut w = hound::WavWriter::create(&float, spec).unwrap();
            for x in sine(1500, 1, 11025).samples {
                w.write_sample(x).unwrap();
            }
            w.finalize().unwrap();
        }
        let bytes = std::fs::read(&float).unwrap();
        out.push((Seed::new("generated float32 wav", bytes.clone()).with_fields(wav_fields(&bytes)), "wav"));
        for (name, ext) in [
            ("wavex_pcm_24.wav", "wav"),
            ("wav_pcm_u8.wav", "wav"),
            ("mp3_mono.mp3", "mp3"),
            ("flac_16_stereo.flac", "flac"),
            ("flac_24.flac", "flac"),
            ("ogg_vorbis_stereo.ogg", "ogg"),
            ("au_pcm_16.au", "au"),
            ("au_pcm_16_le.au", "au"),
            ("au_ulaw.au", "au"),
            ("au_double.au", "au"),
            ("au_pcm_24.au", "au"),
        ] {
            let bytes = std::fs::read(fixture(name)).unwrap();
            let fields = match ext {
                "wav" => wav_fields(&bytes),
                "mp3" => mp3_fields(&bytes),
                "flac" => flac_fields(&bytes),
                "ogg" => ogg_fields(&bytes),
                _ => au_fields(),
            };
            out.push((Seed::new(name, bytes).with_fields(fields), ext));
        }
        for (rel, n, ext) in [
            ("musicnn/TRWJAZW128F42760DD_test.mp3", 24 << 10, "mp3"),
            ("musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3", 16 << 10, "mp3"),
            ("wesnoth/defeat.ogg", 24 << 10, "ogg"),
            ("wesnoth/sad.ogg", 16 << 10, "ogg"),
        ] {
            match music_prefix(rel, n) {
                Some(bytes) => {
                    let fields = if ext == "mp3" { mp3_fields(&bytes) } else { ogg_fields(&bytes) };
                    out.push((Seed::new(format!("{rel} (first {n} bytes)"), bytes).with_fields(fields), ext));
                }
                None => eprintln!("note: {} is absent; its seed is skipped", music(rel).display()),
            }
        }
        out
    })
}

/// The Ogg page checksum (CRC-32, polynomial 0x04c11db7, no reflection).
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

/// Recomputes the CRC of every whole page, walking from the start, so that a mutation inside a
/// page reaches the codec instead of being dropped by the page check.
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

/// Every entry point on one file; the errors must name it, and what decodes must be consistent.
fn exercise(path: &Path, start: u64, frames: u64, resample: bool) -> Result<(), TestCaseError> {
    let label = path.display().to_string();
    let check = |r: Result<Audio, jukemir_audio::AudioError>| -> Result<(), TestCaseError> {
        match r {
            Ok(a) => {
                prop_assert!(a.channels > 0 && a.sample_rate > 0, "{label}: {} ch at {} Hz", a.channels, a.sample_rate);
                prop_assert_eq!(a.samples.len() % a.channels, 0, "{}: partial frame", label);
                Ok(())
            }
            Err(e) => {
                prop_assert_eq!(e.path(), path);
                names(&label, &e.to_string())
            }
        }
    };
    if let Err(e) = probe(path) {
        names(&label, &e.to_string())?;
    }
    check(decode(path, 0, None))?;
    check(decode(path, start, Some(frames)))?;
    check(load(path, &LoadOptions::native().span(start as f64 / 8000.0, Some(0.25))))?;
    if resample {
        check(load(path, &LoadOptions::at_rate(16000).span(0.0, Some(0.1))))?;
    }
    let whole = if resample { LoadOptions::at_rate(16000) } else { LoadOptions::native() };
    check(load_head(path, &whole, 4000).map(|head| head.audio))?;
    Ok(())
}

fn case_file(dir: &Path, ext: &str) -> PathBuf {
    dir.join(format!("hostile-case.{ext}"))
}

fn tmp() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
}

/// A folder of its own for each test thread (tests of this binary run in parallel).
fn thread_dir() -> PathBuf {
    let dir =
        tmp().path().join(format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), ""));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_file(
    target: &str,
    bytes: &[u8],
    ext: &str,
    start: u64,
    frames: u64,
    resample: bool,
) -> Result<(), TestCaseError> {
    let path = case_file(&thread_dir(), ext);
    std::fs::write(&path, bytes).unwrap();
    run_case(target, bytes, || exercise(&path, start, frames, resample))?
}

proptest! {
    #![proptest_config(config("proptest-regressions/hostile_audio.txt", 256))]

    /// Truncations, bit flips, lying header fields and spliced bytes of real files.
    #[test]
    fn mutated_real_files_fail_cleanly(
        seed in any::<prop::sample::Index>(),
        muts in mutations(),
        fix_crc in any::<bool>(),
        start in prop_oneof![Just(0u64), 0u64..4000, Just(u64::MAX / 2)],
        frames in prop_oneof![Just(0u64), 1u64..3000, Just(u64::MAX)],
        resample in proptest::bool::weighted(0.25),
    ) {
        let (seed, ext) = &seeds()[seed.index(seeds().len())];
        let mut bytes = apply(seed, &muts);
        if *ext == "ogg" && fix_crc {
            fix_ogg_crcs(&mut bytes);
        }
        run_file(&format!("decode {}", seed.name), &bytes, ext, start, frames, resample)?;
    }

    /// Random bytes behind each format's magic number (and without one).
    #[test]
    fn random_bytes_fail_cleanly(
        bytes in random_bytes(vec![
            b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec(),
            b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00".to_vec(),
            b"fLaC\x00\x00\x00\x22".to_vec(),
            b"OggS\x00\x02".to_vec(),
            b".snd\x00\x00\x00\x18\xff\xff\xff\xff\x00\x00\x00\x03".to_vec(),
            b"dns.".to_vec(),
            b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec(),
            vec![0xff, 0xfb, 0x90, 0x64],
        ], 4096),
        ext in prop::sample::select(vec!["wav", "mp3", "flac", "ogg", "au", "bin"]),
    ) {
        run_file("decode random bytes", &bytes, ext, 100, 1000, false)?;
    }

    /// Sun `.au` headers with arbitrary fields over a little data: the offset, size, encoding,
    /// rate and channel count all lie in turn.
    #[test]
    fn au_headers_with_arbitrary_fields(
        offset in harness::interesting(),
        size in harness::interesting(),
        encoding in prop_oneof![0u32..8, Just(27u32), any::<u32>()],
        rate in prop_oneof![Just(1u32), Just(22050), any::<u32>()],
        channels in prop_oneof![0u32..4, Just(1024u32), Just(1025), any::<u32>()],
        data in proptest::collection::vec(any::<u8>(), 0..600),
        little_endian in any::<bool>(),
    ) {
        let word = |x: u32| if little_endian { x.to_le_bytes() } else { x.to_be_bytes() };
        let mut bytes = if little_endian { b"dns.".to_vec() } else { b".snd".to_vec() };
        for x in [offset as u32, size as u32, encoding, rate, channels] {
            bytes.extend(word(x));
        }
        bytes.extend(data);
        run_file("decode a hand-made AU header", &bytes, "au", 0, 500, true)?;
    }
}

/// A header that states a tiny sample rate: resampling to a normal rate must not turn a few
/// kilobytes into gigabytes of samples (nor take minutes).
#[test]
fn tiny_declared_sample_rates_do_not_explode() {
    for rate in [1u32, 7, 100] {
        let mut bytes = b".snd".to_vec();
        for x in [24u32, 4000, 2, rate, 1] {
            bytes.extend(x.to_be_bytes());
        }
        bytes.extend((0..4000u32).map(|i| (i * 37 % 251) as u8));
        let path = case_file(&thread_dir(), "au");
        std::fs::write(&path, &bytes).unwrap();
        let label = path.display().to_string();
        run_case(&format!("load of a {rate} Hz AU at 22050 Hz"), &bytes, || {
            match load(&path, &LoadOptions::at_rate(22050)) {
                Ok(a) => assert!(a.samples.len() <= 4000 * 1024, "{} samples", a.samples.len()),
                Err(e) => assert!(e.to_string().contains(&label), "{e}"),
            }
        })
        .unwrap();
    }
}

/// Inputs that once broke a decoder: every file in `fixtures/hostile/audio/`, decoded with each
/// extension (the file name's own first).
#[test]
fn regressions_stay_fixed() {
    let n = replay_fixtures("audio", |name, bytes| {
        let own = name.rsplit('.').next().unwrap_or("bin");
        for ext in [own, "wav", "au"] {
            run_file(&format!("fixtures/hostile/audio/{name}"), bytes, ext, 100, 1000, true)?;
        }
        Ok(())
    });
    eprintln!("{n} regression inputs replayed");
}

/// Sanity: every seed decodes as it is (so mutations start from real, readable files).
#[test]
fn seeds_decode_unmutated() {
    for (seed, ext) in seeds() {
        let path = case_file(&thread_dir(), ext);
        std::fs::write(&path, &seed.bytes).unwrap();
        let audio = decode(&path, 0, None).unwrap_or_else(|e| panic!("seed {seed:?}: {e}"));
        assert!(!audio.is_empty(), "seed {seed:?}");
        assert!(!seed.fields.is_empty(), "seed {seed:?} has no known fields");
    }
}
