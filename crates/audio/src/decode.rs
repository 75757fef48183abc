//! Native-rate decoding of a span of frames from any supported file.
//!
//! The container is chosen by content (magic bytes), not by extension: datasets ship `.au` files
//! renamed `.wav` and the like, and a wrong guess must not turn into garbage audio. Ogg Vorbis goes
//! to lewton ([`crate::vorbis`]), AU to our own reader, everything else to symphonia.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::au::{is_au, AuReader};
use crate::media::MediaReader;
use crate::sink::Sink;
use crate::vorbis::{is_ogg_vorbis, VorbisReader, HEAD_LEN};
use crate::{Audio, AudioError};

/// What a file holds, read from its header without decoding the audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioInfo {
    /// Native frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: usize,
    /// Total frames if the container states them (MP3 without a Xing header: a bitrate estimate).
    pub frames: Option<u64>,
    /// Short codec name (`"pcm_s16le"`, `"mp3"`, `"vorbis"`, `"flac"`, `"au"`, ...).
    pub codec: &'static str,
}

enum Source {
    Au(AuReader),
    // Boxed: lewton's headers make this reader several hundred bytes.
    Vorbis(Box<VorbisReader>),
    Media(MediaReader),
}

/// An opened file whose header has been read: the native rate is known before choosing the span
/// (librosa computes frame indices from it).
pub(crate) struct Opened<'p> {
    path: &'p Path,
    source: Source,
}

impl Opened<'_> {
    pub(crate) fn sample_rate(&self) -> u32 {
        match &self.source {
            Source::Au(r) => r.sample_rate(),
            Source::Vorbis(r) => r.sample_rate(),
            Source::Media(r) => r.sample_rate(),
        }
    }

    pub(crate) fn channels(&self) -> usize {
        match &self.source {
            Source::Au(r) => r.channels(),
            Source::Vorbis(r) => r.channels(),
            Source::Media(r) => r.channels(),
        }
    }

    /// See [`decode`].
    pub(crate) fn read(self, start: u64, max_frames: Option<u64>) -> Result<Audio, AudioError> {
        let (sample_rate, channels) = (self.sample_rate(), self.channels());
        let path = self.path;
        let (audio, ended_before_start) = match self.source {
            Source::Au(mut r) => {
                let total = r.frames();
                (r.read(start, max_frames)?, (start > 0 && start >= total).then_some(total))
            }
            Source::Vorbis(r) => {
                let decoded = r.read(start, max_frames)?;
                (decoded.audio, decoded.span.ended_before_start)
            }
            Source::Media(r) => {
                let decoded = r.read(start, max_frames)?;
                (decoded.audio, decoded.span.ended_before_start)
            }
        };
        debug_assert_eq!((audio.sample_rate, audio.channels), (sample_rate, channels));
        check_not_empty(path, audio.samples.len() as u64, start, max_frames, ended_before_start)?;
        Ok(audio)
    }

    /// [`Self::read`] without keeping the samples: they go to `out` as they are decoded, whole
    /// frames at a time, so a long file costs no more memory than `out` keeps.
    pub(crate) fn read_into(self, start: u64, max_frames: Option<u64>, out: &mut dyn Sink) -> Result<(), AudioError> {
        let path = self.path;
        let mut counted = Counted { inner: out, samples: 0 };
        let ended_before_start = match self.source {
            Source::Au(mut r) => {
                let total = r.frames();
                r.read_into(start, max_frames, &mut counted)?;
                (start > 0 && start >= total).then_some(total)
            }
            Source::Vorbis(r) => r.read_into(start, max_frames, &mut counted)?.ended_before_start,
            Source::Media(r) => r.read_into(start, max_frames, &mut counted)?.ended_before_start,
        };
        check_not_empty(path, counted.samples, start, max_frames, ended_before_start)
    }
}

