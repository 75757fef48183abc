//! Broken, missing and too-short inputs: every failure is an `Err` (never a panic) whose message
//! names the file, and damaged-but-readable files give what libsndfile would give.

use std::path::{Path, PathBuf};

use jukemir_audio::{decode, load, probe, AudioError, LoadOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio").join(name)
}

fn music(rel: &str) -> PathBuf {
    jukemir_test_support::music(rel)
}

/// Writes the first `len` bytes of `src` to `dir/name`.
fn truncated(dir: &Path, src: &Path, len: usize, name: &str) -> PathBuf {
    let bytes = std::fs::read(src).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, &bytes[..len.min(bytes.len())]).unwrap();
    path
}

/// Loads `path` expecting an error that names it; returns the error for further checks.
fn load_err(path: &Path, opts: &LoadOptions) -> AudioError {
    let err = match load(path, opts) {
        Ok(a) => panic!("{}: expected an error, got {} frames", path.display(), a.frames()),
        Err(e) => e,
    };
    let msg = err.to_string();
    eprintln!("{msg}");
    assert!(msg.contains(&path.display().to_string()), "message does not name the file: {msg}");
    assert_eq!(err.path(), path);
    err
}

#[test]
fn missing_file() {
    let path = Path::new("/nonexistent/dir/clip.mp3");
    assert!(matches!(load_err(path, &LoadOptions::default()), AudioError::NotFound { .. }));
    assert!(matches!(probe(path), Err(AudioError::NotFound { .. })));
}

#[test]
fn empty_file() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["empty.wav", "empty.mp3", "empty.au", "empty"] {
        let path = tmp.path().join(name);
        std::fs::write(&path, b"").unwrap();
        load_err(&path, &LoadOptions::default());
    }
}

#[test]
fn random_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    for name in ["noise.wav", "noise.mp3", "noise.ogg", "noise.au", "noise.bin"] {
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        load_err(&path, &LoadOptions::default());
    }
}

#[test]
fn truncated_headers_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for (src, len) in [("wav_pcm_16.wav", 30), ("wav_pcm_16.wav", 4), ("mp3_mono.mp3", 3), ("au_pcm_16.au", 20)] {
        let path = truncated(tmp.path(), &fixture(src), len, &format!("cut_{len}_{src}"));
        load_err(&path, &LoadOptions::default());
    }
}

#[test]
fn truncated_au_data_needs_whole_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixture("au_pcm_16_stereo.au"); // 24-byte header, 4-byte frames
    let cut = truncated(tmp.path(), &src, 24 + 4 * 100 + 3, "mid_frame.au");
    assert!(matches!(load_err(&cut, &LoadOptions::native()), AudioError::Corrupt { .. }));
    let whole = truncated(tmp.path(), &src, 24 + 4 * 100, "whole_frames.au");
    let audio = decode(&whole, 0, None).unwrap();
    assert_eq!(audio.frames(), 100);
    assert_eq!(audio.samples, decode(&src, 0, Some(100)).unwrap().samples);
}

#[test]
fn au_header_sizes_are_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture("au_pcm_16.au")).unwrap();
    let data_len = bytes.len() - 24;
    // A data size far beyond the file: only what is there is read (and nothing huge allocated).
    bytes[8..12].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
    let huge = tmp.path().join("huge_size.au");
    std::fs::write(&huge, &bytes).unwrap();
    assert_eq!(decode(&huge, 0, None).unwrap().frames(), data_len / 2);
    // "Unknown" size: the rest of the file.
    bytes[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    let unknown = tmp.path().join("unknown_size.au");
    std::fs::write(&unknown, &bytes).unwrap();
    assert_eq!(decode(&unknown, 0, None).unwrap().frames(), data_len / 2);
    // Data offset beyond the end of the file.
    bytes[4..8].copy_from_slice(&1_000_000u32.to_be_bytes());
    let offset = tmp.path().join("bad_offset.au");
    std::fs::write(&offset, &bytes).unwrap();
    assert!(matches!(load_err(&offset, &LoadOptions::default()), AudioError::Corrupt { .. }));
    // An encoding we do not decode (23 = G.721 ADPCM).
    bytes[4..8].copy_from_slice(&24u32.to_be_bytes());
    bytes[12..16].copy_from_slice(&23u32.to_be_bytes());
    let adpcm = tmp.path().join("g721.au");
    std::fs::write(&adpcm, &bytes).unwrap();
    assert!(matches!(load_err(&adpcm, &LoadOptions::default()), AudioError::Unsupported { .. }));
}

