//! A small labelled music set that jukemir synthesises itself, so the demo needs no download.
//!
//! Task: musical key (24 classes). Each clip plays a cadence (I–IV–V–I in major, i–iv–V–i in
//! harmonic minor) in its key with one of three timbres at a random tempo, with detuning, random
//! partial phases and a little noise. Everything is derived from a seed, so the set is identical
//! on every machine. It is SYNTHETIC: numbers measured on it say nothing about real music.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::f64::consts::PI;
use std::path::Path;

pub const PITCH_CLASSES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Major,
    Minor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timbre {
    /// Sustained, soft harmonics (1/k² amplitudes).
    Organ,
    /// Bright, all harmonics (1/k), sawtooth-like.
    Reed,
    /// Struck and decaying, upper partials dying faster.
    Pluck,
}

const TIMBRES: [Timbre; 3] = [Timbre::Organ, Timbre::Reed, Timbre::Pluck];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }
}

/// How to synthesise the set.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticKeys {
    /// Clips per key; variant `v` goes to train, valid or test by `v % 5` (3:1:1).
    pub variants_per_key: usize,
    pub seconds: f64,
    pub sample_rate: u32,
    pub seed: u64,
}

impl Default for SyntheticKeys {
    fn default() -> Self {
        SyntheticKeys { variants_per_key: 5, seconds: 4.0, sample_rate: 22050, seed: 0 }
    }
}

/// Everything about a clip but its audio.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipInfo {
    pub index: usize,
    pub uid: String,
    pub tonic: usize,
    pub mode: Mode,
    pub timbre: Timbre,
    pub bpm: f64,
    pub split: Split,
}

impl ClipInfo {
    /// The class label, e.g. `"F# minor"`.
    pub fn label(&self) -> String {
        key_label(self.tonic, self.mode)
    }
}

pub fn key_label(tonic: usize, mode: Mode) -> String {
    let mode = match mode {
        Mode::Major => "major",
        Mode::Minor => "minor",
    };
    format!("{} {mode}", PITCH_CLASSES[tonic % 12])
}

impl SyntheticKeys {
    pub fn len(&self) -> usize {
        24 * self.variants_per_key
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each clip draws from its own RNG stream, so clips can be rendered independently and in
    /// parallel.
    fn rng(&self, index: usize) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64);
        rng
    }

    fn draw_info(&self, index: usize, rng: &mut ChaCha8Rng) -> ClipInfo {
        let key = index / self.variants_per_key;
        let variant = index % self.variants_per_key;
        let (tonic, mode) = (key % 12, if key < 12 { Mode::Major } else { Mode::Minor });
        let timbre = TIMBRES[rng.random_range(0..TIMBRES.len())];
        let bpm = rng.random_range(72.0..144.0);
        let split = match variant % 5 {
            0..=2 => Split::Train,
            3 => Split::Valid,
            _ => Split::Test,
        };
        ClipInfo { index, uid: format!("synth{index:04}"), tonic, mode, timbre, bpm, split }
    }

    /// The `index`-th clip's description (0 ≤ index < len()).
    pub fn info(&self, index: usize) -> ClipInfo {
        self.draw_info(index, &mut self.rng(index))
    }

    /// The `index`-th clip's description and audio (mono, peak 0.8).
    pub fn render(&self, index: usize) -> (ClipInfo, Vec<f32>) {
        let mut rng = self.rng(index);
        let info = self.draw_info(index, &mut rng);
        let samples = render(info.tonic, info.mode, info.timbre, info.bpm, self.seconds, self.sample_rate, &mut rng);
        (info, samples)
    }

    /// Write the `index`-th clip to `<wav_dir>/<uid>.wav` (16-bit mono, written atomically).
    pub fn write_clip(&self, index: usize, wav_dir: &Path) -> anyhow::Result<()> {
        let (info, samples) = self.render(index);
        let path = wav_dir.join(format!("{}.wav", info.uid));
        jukemir_audio::write_wav_pcm16(&path, &jukemir_audio::Audio::mono(samples, self.sample_rate))?;
        Ok(())
    }

    /// The set's `meta.json`, in the layout of the reference's processed datasets
    /// (uid → split, y, extra).
    pub fn meta(&self) -> serde_json::Value {
        let mut meta = serde_json::Map::new();
        for index in 0..self.len() {
            let clip = self.info(index);
            meta.insert(
                clip.uid.clone(),
                json!({
                    "split": clip.split.as_str(),
                    "y": clip.label(),
                    "extra": {
                        "synthetic": true,
                        "timbre": format!("{:?}", clip.timbre).to_lowercase(),
                        "bpm": (clip.bpm * 10.0).round() / 10.0,
                        "uid": clip.uid,
                    },
                }),
            );
        }
        serde_json::Value::Object(meta)
    }

    /// Write `<dir>/wav/<uid>.wav` for every clip and `<dir>/meta.json`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let wav_dir = dir.join("wav");
        std::fs::create_dir_all(&wav_dir)?;
        for index in 0..self.len() {
            self.write_clip(index, &wav_dir)?;
        }
        std::fs::write(dir.join("meta.json"), serde_json::to_string_pretty(&self.meta())?)?;
        Ok(())
    }
}

