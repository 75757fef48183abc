//! Ogg Vorbis, decoded with lewton and driven the way libsndfile 1.2.2 drives libvorbis (what
//! `librosa.load` saw), rather than with symphonia.
//!
//! Why not symphonia: its Ogg demuxer (0.6.1) mistimes the first audio page of streams whose first
//! audio packet shares the last header page (out of spec but found in the wild: 4 of the 11 Wesnoth
//! tracks): it keeps the 128 lapped frames of the second packet that libvorbis discards and cuts 128
//! frames off the end of the page instead, so the whole first page comes out 128 frames late
//! (errors up to 0.2 on love_theme.ogg). libsndfile also stops at the first end-of-stream page, where
//! symphonia reads on through pages appended after it.
//!
//! What is reproduced from libsndfile/libvorbis:
//! * packets left on the last header page are dropped (lewton's `read_headers` does the same);
//! * the first audio packet only primes the decoder; each later one returns the frames from the
//!   centre of the previous block to the centre of its own (`blocksize/4 + blocksize/4`);
//! * `vorbis_synthesis_blockin`'s granule bookkeeping: a first page that holds more frames than
//!   its granule position trims the excess at the start, and the end-of-stream packet is cut to its
//!   page's granule position;
//! * decoding stops after the first end-of-stream page of the stream, and ignores other streams;
//! * `frames` is libsndfile's `pcm_end - pcm_start` (last page's granule position minus the
//!   first sample's).
//!
//! lewton returns each packet's frames up to where its block's right window starts, which differs
//! from libvorbis's centre-to-centre split after a long block followed by a short one. The frames
//! are therefore kept in a small buffer indexed by stream position and handed out as libvorbis
//! would, so trimming and positions are exact. (One corner case cannot be reproduced: a stream
//! whose very first block is long and followed by a short one; libvorbis returns the first block's
//! flat part, which lewton discards. Those at most `(long - short) / 4` frames come out as zeros.)
//!
//! Spans: pages that end before the requested start are read but not decoded; decoding resumes
//! with the two packets before the first needed one, so every output frame is computed from exactly
//! the same packets as in a decode from the beginning.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use lewton::audio::{get_decoded_sample_count, read_audio_packet_generic, AudioReadError, PreviousWindowRight};
use lewton::header::{
    read_header_comment, read_header_ident, read_header_setup, HeaderReadError, IdentHeader, SetupHeader,
};
use lewton::samples::InterleavedSamples;
use lewton::VorbisError;
use ogg::{OggReadError, Packet, PacketReader};

use crate::media::{Decoded, Span};
use crate::sink::{span_buffer, Sink};
use crate::{Audio, AudioError};

/// Bytes of a file's start that [`is_ogg_vorbis`] needs at most (page header, the largest segment
/// table, the packet's 7-byte signature).
pub(crate) const HEAD_LEN: usize = 27 + 255 + 7;

/// Granule position meaning "no packet ends on this page".
const NO_GRANULE: u64 = u64::MAX;

/// Whether `head` (the file's first bytes) is an Ogg page whose first packet is a Vorbis
/// identification header.
pub(crate) fn is_ogg_vorbis(head: &[u8]) -> bool {
    if !head.starts_with(b"OggS") || head.len() < 27 {
        return false;
    }
    let body = 27 + usize::from(head[26]);
    head.get(body..).is_some_and(|b| b.starts_with(b"\x01vorbis"))
}

pub(crate) struct VorbisReader {
    path: PathBuf,
    packets: PacketReader<BufReader<File>>,
    ident: IdentHeader,
    setup: SetupHeader,
    serial: u32,
    /// Packets already read by `open` (the first audio page), handed out again first.
    lookahead: VecDeque<Packet>,
    /// libsndfile's `pcm_start`: granule position of the first returned frame, if known.
    pcm_start: Option<u64>,
    frames: Option<u64>,
}

