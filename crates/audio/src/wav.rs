//! 16-bit PCM WAV output, the format the reference converts MP3s to before feature extraction
//! (`ffmpeg -i x.mp3 -ac 1 -bitexact out.wav`).

use std::io::BufWriter;
use std::path::Path;

use crate::{Audio, AudioError};

/// ffmpeg's float → s16 conversion (`av_clip_int16(lrintf(x * 32768))`): round half to even,
/// then clamp. NaN becomes 0.
pub fn f32_to_i16(x: f32) -> i16 {
    let v = (x * 32768.0).round_ties_even();
    if v.is_nan() {
        0
    } else {
        v.clamp(i16::MIN as f32, i16::MAX as f32) as i16
    }
}

/// Writes `audio` (any channel count, interleaved) as 16-bit PCM WAV.
///
/// The file appears atomically: it is written to a temporary file in the same directory, synced,
/// then renamed over `path`, so an interrupted run never leaves a truncated WAV that a later
/// resumed run would take for finished work.
pub fn write_wav_pcm16(path: impl AsRef<Path>, audio: &Audio) -> Result<(), AudioError> {
    let path = path.as_ref();
    let fail = |reason: String| AudioError::Write { path: path.to_path_buf(), reason };
    let channels = u16::try_from(audio.channels)
        .ok()
        .filter(|&c| c > 0)
        .ok_or_else(|| fail(format!("unsupported channel count {}", audio.channels)))?;
    let n = u32::try_from(audio.samples.len())
        .ok()
        .filter(|n| n.checked_mul(2).is_some())
        .ok_or_else(|| fail("too many samples for a WAV file (4 GiB limit)".into()))?;
    if audio.frames() * audio.channels != audio.samples.len() {
        return Err(fail(format!("{} samples do not fill whole {}-channel frames", n, channels)));
    }
    if audio.sample_rate == 0 {
        return Err(fail("sample rate is 0".into()));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let stem = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&jukemir_fs::temp_prefix(&stem))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| AudioError::io(path, e))?;

    let spec = hound::WavSpec {
        channels,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    {
        let mut writer =
            hound::WavWriter::new(BufWriter::new(tmp.as_file_mut()), spec).map_err(|e| fail(e.to_string()))?;
        let mut samples = writer.get_i16_writer(n);
        for &x in &audio.samples {
            samples.write_sample(f32_to_i16(x));
        }
        samples.flush().map_err(|e| fail(e.to_string()))?;
        writer.finalize().map_err(|e| fail(e.to_string()))?;
    }
    tmp.as_file().sync_all().map_err(|e| AudioError::io(path, e))?;
    tmp.persist(path).map_err(|e| AudioError::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rounds_half_to_even_and_clamps() {
        assert_eq!(f32_to_i16(0.0), 0);
        assert_eq!(f32_to_i16(1.0), 32767);
        assert_eq!(f32_to_i16(-1.0), -32768);
        assert_eq!(f32_to_i16(-2.0), -32768);
        assert_eq!(f32_to_i16(0.5 / 32768.0), 0);
        assert_eq!(f32_to_i16(1.5 / 32768.0), 2);
        assert_eq!(f32_to_i16(-2.5 / 32768.0), -2);
        assert_eq!(f32_to_i16(f32::NAN), 0);
    }
}
