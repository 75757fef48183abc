//! Source audio → `wav/<uid>.wav`, as the reference's
//! `ffmpeg -y -i SRC [-ss OFFSET -t DURATION] -ac 1 -bitexact OUT.wav`: mono by channel mean,
//! 16-bit PCM, at the source's sample rate.

use super::ClipSpan;
use anyhow::Context;
use jukemir_audio::{decode, probe, write_wav_pcm16};
use std::path::Path;

/// Convert `source` (optionally only `clip`) to a 16-bit mono WAV at `dest`, written atomically.
/// Returns the result's duration in seconds (`samples / rate`), which the reference records as
/// `clip_duration`.
pub fn convert_to_wav(source: &Path, clip: Option<ClipSpan>, dest: &Path) -> anyhow::Result<f64> {
    let (start, frames) = match clip {
        Some(span) => {
            let rate = probe(source)?.sample_rate as f64;
            ((span.offset * rate).round() as u64, Some((span.duration * rate).round() as u64))
        }
        None => (0, None),
    };
    let audio = decode(source, start, frames)?.into_mono();
    if audio.is_empty() {
        anyhow::bail!(
            "{} has no audio{}",
            source.display(),
            if clip.is_some() { " in the requested clip" } else { "" }
        );
    }
    write_wav_pcm16(dest, &audio)?;
    Ok(audio.frames() as f64 / audio.sample_rate as f64)
}

/// The duration of an existing, complete converted WAV, or `None` if it is missing, truncated or
/// not 16-bit mono (so it is converted again).
pub fn complete_wav_duration(path: &Path) -> Option<f64> {
    let reader = hound::WavReader::open(path).ok()?;
    let spec = reader.spec();
    if spec.channels != 1 || spec.bits_per_sample != 16 || spec.sample_rate == 0 {
        return None;
    }
    let declared = reader.len() as u64;
    let data_bytes = std::fs::metadata(path).ok()?.len();
    // The header's sample count must be backed by bytes on disk.
    if declared == 0 || data_bytes < declared * 2 {
        return None;
    }
    Some(declared as f64 / spec.sample_rate as f64)
}

/// Convert unless a complete output already exists; returns the output's duration.
pub fn ensure_wav(source: &Path, clip: Option<ClipSpan>, dest: &Path) -> anyhow::Result<f64> {
    if let Some(duration) = complete_wav_duration(dest) {
        return Ok(duration);
    }
    convert_to_wav(source, clip, dest).with_context(|| format!("converting {} to {}", source.display(), dest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jukemir_audio::Audio;

    #[test]
    fn clips_are_cut_at_sample_positions_and_resumed_outputs_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.wav");
        let stereo: Vec<Vec<f32>> = vec![(0..4000).map(|i| i as f32 / 8000.0).collect(), vec![0.0; 4000]];
        write_wav_pcm16(&src, &Audio::from_channels(&stereo, 1000)).unwrap();
        let out = dir.path().join("out.wav");
        let d = ensure_wav(&src, Some(ClipSpan { offset: 1.0, duration: 2.0 }), &out).unwrap();
        assert_eq!(d, 2.0);
        let samples: Vec<i16> = hound::WavReader::open(&out).unwrap().samples().map(|s| s.unwrap()).collect();
        assert_eq!(samples.len(), 2000);
        // Mono is the channel mean: (1000/8000 + 0) / 2 → 0.0625 · 32768.
        assert_eq!(samples[0], 2048);
        // A complete output is not converted again; a truncated one is.
        assert_eq!(complete_wav_duration(&out), Some(2.0));
        let bytes = std::fs::read(&out).unwrap();
        std::fs::write(&out, &bytes[..bytes.len() - 100]).unwrap();
        assert_eq!(complete_wav_duration(&out), None);
        assert_eq!(ensure_wav(&src, None, &out).unwrap(), 4.0);
    }

    #[test]
    fn a_corrupt_source_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("corrupt.mp3");
        std::fs::write(&src, b"ID3 but then nothing that decodes").unwrap();
        let err = ensure_wav(&src, None, &dir.path().join("o.wav")).unwrap_err();
        assert!(format!("{err:#}").contains("corrupt.mp3"), "{err:#}");
        assert!(!dir.path().join("o.wav").exists());
    }
}