impl VorbisReader {
    pub(crate) fn open(path: &Path) -> Result<Self, AudioError> {
        let file = File::open(path).map_err(|e| AudioError::io(path, e))?;
        // A second handle: a cloned one would share (and move) the packet reader's file position.
        let mut tail = File::open(path).map_err(|e| AudioError::io(path, e))?;
        let mut packets = PacketReader::new(BufReader::new(file));
        let ((ident, setup), serial) = read_headers(&mut packets).map_err(|e| header_error(path, e))?;
        if ident.audio_channels == 0 || ident.audio_sample_rate == 0 {
            return Err(AudioError::corrupt(path, "Vorbis header with no channels or a zero sample rate"));
        }
        let mut reader = VorbisReader {
            path: path.to_path_buf(),
            packets,
            ident,
            setup,
            serial,
            lookahead: VecDeque::new(),
            pcm_start: None,
            frames: None,
        };
        reader.pcm_start = reader.first_page_start()?;
        let pcm_end = last_granule(&mut tail, serial).map_err(|e| AudioError::io(path, e))?;
        reader.frames = pcm_end.zip(reader.pcm_start).and_then(|(end, start)| end.checked_sub(start));
        Ok(reader)
    }

    pub(crate) fn sample_rate(&self) -> u32 {
        self.ident.audio_sample_rate
    }

    pub(crate) fn channels(&self) -> usize {
        usize::from(self.ident.audio_channels)
    }

    /// libsndfile's frame count: last page's granule position minus the first frame's.
    pub(crate) fn frames(&self) -> Option<u64> {
        self.frames
    }

