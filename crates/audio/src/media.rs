//! Everything symphonia decodes for us: WAV (incl. WAVE_FORMAT_EXTENSIBLE), MP3, FLAC, and Ogg
//! streams that do not start with Vorbis (Ogg Vorbis itself goes to [`crate::vorbis`]).
//!
//! Gapless decoding is on (symphonia 0.6 then strips encoder delay and padding exactly as
//! mpg123/ffmpeg do), and sample values are symphonia's `f32` conversions, which for integer PCM
//! are the same `x / 2^(bits-1)` libsndfile uses.
//!
//! Positions: every decoded buffer's first frame sits at `packet.pts + packet.trim_start` on the
//! track's timeline (0 = first playable frame). We anchor on that after a seek and count frames
//! from there, which makes seeking exact regardless of where the demuxer landed.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::{Error as SymError, SeekErrorKind};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

use crate::sink::{span_buffer, Sink};
use crate::{Audio, AudioError};

/// Frames decoded before the requested start after a seek. Lossy decoders need the previous
/// frame(s) for overlap-add and the MP3 bit reservoir; with this margin the first kept sample is
/// what an uninterrupted decode would produce. Lossless formats merely decode a few ms extra.
const PREROLL_FRAMES: u64 = 4096;

pub(crate) struct MediaReader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    sample_rate: u32,
    channels: usize,
    frames: Option<u64>,
    codec: &'static str,
}

/// How decoding ended, so the caller can tell "empty" from "offset past the end".
pub(crate) struct Decoded {
    pub(crate) audio: Audio,
    pub(crate) span: Span,
}

/// What a read into a [`Sink`] tells besides the samples.
pub(crate) struct Span {
    /// `Some(length)` if the stream ended at or before a non-zero `start` (its length as best
    /// known: what was decoded, else the container's count).
    pub(crate) ended_before_start: Option<u64>,
    /// How many packets went through the decoder (tests check that spans are read cheaply).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) packets_decoded: u64,
}

impl MediaReader {
    pub(crate) fn open(path: &Path) -> Result<Self, AudioError> {
        let file = File::open(path).map_err(|e| AudioError::io(path, e))?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .map_err(|e| probe_error(path, e))?;
        let track =
            format.default_track(TrackType::Audio).ok_or_else(|| AudioError::unsupported(path, "no audio track"))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| AudioError::unsupported(path, "audio track without codec parameters"))?;
        let sample_rate = params
            .sample_rate
            .filter(|&r| r > 0)
            .ok_or_else(|| AudioError::corrupt(path, "missing or zero sample rate"))?;
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .filter(|&c| c > 0)
            .ok_or_else(|| AudioError::corrupt(path, "missing channel layout"))?;
        let (track_id, frames) = (track.id, track.num_frames);
        let opts = AudioDecoderOptions::default().gapless(true);
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &opts)
            .map_err(|e| AudioError::unsupported(path, format!("no decoder for this codec: {e}")))?;
        let codec = decoder.codec_info().short_name;
        Ok(MediaReader { path: path.to_path_buf(), format, decoder, track_id, sample_rate, channels, frames, codec })
    }

    pub(crate) fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    /// The container's frame count (estimated from the bitrate for MP3 without a Xing header).
    pub(crate) fn frames(&self) -> Option<u64> {
        self.frames
    }

    pub(crate) fn codec(&self) -> &'static str {
        self.codec
    }

    /// Decodes frames `[start, start + max_frames)`, seeking close to `start` first and stopping
    /// as soon as the span is complete.
    pub(crate) fn read(self, start: u64, max_frames: Option<u64>) -> Result<Decoded, AudioError> {
        let (sample_rate, channels) = (self.sample_rate, self.channels);
        let mut out = span_buffer(self.frames, start, max_frames, channels);
        let span = self.read_into(start, max_frames, &mut out)?;
        Ok(Decoded { audio: Audio { samples: out, sample_rate, channels }, span })
    }

    /// [`Self::read`], handing the samples to `out` as they are decoded.
    pub(crate) fn read_into(
        mut self,
        start: u64,
        max_frames: Option<u64>,
        out: &mut dyn Sink,
    ) -> Result<Span, AudioError> {
        let seek_to = start.saturating_sub(PREROLL_FRAMES);
        if seek_to == 0 {
            return self.decode_span(start, max_frames, None, out);
        }
        let to = SeekTo::Timestamp {
            ts: Timestamp::new(i64::try_from(seek_to).unwrap_or(i64::MAX)),
            track_id: self.track_id,
        };
        match self.format.seek(SeekMode::Accurate, to) {
            Ok(_) => {
                self.decoder.reset();
                self.decode_span(start, max_frames, Some(0), out)
            }
            // Only a real I/O failure is final. The container's length can be wrong (MP3 without
            // a Xing header, a cut file whose header promises more) and a seek can trip over a
            // damaged frame: then walk the packets from the start instead, skipping (not
            // decoding) those before the pre-roll, which is what a sequential reader would see.
            Err(SymError::IoError(e)) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                Err(AudioError::io(&self.path, e))
            }
            Err(_) => MediaReader::open(&self.path)?.decode_span(start, max_frames, Some(seek_to), out),
        }
    }

    /// The decode loop. `anchor: None` counts frames from the first decoded one (a stream read from
    /// its beginning, as libsndfile does); `Some(skip_until)` takes positions from packet
    /// timestamps instead (after a seek) and does not even decode packets that end at or before
    /// `skip_until`.
    fn decode_span(
        mut self,
        start: u64,
        max_frames: Option<u64>,
        anchor: Option<u64>,
        out: &mut dyn Sink,
    ) -> Result<Span, AudioError> {
        let want = max_frames.unwrap_or(u64::MAX);
        let end = start.saturating_add(want);
        let skip_until = anchor.unwrap_or(0);
        let mut scratch: Vec<f32> = Vec::new();
        // Timeline position of the next decoded frame; unknown until the first buffer after a seek.
        let mut pos: Option<u64> = if anchor.is_none() { Some(0) } else { None };
        let mut packets_decoded = 0;
        // Furthest timeline position any packet reached: the stream's length if nothing decodes.
        let mut seen_end = 0u64;
        let ch = self.channels;

        while pos.is_none_or(|p| p < end) {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) | Err(SymError::ResetRequired) => break,
                // A file cut short ends the stream; libsndfile also returns what was readable.
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(self.decode_error(pos.unwrap_or(skip_until), e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let pkt_end = packet.pts.get().saturating_add(packet.block_dur().get() as i64);
            let valid_end = packet.pts.get().saturating_add(packet.dur.get() as i64).max(0) as u64;
            seen_end = seen_end.max(valid_end.min(self.frames.unwrap_or(u64::MAX)));
            if skip_until > 0 && pkt_end <= skip_until as i64 {
                continue;
            }
            let in_preroll = pkt_end <= start as i64;
            packets_decoded += 1;
            let buf = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                // Garbage in the pre-roll cannot reach the output.
                Err(SymError::DecodeError(_)) if in_preroll => continue,
                Err(e) => {
                    let at = pos.unwrap_or_else(|| packet.pts.get().max(0) as u64);
                    return Err(decode_error(&self.path, self.sample_rate, at, e));
                }
            };
            let frames = buf.frames() as u64;
            if frames == 0 {
                continue;
            }
            if buf.num_planes() != ch {
                let at = pos.unwrap_or(0);
                return Err(decode_error(
                    &self.path,
                    self.sample_rate,
                    at,
                    SymError::DecodeError("channel count changed"),
                ));
            }
            let first = match pos {
                Some(p) => p,
                None => packet.pts.get().saturating_add(packet.trim_start.get() as i64).max(0) as u64,
            };
            let (lo, hi) = (first.max(start), (first + frames).min(end));
            if lo < hi {
                buf.copy_to_vec_interleaved(&mut scratch);
                let (a, b) = ((lo - first) as usize * ch, (hi - first) as usize * ch);
                out.put(&scratch[a..b]);
            }
            pos = Some(first + frames);
        }

        let ended_before_start = match pos {
            Some(p) => (start > 0 && p <= start).then_some(p),
            // Nothing decoded after the seek point, which lies before `start`.
            None => Some(seen_end.min(start)),
        };
        Ok(Span { ended_before_start, packets_decoded })
    }

    fn decode_error(&self, frame: u64, e: SymError) -> AudioError {
        decode_error(&self.path, self.sample_rate, frame, e)
    }
}

