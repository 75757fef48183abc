//! Our decoding of every supported format against libsndfile 1.2.2 (soundfile 0.14), the decoder
//! behind `librosa.load` in the reference. Fixtures: tools/reference/gen_audio_formats.py.
//!
//! Lossless formats must agree to 1e-6 (in practice exactly: both divide integers by 2^(bits-1)).
//! Vorbis and MP3 are decoded by different implementations (symphonia vs libvorbis/mpg123), so
//! they are held to an SNR bound instead.

use std::path::{Path, PathBuf};

use jukemir_audio::{decode, librosa_resample, load, probe, write_wav_pcm16, Audio, LoadOptions, ResampleFilter};
use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;

const LOSSLESS_TOL: f32 = 1e-6;
const LOSSY_MIN_SNR_DB: f64 = 60.0;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio")
}

struct Case {
    name: String,
    file: PathBuf,
    sample_rate: u32,
    channels: usize,
    frames: usize,
    lossy: bool,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(dir().join("formats.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            file: dir().join(c["file"].as_str().unwrap()),
            sample_rate: c["sample_rate"].as_u64().unwrap() as u32,
            channels: c["channels"].as_u64().unwrap() as usize,
            frames: c["frames"].as_u64().unwrap() as usize,
            lossy: c["lossy"].as_bool().unwrap(),
        })
        .collect()
}

