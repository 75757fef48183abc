//! Ogg Vorbis against libsndfile 1.2.2 (soundfile 0.14) on the Wesnoth tracks in
//! ../shared/data/music/wesnoth. Fixtures: tools/reference/gen_ogg_fixtures.py.
//!
//! Regression for symphonia 0.6.1, which decoded the first audio page of sad.ogg (and of three other
//! tracks whose first audio packet shares the last header page) 128 frames late, errors up to 0.039
//! between 0.8 s and 1.03 s, and read past northerners.ogg's first end-of-stream page. libvorbis and
//! lewton agree to float rounding (measured ≤ 6e-7), so the bound is tight.

use std::path::{Path, PathBuf};

use jukemir_audio::{decode, load, probe, LoadOptions};
use ndarray::Array1;
use ndarray_npy::read_npy;

const TOL: f32 = 1e-5;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn music(rel: &str) -> PathBuf {
    jukemir_test_support::music(rel)
}

fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("fixtures/audio/wesnoth_ogg.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn sad_ogg_first_audio_page_matches_libsndfile() {
    let span = &manifest()["span"];
    let path = music(span["path"].as_str().unwrap());
    if !path.exists() {
        eprintln!("skipped: {} is absent", path.display());
        return;
    }
    let expected: Array1<f32> = read_npy(repo().join("fixtures/audio").join(span["npy"].as_str().unwrap())).unwrap();
    let expected = expected.to_vec();
    let (start, frames) = (span["start"].as_u64().unwrap() as usize, span["frames"].as_u64().unwrap() as usize);
    assert_eq!(expected.len(), frames);

    // The whole file, as librosa.load(path, sr=None) reads it.
    let whole = load(&path, &LoadOptions::native()).unwrap();
    assert_eq!((whole.channels, whole.sample_rate), (1, 44100));
    assert_eq!(whole.frames() as u64, span["total_frames"].as_u64().unwrap(), "total length");
    let diff = max_abs_diff(&whole.samples[start..start + frames], &expected);
    eprintln!("sad.ogg 0.8-1.1 s, whole-file decode: max |diff| {diff:.3e}");
    assert!(diff <= TOL, "whole-file decode: max |diff| {diff:e} > {TOL:e}");

    // The same span loaded on its own (librosa seeks to int(0.8 * 44100)).
    let opts = LoadOptions::native().span(0.8, Some(0.3));
    let alone = load(&path, &opts).unwrap();
    assert_eq!(alone.frames(), frames);
    let diff = max_abs_diff(&alone.samples, &expected);
    eprintln!("sad.ogg 0.8-1.1 s, span load: max |diff| {diff:.3e}");
    assert!(diff <= TOL, "span load: max |diff| {diff:e} > {TOL:e}");
}

#[test]
fn every_wesnoth_ogg_has_libsndfiles_length() {
    let manifest = manifest();
    let files = manifest["files"].as_array().unwrap();
    let present: Vec<_> = files.iter().filter(|f| music(f["path"].as_str().unwrap()).exists()).collect();
    if present.len() < files.len() {
        eprintln!("skipped {} of {} files: absent from ../shared", files.len() - present.len(), files.len());
    }
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = present
            .iter()
            .map(|f| {
                s.spawn(move || {
                    let rel = f["path"].as_str().unwrap();
                    let path = music(rel);
                    let info = probe(&path).unwrap();
                    let audio = decode(&path, 0, None).unwrap();
                    let mut failures = Vec::new();
                    let want = (f["sample_rate"].as_u64().unwrap() as u32, f["channels"].as_u64().unwrap() as usize);
                    if (audio.sample_rate, audio.channels) != want {
                        failures
                            .push(format!("{rel}: {} Hz x {}, libsndfile {want:?}", audio.sample_rate, audio.channels));
                    }
                    let frames = f["frames"].as_u64().unwrap();
                    if audio.frames() as u64 != frames {
                        failures.push(format!("{rel}: decoded {} frames, libsndfile {frames}", audio.frames()));
                    }
                    let info_frames = f["info_frames"].as_u64().unwrap();
                    if info.frames != Some(info_frames) {
                        failures.push(format!("{rel}: probe says {:?} frames, sf.info {info_frames}", info.frames));
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn damaged_ogg_vorbis_behaves_like_libsndfile_or_fails_cleanly() {
    let src = music("wesnoth/sad.ogg");
    if !src.exists() {
        eprintln!("skipped: {} is absent", src.display());
        return;
    }
    let bytes = std::fs::read(&src).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, data: &[u8]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, data).unwrap();
        path
    };
    // Cut inside the headers: an error that names the file.
    let cut = write("cut_headers.ogg", &bytes[..4000]);
    let err = decode(&cut, 0, None).unwrap_err();
    assert!(err.to_string().contains(&cut.display().to_string()), "{err}");
    // Cut mid-stream: the complete pages, as libsndfile reads them (soundfile: 778944 frames).
    let cut = write("cut_300000.ogg", &bytes[..300_000]);
    let short = decode(&cut, 0, None).unwrap();
    assert_eq!(short.frames(), 778_944);
    assert_eq!(short.samples, decode(&src, 0, Some(778_944)).unwrap().samples);
    // A page whose checksum fails: a decode error at its position (libsndfile would skip the page).
    let mut damaged = bytes.clone();
    damaged[200_000..200_400].iter_mut().for_each(|b| *b ^= 0x5a);
    let damaged = write("damaged.ogg", &damaged);
    match decode(&damaged, 0, None) {
        Err(jukemir_audio::AudioError::Decode { seconds, .. }) => assert!((10.0..13.0).contains(&seconds), "{seconds}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    // A span before the damage still loads.
    assert_eq!(decode(&damaged, 44_100, Some(44_100)).unwrap().frames(), 44_100);
}
