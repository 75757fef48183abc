//! Sun/NeXT `.au` reading, by hand: symphonia has no AU demuxer and GTZAN (1000 clips) is AU,
//! 16-bit big-endian PCM at 22050 Hz, mono.
//!
//! Sample values follow libsndfile's float reads (what `librosa.load` saw): integers are divided
//! by 2^(bits-1), 64-bit floats are rounded to `f32`, μ-law/A-law go through the G.711 tables and
//! are divided by 32768.
//!
//! Header sizes are never trusted for allocation or reading: every length is bounded by the real
//! file length first.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::sink::Sink;
use crate::{Audio, AudioError};

const HEADER_LEN: u64 = 24;
const UNKNOWN_SIZE: u32 = 0xffff_ffff;
/// Bytes converted per read call: bounded memory however long the file is.
const CHUNK_BYTES: usize = 1 << 16;

/// Whether `head` starts like an AU file (big-endian `.snd`, or the rare little-endian `dns.`
/// variant libsndfile also reads).
pub(crate) fn is_au(head: &[u8]) -> bool {
    head.starts_with(b".snd") || head.starts_with(b"dns.")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    MuLaw,
    Int8,
    Int16,
    Int24,
    Int32,
    Float32,
    Float64,
    ALaw,
}

impl Encoding {
    fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            1 => Encoding::MuLaw,
            2 => Encoding::Int8,
            3 => Encoding::Int16,
            4 => Encoding::Int24,
            5 => Encoding::Int32,
            6 => Encoding::Float32,
            7 => Encoding::Float64,
            27 => Encoding::ALaw,
            _ => return None,
        })
    }

    fn bytes(self) -> usize {
        match self {
            Encoding::MuLaw | Encoding::ALaw | Encoding::Int8 => 1,
            Encoding::Int16 => 2,
            Encoding::Int24 => 3,
            Encoding::Int32 | Encoding::Float32 => 4,
            Encoding::Float64 => 8,
        }
    }
}

/// An opened AU file whose header has been validated against the file's real length.
pub(crate) struct AuReader {
    path: PathBuf,
    file: File,
    encoding: Encoding,
    little_endian: bool,
    data_offset: u64,
    frames: u64,
    sample_rate: u32,
    channels: usize,
}

impl AuReader {
    pub(crate) fn open(path: &Path) -> Result<Self, AudioError> {
        let mut file = File::open(path).map_err(|e| AudioError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| AudioError::io(path, e))?.len();
        if file_len == 0 {
            return Err(AudioError::Empty { path: path.to_path_buf() });
        }
        let mut raw = [0u8; HEADER_LEN as usize];
        if file_len < HEADER_LEN {
            return Err(AudioError::corrupt(path, format!("AU header truncated ({file_len} of 24 bytes)")));
        }
        file.read_exact(&mut raw).map_err(|e| AudioError::io(path, e))?;
        let little_endian = match &raw[..4] {
            b".snd" => false,
            b"dns." => true,
            _ => return Err(AudioError::unsupported(path, "not an AU file (no .snd magic)")),
        };
        let field = |i: usize| {
            let b = [raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]];
            if little_endian {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        };
        let (data_offset, data_size, code, sample_rate, channels) =
            (field(1) as u64, field(2), field(3), field(4), field(5) as usize);

        let encoding = Encoding::from_code(code)
            .ok_or_else(|| AudioError::unsupported(path, format!("AU encoding {code} is not supported")))?;
        if data_offset < HEADER_LEN || data_offset > file_len {
            return Err(AudioError::corrupt(
                path,
                format!("AU data offset {data_offset} outside the file ({file_len} bytes)"),
            ));
        }
        if sample_rate == 0 {
            return Err(AudioError::corrupt(path, "AU sample rate is 0"));
        }
        if channels == 0 || channels > 1024 {
            return Err(AudioError::corrupt(path, format!("AU channel count {channels} is invalid")));
        }

        let frame_bytes = (encoding.bytes() * channels) as u64;
        let available = file_len - data_offset;
        let declared = (data_size != UNKNOWN_SIZE).then_some(data_size as u64);
        let data_len = match declared {
            Some(size) if size <= available => size - size % frame_bytes,
            // Unknown size, or a header promising more than the file holds: only whole frames
            // are trustworthy; a partial last frame means the file was cut mid-write.
            _ if available % frame_bytes != 0 => {
                let expected = declared.map_or_else(|| "an unknown size".to_string(), |s| format!("{s} bytes"));
                return Err(AudioError::corrupt(
                    path,
                    format!(
                        "AU data truncated: {available} bytes present (header declares {expected}), \
                         not a whole number of {frame_bytes}-byte frames"
                    ),
                ));
            }
            _ => available,
        };

        Ok(AuReader {
            path: path.to_path_buf(),
            file,
            encoding,
            little_endian,
            data_offset,
            frames: data_len / frame_bytes,
            sample_rate,
            channels,
        })
    }

    pub(crate) fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    pub(crate) fn frames(&self) -> u64 {
        self.frames
    }

    /// Reads up to `max_frames` frames starting at frame `start` (seeking straight to it).
    pub(crate) fn read(&mut self, start: u64, max_frames: Option<u64>) -> Result<Audio, AudioError> {
        let available = self.frames.saturating_sub(start);
        let frames = max_frames.map_or(available, |m| m.min(available));
        // The frame count comes from the file's size, so this is backed by bytes on disk.
        let mut samples = Vec::with_capacity(usize::try_from(frames).unwrap_or(0).saturating_mul(self.channels));
        self.read_into(start, max_frames, &mut samples)?;
        Ok(Audio { samples, sample_rate: self.sample_rate, channels: self.channels })
    }

