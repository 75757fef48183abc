//! 16-bit WAV writing: values as ffmpeg converts them, read back exactly, files appear atomically.

use jukemir_audio::{decode, f32_to_i16, load, write_wav_pcm16, Audio, AudioError, LoadOptions};

fn test_signal() -> Vec<f32> {
    let mut x: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.01).sin() * 0.8).collect();
    x.extend([1.0, -1.0, 1.5, -1.5, 0.5 / 32768.0, 1.5 / 32768.0, 0.0]);
    x
}

#[test]
fn mono_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("out.wav");
    let x = test_signal();
    write_wav_pcm16(&path, &Audio::mono(x.clone(), 16000)).unwrap();

    let spec = hound::WavReader::open(&path).unwrap().spec();
    assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (1, 16000, 16));
    let back = decode(&path, 0, None).unwrap();
    assert_eq!((back.channels, back.sample_rate), (1, 16000));
    let expected: Vec<f32> = x.iter().map(|&v| f32_to_i16(v) as f32 / 32768.0).collect();
    assert_eq!(back.samples, expected);
    // Clipped extremes, and ties rounded to even.
    let n = x.len();
    let tail: Vec<i16> = x[n - 7..].iter().map(|&v| f32_to_i16(v)).collect();
    assert_eq!(tail, vec![32767, -32768, 32767, -32768, 0, 2, 0]);
    // Reading it back through `load` at the same rate changes nothing.
    assert_eq!(load(&path, &LoadOptions::at_rate(16000)).unwrap().samples, expected);
}

#[test]
fn stereo_round_trip_and_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("stereo.wav");
    std::fs::write(&path, b"stale contents").unwrap();
    let audio = Audio::from_channels(&[vec![0.25, -0.5, 0.125], vec![-0.25, 0.5, 1.0]], 8000);
    write_wav_pcm16(&path, &audio).unwrap();
    let back = decode(&path, 0, None).unwrap();
    assert_eq!(back.channels, 2);
    assert_eq!(back.samples, vec![0.25, -0.25, -0.5, 0.5, 0.125, 32767.0 / 32768.0]);
    // Only the finished file is left in the directory: no temporary files.
    let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("stereo.wav")]);
}

#[test]
fn write_errors_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let missing_dir = tmp.path().join("no/such/dir/out.wav");
    let err = write_wav_pcm16(&missing_dir, &Audio::mono(vec![0.0; 10], 8000)).unwrap_err();
    assert!(err.to_string().contains(&missing_dir.display().to_string()), "{err}");
    assert!(!missing_dir.exists());

    let ragged = Audio { samples: vec![0.0; 5], sample_rate: 8000, channels: 2 };
    let path = tmp.path().join("ragged.wav");
    let err = write_wav_pcm16(&path, &ragged).unwrap_err();
    assert!(matches!(err, AudioError::Write { .. }), "{err}");
    assert!(err.to_string().contains("ragged.wav"), "{err}");
    assert!(!path.exists());
}
