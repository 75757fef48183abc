//! `load_head` (streamed decode → mono → resample, keeping the first samples and the running peak)
//! against `load` of the whole file followed by the cut: equal bit for bit, on real music in every
//! container the datasets use, at the native rate and resampled up and down.

use std::path::{Path, PathBuf};

use jukemir_audio::{load, load_head, peak_normalize, LoadOptions};

fn shared(rel: &str) -> PathBuf {
    jukemir_test_support::music(rel)
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

fn check(path: &Path, options: &LoadOptions, keeps: &[usize]) {
    let whole = load(path, options).unwrap().samples;
    for &keep in keeps {
        check_head(path, options, keep, &whole);
    }
}

fn check_head(path: &Path, options: &LoadOptions, keep: usize, whole: &[f32]) {
    let head = load_head(path, options, keep).unwrap();
    let what = format!("{} {options:?} keep {keep}", path.display());
    assert_eq!(head.total_samples, whole.len() as u64, "{what}");
    let peak = whole.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert_eq!(head.peak.to_bits(), peak.to_bits(), "{what}");
    let cut = &whole[..keep.min(whole.len())];
    assert_eq!(head.audio.samples.len(), cut.len(), "{what}");
    let mismatch = head.audio.samples.iter().zip(cut).position(|(a, b)| a.to_bits() != b.to_bits());
    assert_eq!(mismatch, None, "{what}: first differing sample");

    let mut normalized = whole.to_vec();
    peak_normalize(&mut normalized);
    normalized.truncate(keep);
    assert_eq!(head.peak_normalized(), normalized, "{what}");
}

#[test]
fn the_head_of_a_streamed_load_equals_the_cut_whole_load() {
    let files = [
        shared("musicnn/TRWJAZW128F42760DD_test.mp3"),
        shared("wesnoth/sad.ogg"),
        fixture("audio/au_pcm_16_stereo.au"),
    ];
    for path in &files {
        for rate in [None, Some(44100), Some(22050), Some(48000)] {
            let options = LoadOptions { sample_rate: rate, ..LoadOptions::default() };
            check(path, &options, &[0, 1, 4097, 200_000, usize::MAX / 2]);
        }
    }
}

#[test]
fn spans_are_honoured_as_load_honours_them() {
    let path = shared("wesnoth/sad.ogg");
    for options in [
        LoadOptions::at_rate(44100).span(1.5, Some(4.0)),
        LoadOptions::at_rate(16000).span(0.25, None),
        LoadOptions::native().span(2.0, Some(0.5)),
    ] {
        check(&path, &options, &[30_000]);
    }
}

#[test]
fn bad_files_and_options_fail_as_load_fails() {
    let stereo = LoadOptions { mono: false, ..LoadOptions::default() };
    let err = load_head(shared("wesnoth/sad.ogg"), &stereo, 10).unwrap_err();
    assert!(err.to_string().contains("sad.ogg"), "{err}");

    let missing = load_head("no/such/clip.mp3", &LoadOptions::default(), 10).unwrap_err();
    assert!(missing.to_string().contains("no/such/clip.mp3"), "{missing}");

    let past_end = LoadOptions::default().span(10_000.0, None);
    let (ours, theirs) = (
        load_head(shared("wesnoth/sad.ogg"), &past_end, 10).unwrap_err(),
        load(shared("wesnoth/sad.ogg"), &past_end).unwrap_err(),
    );
    assert_eq!(ours.to_string(), theirs.to_string());
}

#[test]
fn decoded_length_counts_what_decode_returns() {
    for path in
        [shared("musicnn/TRWJAZW128F42760DD_test.mp3"), shared("wesnoth/sad.ogg"), fixture("audio/au_pcm_16_stereo.au")]
    {
        let audio = jukemir_audio::decode(&path, 0, None).unwrap();
        let (frames, rate) = jukemir_audio::decoded_length(&path).unwrap();
        assert_eq!((frames, rate), (audio.frames() as u64, audio.sample_rate), "{}", path.display());
    }
}