    /// Reads the first audio page into `lookahead` and returns the granule position of the first
    /// frame: the page's granule position minus the frames its packets decode to, as libsndfile's
    /// `vorbis_calculate_granulepos` computes it.
    fn first_page_start(&mut self) -> Result<Option<u64>, AudioError> {
        let granule = loop {
            let packet = match self.read_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.ogg_error(0, e)),
            };
            let done = packet.last_in_page() || packet.last_in_stream();
            let granule = packet.absgp_page();
            self.lookahead.push_back(packet);
            if done {
                break granule;
            }
        };
        if granule == NO_GRANULE {
            return Ok(None);
        }
        // Block sizes are only known for packets lewton accepts, so decode the page once.
        let mut pwr = PreviousWindowRight::new();
        let (mut frames, mut last_block) = (0u64, None);
        for packet in self.lookahead.iter().filter(|p| is_audio(&p.data)) {
            if self.decode(&mut pwr, &packet.data).is_err() {
                return Ok(None);
            }
            let block = match self.block_size(&packet.data) {
                Ok(b) => b,
                Err(_) => return Ok(None),
            };
            if let Some(last) = last_block {
                frames += (last + block) / 4;
            }
            last_block = Some(block);
        }
        Ok(Some(granule.saturating_sub(frames)))
    }

    /// The next packet of our stream; `None` at the end of the file (including a file cut short
    /// or trailing junk, where libsndfile also stops).
    fn next_packet(&mut self) -> Result<Option<Packet>, OggReadError> {
        match self.lookahead.pop_front() {
            Some(p) => Ok(Some(p)),
            None => self.read_packet(),
        }
    }

    /// [`Self::next_packet`] straight from the file.
    fn read_packet(&mut self) -> Result<Option<Packet>, OggReadError> {
        loop {
            match self.packets.read_packet() {
                Ok(Some(p)) if p.stream_serial() == self.serial => return Ok(Some(p)),
                Ok(Some(_)) => continue,
                Ok(None) | Err(OggReadError::NoCapturePatternFound) => return Ok(None),
                Err(OggReadError::ReadError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    fn decode(&self, pwr: &mut PreviousWindowRight, data: &[u8]) -> Result<Vec<f32>, AudioReadError> {
        read_audio_packet_generic::<InterleavedSamples<f32>>(&self.ident, &self.setup, data, pwr).map(|s| s.samples)
    }

    /// Block size (frames) of a packet. Only call it on a packet lewton has decoded: this lewton
    /// function indexes the mode table without checking the mode number.
    fn block_size(&self, data: &[u8]) -> Result<u64, AudioReadError> {
        let count = get_decoded_sample_count(&self.ident, &self.setup, data)? as u64;
        let (short, long) = self.block_sizes();
        // A short block always spans short/2 frames; a long one at least (long + short)/4.
        Ok(if count == short / 2 { short } else { long })
    }

    fn block_sizes(&self) -> (u64, u64) {
        (1 << self.ident.blocksize_0, 1 << self.ident.blocksize_1)
    }

    /// Decodes frames `[start, start + max_frames)` (fewer if the stream ends first).
    pub(crate) fn read(self, start: u64, max_frames: Option<u64>) -> Result<Decoded, AudioError> {
        let (sample_rate, channels) = (self.sample_rate(), self.channels());
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
        let ch = self.channels();
        let end = start.saturating_add(max_frames.unwrap_or(u64::MAX));
        let mut lap = Lapped::default();
        let mut granule = Granule::default();
        // The last two audio packets, to restart the decoder after skipped pages.
        let mut recent: VecDeque<Vec<u8>> = VecDeque::with_capacity(3);
        // Block size of the previous packet while decoding runs on without a gap.
        let mut prev_block: Option<u64> = None;
        let mut stream_started = false;
        // `raw`: stream position (libvorbis's, before trims) of the next packet's first frame;
        // `pos`: the same point in output frames (after trims), what `start` and `end` refer to.
        let (mut raw, mut pos) = (0u64, 0u64);
        let mut packets_decoded = 0u64;

        while pos < end {
            let packet = match self.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => return Err(self.ogg_error(pos, e)),
            };
            let eos = packet.last_in_stream();
            let page_granule = Some(packet.absgp_page()).filter(|&g| g != NO_GRANULE);
            let granule_pos = page_granule.filter(|_| packet.last_in_page() || eos);
            if !is_audio(&packet.data) {
                // libvorbis rejects it (not an audio packet) and libsndfile moves on.
                if eos {
                    break;
                }
                continue;
            }

            // A page ending before `start` (past the first page, whose granule fixes positions):
            // read, not decoded; positions follow its granule position, as in libsndfile's seek.
            if let (Some(pcm_start), Some(page_end), Some(_)) = (self.pcm_start, page_granule, granule.pos) {
                let page_end_pos = page_end.saturating_sub(pcm_start);
                if page_end_pos <= start {
                    push_recent(&mut recent, packet.data);
                    lap.running = false;
                    prev_block = None;
                    stream_started = true;
                    if granule_pos.is_some() {
                        (raw, pos) = (page_end_pos, page_end_pos);
                        granule.pos = i64::try_from(page_end).ok();
                    }
                    if eos {
                        break;
                    }
                    continue;
                }
            }

            // (Re)start the decoder on the packets before this one, then decode it.
            let mut primed: Vec<u64> = Vec::new();
            if !lap.running {
                lap.restart();
                for data in recent.iter() {
                    packets_decoded += 1;
                    match self.decode(&mut lap.pwr, data).and_then(|s| Ok((s, self.block_size(data)?))) {
                        Ok((samples, block)) => {
                            lap.pending.extend(samples);
                            primed.push(block);
                        }
                        // Garbage before the span: start afresh after it.
                        Err(_) => {
                            lap.restart();
                            primed.clear();
                        }
                    }
                }
                if primed.is_empty() && stream_started {
                    prev_block = None;
                } else if let Some(&last) = primed.last() {
                    prev_block = Some(last);
                }
            }
            packets_decoded += 1;
            let decoded = self.decode(&mut lap.pwr, &packet.data).and_then(|s| Ok((s, self.block_size(&packet.data)?)));
            let (samples, block) = match decoded {
                Ok(d) => d,
                Err(e) => return Err(self.decode_error(pos, &format!("Vorbis packet: {e}"))),
            };

            // libvorbis's frame count for this packet: 0 for the stream's first, else centre to centre.
            let frames = match prev_block {
                Some(prev) => (prev + block) / 4,
                None if !stream_started => 0,
                // The previous packet could not be decoded: trust the packet's own window flags.
                None => get_decoded_sample_count(&self.ident, &self.setup, &packet.data).unwrap_or(0) as u64,
            };

            // Where lewton's output stream starts, once enough block sizes are known.
            if !lap.running {
                lap.running = true;
                let lead = self.lead_after(primed.first().copied(), primed.get(1).copied().or(Some(block)));
                lap.origin = if primed.is_empty() {
                    Origin::Deferred { stream_pos: raw + frames, block }
                } else {
                    // Position of the first primed packet's end, walking back from `raw`.
                    let mut end_of_first = raw;
                    for pair in primed.windows(2).rev() {
                        end_of_first = end_of_first.saturating_sub((pair[0] + pair[1]) / 4);
                    }
                    Origin::Known(end_of_first + lead)
                };
            } else if let Origin::Deferred { stream_pos, block: first } = lap.origin {
                lap.origin = Origin::Known(stream_pos + self.lead_after(Some(first), Some(block)));
            }
            lap.pending.extend(samples);

            let (trim_start, trim_end) = granule.trims(frames, granule_pos, eos);
            let kept = frames - trim_start - trim_end;
            let (lo, hi) = (pos.max(start), (pos + kept).min(end));
            if lo < hi {
                lap.copy_out(raw + trim_start + (lo - pos), hi - lo, ch, out);
            }
            lap.discard_before(raw + frames, ch);
            push_recent(&mut recent, packet.data);
            raw += frames;
            pos += kept;
            prev_block = Some(block);
            stream_started = true;
            if eos {
                break;
            }
        }

        let ended_before_start = (start > 0 && pos <= start).then_some(pos);
        Ok(Span { ended_before_start, packets_decoded })
    }

    /// Frames lewton returns early for a block (`first`) compared with libvorbis: after a long
    /// block followed by a short one, lewton hands out the long block's flat part with it.
    fn lead_after(&self, first: Option<u64>, next: Option<u64>) -> u64 {
        let (short, long) = self.block_sizes();
        match (first, next) {
            (Some(a), Some(b)) if a == long && b == short && long > short => (long - short) / 4,
            _ => 0,
        }
    }

    fn ogg_error(&self, frame: u64, e: OggReadError) -> AudioError {
        match e {
            OggReadError::ReadError(source) => AudioError::Io { path: self.path.clone(), source },
            e => self.decode_error(frame, &format!("Ogg: {e}")),
        }
    }

    fn decode_error(&self, frame: u64, reason: &str) -> AudioError {
        AudioError::Decode {
            path: self.path.clone(),
            frame,
            seconds: frame as f64 / f64::from(self.sample_rate()),
            reason: reason.to_string(),
        }
    }
}

/// lewton's `inside_ogg::read_headers`, with the comment header's lengths checked against its
/// packet first: lewton allocates `vec![0; vendor_length]` and `Vec::with_capacity(comment_count)`
/// from `u32`s read from the file (a flipped bit asked for 80 GB). The comments are not kept.
fn read_headers<R: Read + Seek>(
    packets: &mut PacketReader<R>,
) -> Result<((IdentHeader, SetupHeader), u32), VorbisError> {
    let packet = packets.read_packet_expected()?;
    let ident = read_header_ident(&packet.data)?;
    let serial = packet.stream_serial();
    let next = |packets: &mut PacketReader<R>| -> Result<Packet, VorbisError> {
        loop {
            let packet = packets.read_packet_expected()?;
            if packet.stream_serial() == serial {
                return Ok(packet);
            }
        }
    };
    let comments = next(packets)?;
    if !comment_lengths_fit(&comments.data) {
        return Err(VorbisError::BadHeader(HeaderReadError::HeaderBadFormat));
    }
    read_header_comment(&comments.data)?;
    let setup = next(packets)?;
    let setup_header = read_header_setup(&setup.data, ident.audio_channels, (ident.blocksize_0, ident.blocksize_1))?;
    packets.delete_unread_packets();
    Ok(((ident, setup_header), setup.stream_serial()))
}

/// Whether every length in a comment header (`\x03vorbis`, vendor length and string, comment
/// count, each comment's length and string) lies inside the packet. Other packets pass, for
/// lewton to reject.
fn comment_lengths_fit(data: &[u8]) -> bool {
    if !data.starts_with(b"\x03vorbis") {
        return true;
    }
    let mut pos = 7usize;
    let u32_at = |pos: &mut usize| -> Option<usize> {
        let b = data.get(*pos..pos.checked_add(4)?)?;
        *pos += 4;
        usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok()
    };
    let skip = |pos: &mut usize, n: usize| -> Option<()> {
        *pos = pos.checked_add(n).filter(|&end| end <= data.len())?;
        Some(())
    };
    (|| {
        let vendor = u32_at(&mut pos)?;
        skip(&mut pos, vendor)?;
        let count = u32_at(&mut pos)?;
        // Each comment takes at least its 4-byte length.
        if count > (data.len() - pos) / 4 {
            return None;
        }
        for _ in 0..count {
            let len = u32_at(&mut pos)?;
            skip(&mut pos, len)?;
        }
        Some(())
    })()
    .is_some()
}

/// Whether libvorbis would take the packet as audio (non-empty, packet-type bit clear).
fn is_audio(data: &[u8]) -> bool {
    data.first().is_some_and(|b| b & 1 == 0)
}

fn push_recent(recent: &mut VecDeque<Vec<u8>>, data: Vec<u8>) {
    if recent.len() == 2 {
        recent.pop_front();
    }
    recent.push_back(data);
}

fn header_error(path: &Path, e: VorbisError) -> AudioError {
    match e {
        VorbisError::OggError(OggReadError::ReadError(io)) if io.kind() != std::io::ErrorKind::UnexpectedEof => {
            AudioError::io(path, io)
        }
        VorbisError::OggError(OggReadError::ReadError(_)) => {
            AudioError::corrupt(path, "Ogg Vorbis file ends inside its headers")
        }
        VorbisError::OggError(e) => AudioError::corrupt(path, format!("Ogg: {e}")),
        VorbisError::BadHeader(e) => AudioError::corrupt(path, format!("Vorbis header: {e}")),
        VorbisError::BadAudio(e) => AudioError::corrupt(path, format!("Vorbis: {e}")),
    }
}

/// Where lewton's output, buffered in `pending`, sits in the stream.
#[derive(Clone, Copy)]
enum Origin {
    /// `pending[0]` is the frame at this stream position.
    Known(u64),
    /// Only one packet decoded since the restart (no output yet): its end position and block
    /// size; the start of the output depends on the next block's size.
    Deferred { stream_pos: u64, block: u64 },
}

/// The lewton decoder and the frames it has returned that libvorbis would not have returned yet.
struct Lapped {
    pwr: PreviousWindowRight,
    running: bool,
    pending: Vec<f32>,
    origin: Origin,
}

impl Default for Lapped {
    fn default() -> Self {
        Lapped { pwr: PreviousWindowRight::new(), running: false, pending: Vec::new(), origin: Origin::Known(0) }
    }
}

impl Lapped {
    fn restart(&mut self) {
        self.pwr = PreviousWindowRight::new();
        self.pending.clear();
        self.running = false;
    }

    /// Appends `count` frames from stream position `from`; frames lewton never produced (see the
    /// module docs) are zeros.
    fn copy_out(&self, from: u64, count: u64, ch: usize, out: &mut dyn Sink) {
        let Origin::Known(at) = self.origin else {
            out.put_zeros(count as usize * ch);
            return;
        };
        let (to, have) = (from + count, (self.pending.len() / ch) as u64);
        let lo = from.max(at).min(to);
        let hi = to.min(at + have).max(lo);
        out.put_zeros((lo - from) as usize * ch);
        if hi > lo {
            out.put(&self.pending[(lo - at) as usize * ch..(hi - at) as usize * ch]);
        }
        out.put_zeros((to - hi) as usize * ch);
    }

    /// Drops buffered frames before stream position `to`.
    fn discard_before(&mut self, to: u64, ch: usize) {
        if let Origin::Known(at) = self.origin {
            let drop = to.saturating_sub(at).min((self.pending.len() / ch) as u64);
            self.pending.drain(..drop as usize * ch);
            self.origin = Origin::Known(at + drop);
        }
    }
}

/// `vorbis_synthesis_blockin`'s granule-position bookkeeping.
#[derive(Default)]
struct Granule {
    /// Frames returned since the start (`sample_count`).
    count: i64,
    /// Granule position of the last returned frame, once a page has given one (`granulepos`).
    pos: Option<i64>,
}

impl Granule {
    /// Frames to drop at the start and at the end of a packet's `frames`, given the granule
    /// position of its page if it is the last packet ending there.
    fn trims(&mut self, frames: u64, granule: Option<u64>, eos: bool) -> (u64, u64) {
        let n = frames as i64;
        let granule = granule.and_then(|g| i64::try_from(g).ok());
        self.count += n;
        let (mut start, mut end) = (0, 0);
        match (self.pos, granule) {
            (None, Some(g)) => {
                // The first granule position: a page holding more frames than it says is short.
                let extra = (self.count - g).clamp(0, n);
                if eos {
                    end = extra;
                } else {
                    start = extra;
                }
                self.pos = Some(g);
            }
            (None, None) => {}
            (Some(p), g) => {
                let p = p + n;
                self.pos = Some(match g {
                    Some(g) => {
                        if eos && p > g {
                            end = (p - g).min(n);
                        }
                        g
                    }
                    None => p,
                });
            }
        }
        (start as u64, end as u64)
    }
}

/// Granule position of the stream's last page (libsndfile's `pcm_end`), from the file's tail.
fn last_granule(file: &mut File, serial: u32) -> std::io::Result<Option<u64>> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut chunk = 1u64 << 16;
    loop {
        let begin = len.saturating_sub(chunk);
        file.seek(SeekFrom::Start(begin))?;
        let mut buf = Vec::with_capacity((len - begin) as usize);
        file.by_ref().take(len - begin).read_to_end(&mut buf)?;
        let mut found = None;
        let mut i = 0;
        while let Some(off) = find(&buf[i..], b"OggS") {
            let at = i + off;
            match parse_page(&buf[at..]) {
                Some((page_serial, granule, page_len)) => {
                    if page_serial == serial && granule != NO_GRANULE {
                        found = Some(granule);
                    }
                    i = at + page_len;
                }
                None => i = at + 1,
            }
        }
        if found.is_some() || begin == 0 {
            return Ok(found);
        }
        chunk *= 4;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `(serial, granule position, page length)` of a whole, checksum-valid page at the start of `buf`.
fn parse_page(buf: &[u8]) -> Option<(u32, u64, usize)> {
    if buf.len() < 27 || buf[4] != 0 {
        return None;
    }
    let segments = usize::from(buf[26]);
    let body: usize = buf.get(27..27 + segments)?.iter().map(|&s| usize::from(s)).sum();
    let page_len = 27 + segments + body;
    let page = buf.get(..page_len)?;
    let stored = u32::from_le_bytes(page[22..26].try_into().ok()?);
    let crc = [&page[..22], &[0; 4], &page[26..]].iter().fold(0, |crc, part| ogg_crc(crc, part));
    if crc != stored {
        return None;
    }
    let granule = u64::from_le_bytes(page[6..14].try_into().ok()?);
    let serial = u32::from_le_bytes(page[14..18].try_into().ok()?);
    Some((serial, granule, page_len))
}

/// The Ogg page checksum (CRC-32, polynomial 0x04c11db7, no reflection, zero initial value).
fn ogg_crc(mut crc: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut r = (i as u32) << 24;
            let mut bit = 0;
            while bit < 8 {
                r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04c1_1db7 } else { r << 1 };
                bit += 1;
            }
            table[i] = r;
            i += 1;
        }
        table
    };
    for &b in data {
        crc = (crc << 8) ^ TABLE[usize::from((crc >> 24) as u8 ^ b)];
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn music(rel: &str) -> PathBuf {
        jukemir_test_support::music(rel)
    }

    fn whole(rel: &str) -> Audio {
        VorbisReader::open(&music(rel)).unwrap().read(0, None).unwrap().audio
    }

    #[test]
    fn spans_equal_slices_of_the_whole_decode() {
        // sad.ogg: first audio packet on the header page; northerners.ogg: pages after the
        // end-of-stream page; frantic-old.ogg: short blocks throughout.
        for rel in ["wesnoth/sad.ogg", "wesnoth/northerners.ogg", "wesnoth/frantic-old.ogg"] {
            let all = whole(rel);
            let n = all.frames() as u64;
            for (start, len) in [(0, 3000), (17, 5000), (44_000, 4000), (3 * 44_100 + 17, 20_000), (n - 1000, 5000)] {
                let span = VorbisReader::open(&music(rel)).unwrap().read(start, Some(len)).unwrap();
                let (a, b) = (start as usize * 2, (start + len).min(n) as usize * 2);
                assert_eq!(span.audio.samples, all.samples[a..b], "{rel} at {start}");
            }
        }
    }

    #[test]
    fn a_short_span_of_a_long_file_decodes_few_packets() {
        // vengeful.ogg is several minutes long; 1 s at 60 s must decode only a few dozen packets.
        let d = VorbisReader::open(&music("wesnoth/vengeful.ogg")).unwrap().read(60 * 44100, Some(44100)).unwrap();
        assert_eq!(d.audio.frames(), 44100);
        assert!(d.span.packets_decoded < 100, "decoded {} packets", d.span.packets_decoded);
    }

    #[test]
    fn reading_past_the_end_reports_where_the_stream_ended() {
        // libsndfile stops at northerners.ogg's first end-of-stream page (granule 9129710).
        let d = VorbisReader::open(&music("wesnoth/northerners.ogg")).unwrap().read(9_200_000, Some(100)).unwrap();
        assert!(d.audio.is_empty());
        assert_eq!(d.span.ended_before_start, Some(9_129_710));
    }

    #[test]
    fn granule_bookkeeping_trims_like_libvorbis() {
        // A first page holding 100 frames more than its granule position: trimmed at the start.
        let mut g = Granule::default();
        assert_eq!(g.trims(0, None, false), (0, 0));
        assert_eq!(g.trims(576, None, false), (0, 0));
        assert_eq!(g.trims(1024, Some(1500), false), (100, 0));
        // The end-of-stream packet is cut to its granule position (1500 + 1024 + 1024 = 3548).
        assert_eq!(g.trims(1024, None, false), (0, 0));
        assert_eq!(g.trims(1024, Some(3100), true), (0, 448));
        // A single-page stream: the excess is padding at the end.
        let mut g = Granule::default();
        g.trims(0, None, false);
        assert_eq!(g.trims(1024, Some(1000), true), (0, 24));
    }

    #[test]
    fn ogg_crc_matches_a_real_page() {
        let bytes = std::fs::read(music("wesnoth/defeat.ogg")).unwrap();
        let (serial, granule, len) = parse_page(&bytes).unwrap();
        assert_eq!((granule, len), (0, 58));
        assert_eq!(serial, u32::from_le_bytes(bytes[14..18].try_into().unwrap()));
        assert!(is_ogg_vorbis(&bytes[..HEAD_LEN]));
        assert!(!is_ogg_vorbis(b"OggS"));
    }
}