fn snr_db(ours: &[f32], reference: &[f32]) -> f64 {
    let sig: f64 = reference.iter().map(|&r| r as f64 * r as f64).sum();
    let err: f64 = ours.iter().zip(reference).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
    10.0 * (sig / err.max(1e-300)).log10()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Checks `ours` against `expected` with the tolerance of the case's codec; returns a failure.
fn compare(what: &str, lossy: bool, ours: &[f32], expected: &[f32]) -> Option<String> {
    if ours.len() != expected.len() {
        return Some(format!("{what}: {} samples, libsndfile has {}", ours.len(), expected.len()));
    }
    let diff = max_abs_diff(ours, expected);
    let snr = snr_db(ours, expected);
    if diff == 0.0 {
        eprintln!("{what}: exact");
    } else {
        eprintln!("{what}: max |diff| {diff:.3e}, SNR {snr:.1} dB");
    }
    if lossy && snr < LOSSY_MIN_SNR_DB {
        return Some(format!("{what}: SNR {snr:.1} dB < {LOSSY_MIN_SNR_DB} dB"));
    }
    if !lossy && diff > LOSSLESS_TOL {
        return Some(format!("{what}: max |diff| {diff:e} > {LOSSLESS_TOL:e}"));
    }
    None
}

#[test]
fn every_format_decodes_like_libsndfile() {
    let mut failures = Vec::new();
    for case in cases() {
        let info = probe(&case.file).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!((info.sample_rate, info.channels), (case.sample_rate, case.channels), "{}", case.name);
        let audio = decode(&case.file, 0, None).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!((audio.sample_rate, audio.channels), (case.sample_rate, case.channels), "{}", case.name);
        if audio.frames() != case.frames {
            failures.push(format!("{}: {} frames, libsndfile has {}", case.name, audio.frames(), case.frames));
        }
        let expected: Array2<f32> = read_npy(dir().join(format!("{}.npy", case.name))).unwrap();
        let expected: Vec<f32> = expected.iter().copied().collect();
        failures.extend(compare(&format!("{} ({})", case.name, info.codec), case.lossy, &audio.samples, &expected));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn mono_downmix_matches_librosa_to_mono() {
    let mut failures = Vec::new();
    for case in cases() {
        let mono_path = dir().join(format!("{}.mono.npy", case.name));
        if !mono_path.exists() {
            continue;
        }
        let expected: Array1<f32> = read_npy(&mono_path).unwrap();
        let ours = load(&case.file, &LoadOptions::native()).unwrap();
        assert_eq!((ours.channels, ours.sample_rate), (1, case.sample_rate));
        failures.extend(compare(
            &format!("{} mono", case.name),
            case.lossy,
            &ours.samples,
            expected.as_slice().unwrap(),
        ));
        if !case.lossy {
            // Same decoder, same arithmetic: bit-identical.
            assert_eq!(ours.samples, expected.to_vec(), "{}", case.name);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn spans_are_slices_of_the_whole() {
    for case in cases() {
        let whole = decode(&case.file, 0, None).unwrap();
        let (start, len) = (case.frames as u64 / 3, 100);
        let span = decode(&case.file, start, Some(len)).unwrap();
        let ch = case.channels;
        let a = start as usize * ch;
        assert_eq!(span.samples, whole.samples[a..a + len as usize * ch], "{}", case.name);
        // A span running past the end is cut short, not an error.
        let tail = decode(&case.file, start, Some(10 * case.frames as u64)).unwrap();
        assert_eq!(tail.samples, whole.samples[a..], "{}", case.name);
    }
}

#[test]
fn au_is_recognised_by_content_not_extension() {
    let tmp = tempfile::tempdir().unwrap();
    let disguised = tmp.path().join("gtzan_clip.wav");
    std::fs::copy(dir().join("au_pcm_16.au"), &disguised).unwrap();
    assert_eq!(decode(&disguised, 0, None).unwrap(), decode(dir().join("au_pcm_16.au"), 0, None).unwrap());
    let wav_as_au = tmp.path().join("clip.au");
    std::fs::copy(dir().join("wav_pcm_16.wav"), &wav_as_au).unwrap();
    assert_eq!(decode(&wav_as_au, 0, None).unwrap(), decode(dir().join("wav_pcm_16.wav"), 0, None).unwrap());
}

#[test]
fn long_wav_and_au_seek_exactly() {
    // Long enough (3 s) that a span at 2 s makes the reader seek rather than start at frame 0.
    let tmp = tempfile::tempdir().unwrap();
    let x: Vec<f32> = (0..24_000).map(|i| ((i * 7919 % 65_536) as f32 - 32_768.0) / 32_768.0).collect();
    let wav = tmp.path().join("long.wav");
    write_wav_pcm16(&wav, &Audio::mono(x.clone(), 8000)).unwrap();
    let mut au_bytes = Vec::new();
    for field in [0x2e73_6e64u32, 24, 2 * x.len() as u32, 3, 8000, 1] {
        au_bytes.extend(field.to_be_bytes());
    }
    for &v in &x {
        au_bytes.extend(jukemir_audio::f32_to_i16(v).to_be_bytes());
    }
    let au = tmp.path().join("long.au");
    std::fs::write(&au, au_bytes).unwrap();
    for path in [&wav, &au] {
        let whole = decode(path, 0, None).unwrap();
        assert_eq!(whole.frames(), x.len());
        let span = decode(path, 16_001, Some(3000)).unwrap();
        assert_eq!(span.samples, whole.samples[16_001..19_001], "{}", path.display());
        // librosa's frame arithmetic: int(2.0001 * 8000) = 16000, int(0.25 * 8000) = 2000.
        let opts = LoadOptions::native().span(2.0001, Some(0.25));
        assert_eq!(load(path, &opts).unwrap().samples, whole.samples[16_000..18_000], "{}", path.display());
    }
}

#[test]
fn multichannel_loads_resample_each_channel() {
    let path = dir().join("wav_pcm_16_stereo.wav");
    let native = decode(&path, 0, None).unwrap();
    let opts = LoadOptions { sample_rate: Some(22050), mono: false, ..Default::default() };
    let loaded = load(&path, &opts).unwrap();
    assert_eq!((loaded.channels, loaded.sample_rate), (2, 22050));
    for c in 0..2 {
        let expected = librosa_resample(&native.channel(c), 8000, 22050, ResampleFilter::KaiserBest, false).unwrap();
        assert_eq!(loaded.channel(c), expected);
    }
}