#[test]
fn truncated_data_yields_the_readable_part_like_libsndfile() {
    let tmp = tempfile::tempdir().unwrap();
    // WAV whose data chunk promises more than the file holds.
    let src = fixture("wav_pcm_16.wav"); // 44-byte header
    let cut = truncated(tmp.path(), &src, 44 + 2 * 300, "cut.wav");
    let audio = decode(&cut, 0, None).unwrap();
    assert_eq!(audio.samples, decode(&src, 0, Some(300)).unwrap().samples);
    // An MP3 cut in half decodes its first half.
    let mp3 = music("musicnn/TRWJAZW128F42760DD_test.mp3");
    let half = std::fs::metadata(&mp3).unwrap().len() as usize / 2;
    let cut = truncated(tmp.path(), &mp3, half, "half.mp3");
    let short = decode(&cut, 0, None).unwrap();
    let full = decode(&mp3, 0, Some(short.frames() as u64)).unwrap();
    assert!(short.frames() > 22050 * 10 && short.frames() < 22050 * 20, "{} frames", short.frames());
    assert_eq!(short.samples[..short.samples.len() - 4096], full.samples[..short.samples.len() - 4096]);
    // Asking for a span after the cut is "too short", even though the header promised more.
    assert!(matches!(load_err(&cut, &LoadOptions::default().span(25.0, Some(2.0))), AudioError::OffsetPastEnd { .. }));
}

#[test]
fn offset_past_the_end() {
    for path in [
        fixture("wav_pcm_16.wav"),
        fixture("au_pcm_16.au"),
        fixture("flac_24.flac"),
        fixture("ogg_vorbis_stereo.ogg"),
        fixture("mp3_mono.mp3"),
        music("wesnoth/defeat.ogg"),
        music("musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3"),
    ] {
        let err = load_err(&path, &LoadOptions::default().span(60.0, Some(1.0)));
        assert!(matches!(err, AudioError::OffsetPastEnd { .. }), "{err}");
    }
}

#[test]
fn zero_duration_is_empty() {
    let path = fixture("wav_pcm_16.wav");
    assert!(matches!(load_err(&path, &LoadOptions::default().span(0.01, Some(0.0))), AudioError::Empty { .. }));
}

#[test]
fn too_short_to_resample_is_an_error() {
    // 1 frame at 8 kHz resampled to 22050 Hz gives 2 frames; at 1 kHz, int(1 * 1/8) = 0 frames.
    let opts = LoadOptions { sample_rate: Some(1000), duration: Some(1.0 / 8000.0), ..Default::default() };
    assert!(matches!(load_err(&fixture("wav_pcm_16.wav"), &opts), AudioError::Resample { .. }));
}

#[test]
fn corrupt_frames_mid_stream_report_the_position() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(music("musicnn/TRWJAZW128F42760DD_test.mp3")).unwrap();
    let mut state = 12345u64;
    for b in &mut bytes[100_000..102_000] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *b = (state >> 30) as u8;
    }
    let path = tmp.path().join("damaged.mp3");
    std::fs::write(&path, &bytes).unwrap();
    // The damage is about 12 s in; a span before it still loads.
    assert!(load(&path, &LoadOptions::default().span(1.0, Some(5.0))).is_ok());
    match load_err(&path, &LoadOptions::default()) {
        AudioError::Decode { frame, seconds, .. } => {
            assert!((10.0..15.0).contains(&seconds), "{seconds} s");
            assert_eq!(frame, (seconds * 22050.0).round() as u64);
        }
        other => panic!("expected a decode error, got {other}"),
    }
}

#[test]
fn non_finite_samples_are_rejected_like_librosa() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture("au_float.au")).unwrap();
    bytes[24 + 4 * 10..24 + 4 * 11].copy_from_slice(&f32::NAN.to_be_bytes());
    let path = tmp.path().join("nan.au");
    std::fs::write(&path, &bytes).unwrap();
    assert!(decode(&path, 0, None).unwrap().samples[10].is_nan());
    let err = load_err(&path, &LoadOptions::native());
    assert!(matches!(err, AudioError::Corrupt { .. }) && err.to_string().contains("frame 10"), "{err}");
}