fn decode_error(path: &Path, sample_rate: u32, frame: u64, e: SymError) -> AudioError {
    match e {
        SymError::IoError(source) => AudioError::Io { path: path.to_path_buf(), source },
        e => AudioError::Decode {
            path: path.to_path_buf(),
            frame,
            seconds: frame as f64 / sample_rate as f64,
            reason: e.to_string(),
        },
    }
}

fn probe_error(path: &Path, e: SymError) -> AudioError {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::corrupt(path, "unrecognised format or truncated header (unexpected end of file)")
        }
        SymError::IoError(io) => AudioError::io(path, io),
        SymError::Unsupported(what) => AudioError::unsupported(path, what),
        SymError::SeekError(SeekErrorKind::Unseekable) => AudioError::unsupported(path, "stream is not seekable"),
        other => AudioError::corrupt(path, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn music(rel: &str) -> PathBuf {
        jukemir_test_support::music(rel)
    }

    const OGG: &str = "wesnoth/sad.ogg";
    const MP3: &str = "musicnn/TRWJAZW128F42760DD_test.mp3";

    #[test]
    fn seeking_equals_walking_the_packets() {
        for (rel, start) in [(OGG, 3 * 44100 + 17), (MP3, 5 * 22050 + 3)] {
            let seeked = MediaReader::open(&music(rel)).unwrap().read(start, Some(20000)).unwrap();
            let mut walked = Vec::new();
            MediaReader::open(&music(rel))
                .unwrap()
                .decode_span(start, Some(20000), Some(start - PREROLL_FRAMES), &mut walked)
                .unwrap();
            let mut from_zero = Vec::new();
            MediaReader::open(&music(rel)).unwrap().decode_span(start, Some(20000), None, &mut from_zero).unwrap();
            assert_eq!(seeked.audio.frames(), 20000, "{rel}");
            assert_eq!(seeked.audio.samples, walked, "{rel}: seek vs packet walk");
            assert_eq!(seeked.audio.samples, from_zero, "{rel}: seek vs decode from the start");
        }
    }

    #[test]
    fn a_short_span_of_a_long_file_decodes_few_packets() {
        // vengeful.ogg is several minutes long; 1 s at 60 s must touch only a few dozen packets.
        let r = MediaReader::open(&music("wesnoth/vengeful.ogg")).unwrap();
        let d = r.read(60 * 44100, Some(44100)).unwrap();
        assert_eq!(d.audio.frames(), 44100);
        assert!(d.span.packets_decoded < 100, "decoded {} packets", d.span.packets_decoded);
    }

    #[test]
    fn reading_past_the_end_reports_where_the_stream_ended() {
        let r = MediaReader::open(&music(MP3)).unwrap();
        let d = r.read(40 * 22050, Some(100)).unwrap();
        assert!(d.audio.is_empty());
        assert_eq!(d.span.ended_before_start, Some(660340));
    }
}
