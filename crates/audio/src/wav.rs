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
    let spec = hound::WavSpec {
        channels,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    jukemir_fs::write_atomically(path, |file| {
        let mut writer = hound::WavWriter::new(BufWriter::new(file), spec).map_err(WavWrite::Encode)?;
        let mut samples = writer.get_i16_writer(n);
        for &x in &audio.samples {
            samples.write_sample(f32_to_i16(x));
        }
        samples.flush().map_err(WavWrite::Encode)?;
        writer.finalize().map_err(WavWrite::Encode)
    })
    .map_err(|e| match e {
        WavWrite::Io(e) => AudioError::io(path, e),
        WavWrite::Encode(e) => fail(e.to_string()),
    })
}

/// Why writing a WAV failed: the file system, or the encoder.
enum WavWrite {
    Io(std::io::Error),
    Encode(hound::Error),
}

impl From<std::io::Error> for WavWrite {
    fn from(error: std::io::Error) -> Self {
        WavWrite::Io(error)
    }
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