    /// [`Self::read`], handing the samples to `out` a chunk at a time.
    pub(crate) fn read_into(
        &mut self,
        start: u64,
        max_frames: Option<u64>,
        out: &mut dyn Sink,
    ) -> Result<(), AudioError> {
        let path = self.path.as_path();
        if start > self.frames || (start == self.frames && self.frames > 0) {
            return Err(AudioError::OffsetPastEnd { path: path.to_path_buf(), start, frames: self.frames });
        }
        let frames = max_frames.map_or(self.frames - start, |m| m.min(self.frames - start));
        let sample_bytes = self.encoding.bytes();
        let frame_bytes = sample_bytes * self.channels;
        let total_samples = usize::try_from(frames)
            .ok()
            .and_then(|f| f.checked_mul(self.channels))
            .ok_or_else(|| AudioError::corrupt(path, "AU file too large for memory"))?;

        self.file
            .seek(SeekFrom::Start(self.data_offset + start * frame_bytes as u64))
            .map_err(|e| AudioError::io(path, e))?;
        let mut samples = Vec::new();
        let mut done_frames = 0u64;
        let chunk_frames = (CHUNK_BYTES / frame_bytes).max(1);
        let mut buf = vec![0u8; chunk_frames * frame_bytes];
        let mut left = total_samples * sample_bytes;
        while left > 0 {
            let n = left.min(buf.len());
            let chunk = &mut buf[..n];
            if let Err(e) = self.file.read_exact(chunk) {
                // The file shrank after its length was checked.
                let done = done_frames;
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    frame: start + done,
                    seconds: (start + done) as f64 / self.sample_rate as f64,
                    reason: format!("reading AU data: {e}"),
                });
            }
            samples.clear();
            convert(self.encoding, self.little_endian, chunk, &mut samples);
            out.put(&samples);
            done_frames += (samples.len() / self.channels) as u64;
            left -= n;
        }
        Ok(())
    }
}

/// Appends the decoded samples of `bytes` (whole samples only) to `out`.
fn convert(encoding: Encoding, little_endian: bool, bytes: &[u8], out: &mut Vec<f32>) {
    macro_rules! each {
        ($n:literal, |$b:ident| $e:expr) => {
            out.extend(bytes.chunks_exact($n).map(|c| {
                let mut $b: [u8; $n] = c.try_into().expect("chunks_exact yields whole samples");
                if little_endian {
                    $b.reverse();
                }
                $e
            }))
        };
    }
    match encoding {
        Encoding::Int8 => out.extend(bytes.iter().map(|&b| b as i8 as f32 / 128.0)),
        Encoding::MuLaw => out.extend(bytes.iter().map(|&b| ulaw_to_i16(b) as f32 / 32768.0)),
        Encoding::ALaw => out.extend(bytes.iter().map(|&b| alaw_to_i16(b) as f32 / 32768.0)),
        Encoding::Int16 => each!(2, |b| i16::from_be_bytes(b) as f32 / 32768.0),
        Encoding::Int24 => each!(3, |b| (i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8) as f32 / 8_388_608.0),
        // libsndfile: `(float) x * (1.0f / 0x80000000)`; the scale is a power of two, so exact.
        Encoding::Int32 => each!(4, |b| i32::from_be_bytes(b) as f32 / 2_147_483_648.0),
        Encoding::Float32 => each!(4, |b| f32::from_be_bytes(b)),
        Encoding::Float64 => each!(8, |b| f64::from_be_bytes(b) as f32),
    }
}

/// ITU-T G.711 μ-law expansion (the table libsndfile uses: 0x00 → -32124, 0x80 → 32124).
fn ulaw_to_i16(code: u8) -> i16 {
    let u = !code;
    let exponent = (u >> 4) & 0x07;
    let mantissa = (u & 0x0f) as i32;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// ITU-T G.711 A-law expansion (libsndfile's table: 0x00 → -5504, 0x80 → 5504).
fn alaw_to_i16(code: u8) -> i16 {
    let a = code ^ 0x55;
    let segment = (a & 0x70) >> 4;
    let mut t = ((a & 0x0f) as i32) << 4;
    t += if segment == 0 { 8 } else { 0x108 };
    if segment > 1 {
        t <<= segment - 1;
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_tables_match_libsndfile_endpoints() {
        assert_eq!(ulaw_to_i16(0x00), -32124);
        assert_eq!(ulaw_to_i16(0x80), 32124);
        assert_eq!(ulaw_to_i16(0xff), 0);
        assert_eq!(ulaw_to_i16(0x7f), 0);
        assert_eq!(alaw_to_i16(0x00), -5504);
        assert_eq!(alaw_to_i16(0x80), 5504);
        assert_eq!(alaw_to_i16(0x55), -8);
        assert_eq!(alaw_to_i16(0xd5), 8);
    }

    #[test]
    fn integer_scaling_matches_libsndfile() {
        let mut out = Vec::new();
        convert(Encoding::Int16, false, &[0x80, 0x00, 0x7f, 0xff], &mut out);
        convert(Encoding::Int24, false, &[0xff, 0xff, 0xff], &mut out);
        convert(Encoding::Int8, false, &[0x80], &mut out);
        convert(Encoding::Int16, true, &[0x00, 0x80], &mut out);
        assert_eq!(out, vec![-1.0, 32767.0 / 32768.0, -1.0 / 8_388_608.0, -1.0, -1.0]);
    }
}