fn check_not_empty(
    path: &Path,
    samples: u64,
    start: u64,
    max_frames: Option<u64>,
    ended_before_start: Option<u64>,
) -> Result<(), AudioError> {
    if samples == 0 && max_frames != Some(0) {
        return Err(match ended_before_start {
            Some(frames) => AudioError::OffsetPastEnd { path: path.to_path_buf(), start, frames },
            None => AudioError::Empty { path: path.to_path_buf() },
        });
    }
    Ok(())
}

struct Counted<'a> {
    inner: &'a mut dyn Sink,
    samples: u64,
}

impl Sink for Counted<'_> {
    fn put(&mut self, samples: &[f32]) {
        self.samples += samples.len() as u64;
        self.inner.put(samples);
    }

    fn put_zeros(&mut self, count: usize) {
        self.samples += count as u64;
        self.inner.put_zeros(count);
    }
}

pub(crate) fn open(path: &Path) -> Result<Opened<'_>, AudioError> {
    Ok(Opened { path, source: open_source(path)? })
}

fn open_source(path: &Path) -> Result<Source, AudioError> {
    let mut file = File::open(path).map_err(|e| AudioError::io(path, e))?;
    let mut head = [0u8; HEAD_LEN];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]).map_err(|e| AudioError::io(path, e))? {
            0 => break,
            n => got += n,
        }
    }
    if got == 0 {
        return Err(AudioError::corrupt(path, "file is empty (0 bytes)"));
    }
    if is_au(&head[..got]) {
        Ok(Source::Au(AuReader::open(path)?))
    } else if is_ogg_vorbis(&head[..got]) {
        Ok(Source::Vorbis(Box::new(VorbisReader::open(path)?)))
    } else {
        Ok(Source::Media(MediaReader::open(path)?))
    }
}

/// Reads a file's header: sample rate, channels and (if known) length.
pub fn probe(path: impl AsRef<Path>) -> Result<AudioInfo, AudioError> {
    Ok(match open_source(path.as_ref())? {
        Source::Au(r) => {
            AudioInfo { sample_rate: r.sample_rate(), channels: r.channels(), frames: Some(r.frames()), codec: "au" }
        }
        Source::Vorbis(r) => {
            AudioInfo { sample_rate: r.sample_rate(), channels: r.channels(), frames: r.frames(), codec: "vorbis" }
        }
        Source::Media(r) => {
            AudioInfo { sample_rate: r.sample_rate(), channels: r.channels(), frames: r.frames(), codec: r.codec() }
        }
    })
}

/// Decodes frames `[start, start + max_frames)` at the native rate, all channels interleaved.
///
/// Seeks to `start` where the format allows instead of decoding from the beginning, and stops
/// decoding once `max_frames` frames are in hand (so a short excerpt of a long file is cheap).
/// Fewer frames come back if the file ends first.
///
/// Errors: [`AudioError::OffsetPastEnd`] if `start > 0` and the audio ends at or before it;
/// [`AudioError::Empty`] if nothing at all was decoded (unless `max_frames == Some(0)`).
pub fn decode(path: impl AsRef<Path>, start: u64, max_frames: Option<u64>) -> Result<Audio, AudioError> {
    open(path.as_ref())?.read(start, max_frames)
}

/// The exact length of a file's audio in frames, and its rate, found by decoding all of it
/// without keeping it (headers can lie; the reference asks ffprobe, which decodes too). Memory
/// does not grow with the file's length.
pub fn decoded_length(path: impl AsRef<Path>) -> Result<(u64, u32), AudioError> {
    struct Frames(u64, usize);
    impl Sink for Frames {
        fn put(&mut self, samples: &[f32]) {
            self.0 += (samples.len() / self.1) as u64;
        }
        fn put_zeros(&mut self, count: usize) {
            self.0 += (count / self.1) as u64;
        }
    }
    let opened = open(path.as_ref())?;
    let (rate, channels) = (opened.sample_rate(), opened.channels().max(1));
    let mut frames = Frames(0, channels);
    opened.read_into(0, None, &mut frames)?;
    Ok((frames.0, rate))
}
