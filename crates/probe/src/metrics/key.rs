//! `mir_eval.key.weighted_score` (mir_eval 0.7), the MIREX key score of giantsteps_clips.

use std::fmt;
use std::str::FromStr;

use super::MetricError;

/// The reference's giantsteps_clips class names, in class-index order.
pub const GIANTSTEPS_KEYS: [&str; 24] = [
    "C major", "Db major", "D major", "Eb major", "E major", "F major", "Gb major", "G major", "Ab major", "A major",
    "Bb major", "B major", "C minor", "Db minor", "D minor", "Eb minor", "E minor", "F minor", "Gb minor", "G minor",
    "Ab minor", "A minor", "Bb minor", "B minor",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Major,
    Minor,
    /// mir_eval accepts `other` for keys that are neither; it still earns fifth and parallel credit.
    Other,
}

/// A key as mir_eval parses it: `X` (uncategorised) or a tonic (semitones above C) and a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Unknown,
    Tonal { semitone: u8, mode: Mode },
}

/// mir_eval's KEY_TO_SEMITONE: sharps and flats only on the keys it lists (no `E#`, `Fb`, `Cb`, `B#`).
fn semitone(tonic_lower: &str) -> Option<u8> {
    Some(match tonic_lower {
        "c" => 0,
        "c#" | "db" => 1,
        "d" => 2,
        "d#" | "eb" => 3,
        "e" => 4,
        "f" => 5,
        "f#" | "gb" => 6,
        "g" => 7,
        "g#" | "ab" => 8,
        "a" => 9,
        "a#" | "bb" => 10,
        "b" => 11,
        _ => return None,
    })
}

/// Python's `str.split()` separators: Unicode whitespace plus the ASCII separators U+001C–U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

impl FromStr for Key {
    type Err = MetricError;

    /// `mir_eval.key.validate_key` then `split_key_string`: the tonic is case-insensitive, the
    /// mode is case-sensitive, and `X` stands alone (no surrounding whitespace).
    fn from_str(s: &str) -> Result<Self, MetricError> {
        let invalid = |reason| MetricError::InvalidKey { key: s.to_owned(), reason };
        if s.to_lowercase() == "x" {
            return Ok(Key::Unknown);
        }
        let tokens: Vec<&str> = s.split(is_py_space).filter(|t| !t.is_empty()).collect();
        let [tonic, mode] = tokens[..] else {
            return Err(invalid("not of the form '(key) (mode)' or 'X'"));
        };
        let tonic = tonic.to_lowercase();
        if tonic == "x" {
            return Err(invalid("'X' (uncategorised) has no mode"));
        }
        let semitone = semitone(&tonic).ok_or_else(|| invalid("unknown tonic; should be e.g. D, C# or Eb"))?;
        let mode = match mode {
            "major" => Mode::Major,
            "minor" => Mode::Minor,
            "other" => Mode::Other,
            _ => return Err(invalid("mode must be 'major', 'minor' or 'other'")),
        };
        Ok(Key::Tonal { semitone, mode })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 12] = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"];
        match self {
            Key::Unknown => f.write_str("X"),
            Key::Tonal { semitone, mode } => {
                let mode = match mode {
                    Mode::Major => "major",
                    Mode::Minor => "minor",
                    Mode::Other => "other",
                };
                write!(f, "{} {mode}", NAMES[usize::from(*semitone)])
            }
        }
    }
}

impl Key {
    /// The weighted score of `estimate` against `self` (the reference), in mir_eval's rule order:
    /// same key 1.0; estimate a perfect fifth *above* the reference in the same mode 0.5; relative
    /// key 0.3 (estimate 9 semitones up from a major reference, or 3 up from a minor one, in any
    /// other mode); parallel key 0.2; otherwise 0.
    pub fn weighted_score(self, estimate: Key) -> f64 {
        let (Key::Tonal { semitone: r, mode: rm }, Key::Tonal { semitone: e, mode: em }) = (self, estimate) else {
            return if self == estimate { 1.0 } else { 0.0 };
        };
        let up = (e + 12 - r) % 12;
        if up == 0 && rm == em {
            1.0
        } else if rm == em && up == 7 {
            0.5
        } else if em != rm && ((rm == Mode::Major && up == 9) || (rm == Mode::Minor && up == 3)) {
            0.3
        } else if em != rm && up == 0 {
            0.2
        } else {
            0.0
        }
    }
}

/// `mir_eval.key.weighted_score(reference, estimate)` on key strings such as `"Db major"`.
pub fn key_weighted_score(reference: &str, estimate: &str) -> Result<f64, MetricError> {
    let reference: Key = reference.parse()?;
    let estimate: Key = estimate.parse()?;
    Ok(reference.weighted_score(estimate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifth_is_directional_and_enharmonics_agree() {
        assert_eq!(key_weighted_score("C major", "G major").unwrap(), 0.5);
        assert_eq!(key_weighted_score("G major", "C major").unwrap(), 0.0);
        assert_eq!(key_weighted_score("C# minor", "db minor").unwrap(), 1.0);
        assert_eq!(key_weighted_score("C major", "A minor").unwrap(), 0.3);
        assert_eq!(key_weighted_score("A minor", "C major").unwrap(), 0.3);
        assert_eq!(key_weighted_score("C major", "C minor").unwrap(), 0.2);
        assert!(key_weighted_score("C Major", "C major").is_err());
        for name in GIANTSTEPS_KEYS {
            assert_eq!(name.parse::<Key>().unwrap().to_string(), name);
        }
    }
}