/// Semitone offsets of the chord roots and whether each chord is minor.
fn cadence(mode: Mode) -> [(usize, bool); 4] {
    match mode {
        Mode::Major => [(0, false), (5, false), (7, false), (0, false)],
        Mode::Minor => [(0, true), (5, true), (7, false), (0, true)],
    }
}

fn render(tonic: usize, mode: Mode, timbre: Timbre, bpm: f64, seconds: f64, sr: u32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let sr_f = sr as f64;
    let n = (seconds * sr_f) as usize;
    let mut out = vec![0f64; n];
    let beat = 60.0 / bpm;
    let beats_per_chord = 2;
    let n_beats = (seconds / beat).ceil() as usize;
    for b in 0..n_beats {
        let (root_offset, minor) = cadence(mode)[(b / beats_per_chord) % 4];
        let root = 48 + (tonic + root_offset) % 12; // C3..B3
        let third = if minor { 3 } else { 4 };
        let notes = [root - 12, root, root + third, root + 7];
        let start = (b as f64 * beat * sr_f) as usize;
        let end = (((b + 1) as f64 * beat + 0.05) * sr_f).min(n as f64) as usize;
        for &midi in &notes {
            let detune_cents: f64 = rng.random_range(-4.0..4.0);
            let freq = 440.0 * 2f64.powf((midi as f64 - 69.0 + detune_cents / 100.0) / 12.0);
            let gain = if midi == notes[0] { 0.6 } else { 0.4 };
            add_note(&mut out[start..end], freq, gain, timbre, sr_f, rng);
        }
    }
    for v in out.iter_mut() {
        *v += rng.random_range(-0.002..0.002);
    }
    let peak = out.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-9);
    out.iter().map(|v| (0.8 * v / peak) as f32).collect()
}

fn add_note(out: &mut [f64], freq: f64, gain: f64, timbre: Timbre, sr: f64, rng: &mut ChaCha8Rng) {
    let nyquist = sr / 2.0;
    let attack = 0.01 * sr;
    for k in 1..=12 {
        let f = freq * k as f64;
        if f >= nyquist * 0.9 {
            break;
        }
        let kf = k as f64;
        let (amp, decay) = match timbre {
            Timbre::Organ => (1.0 / (kf * kf), 0.5),
            Timbre::Reed => (1.0 / kf, 1.5),
            Timbre::Pluck => (1.0 / kf, 3.0 + 1.5 * kf),
        };
        let phase: f64 = rng.random_range(0.0..2.0 * PI);
        let w = 2.0 * PI * f / sr;
        for (i, o) in out.iter_mut().enumerate() {
            let t = i as f64;
            let env = (t / attack).min(1.0) * (-decay * t / sr).exp();
            *o += gain * amp * env * (w * t + phase).sin();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_is_deterministic_and_balanced() {
        let set = SyntheticKeys { variants_per_key: 5, seconds: 0.5, ..Default::default() };
        assert_eq!(set.len(), 120);
        let (a, samples_a) = set.render(7);
        let (b, samples_b) = set.render(7);
        assert_eq!((a.clone(), samples_a.clone()), (b, samples_b));
        assert_eq!(a, set.info(7));
        assert_eq!(a.label(), "C# major");
        assert_eq!(set.info(12 * 5).label(), "C minor");
        let peak = samples_a.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.8).abs() < 1e-6);
        let train = (0..set.len()).filter(|&i| set.info(i).split == Split::Train).count();
        assert_eq!(train, 72);
    }

    #[test]
    fn energy_sits_on_the_key_pitch_classes() {
        // The tonic triad's pitch classes must carry more energy than the tritone away from the tonic.
        let set = SyntheticKeys { variants_per_key: 1, seconds: 1.0, ..Default::default() };
        let (_, samples) = set.render(0); // C major
        let energy_at = |freq: f64| {
            let (mut re, mut im) = (0.0, 0.0);
            for (i, &s) in samples.iter().enumerate() {
                let p = 2.0 * PI * freq * i as f64 / 22050.0;
                re += s as f64 * p.cos();
                im += s as f64 * p.sin();
            }
            re * re + im * im
        };
        assert!(energy_at(261.63) > 10.0 * energy_at(369.99)); // C4 vs F#4
    }
}
