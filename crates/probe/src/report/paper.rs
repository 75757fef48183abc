//! The paper's published test numbers (Castellon, Donahue & Liang, ISMIR 2021, Table 1), shown
//! beside measured rows.
//!
//! Only the values that could be checked against a published copy of the table from this
//! project's sandbox are listed (the Papers with Code results listing of arXiv 2107.05677:
//! <https://paperswithcode.com/paper/codified-audio-language-modeling-learns>); the rest are left
//! unknown rather than typed in from memory. Add a value only with a source you have read.

use super::Row;

/// Percentages as printed in the paper, in [`super::COLUMNS`] order.
const PUBLISHED: [(&str, [Option<f64>; 6]); 2] = [
    ("clmr", [None, None, Some(68.6), Some(14.9), Some(67.8), Some(45.8)]),
    ("jukebox", [None, None, Some(79.7), Some(66.7), Some(72.1), Some(61.7)]),
];

/// The paper's row for `representation` (as fractions), if it published any of its numbers.
pub fn row(representation: &str) -> Option<Row> {
    PUBLISHED.iter().find(|(name, _)| *name == representation).map(|(name, values)| Row {
        representation: name.to_string(),
        values: values.map(|v| v.map(|percent| percent / 100.0)),
    })
}

/// Where the numbers come from, for the report's footnote.
pub const SOURCE: &str = "paper: Castellon, Donahue & Liang (ISMIR 2021), Table 1, as listed by Papers with Code; \
                          values not verified here are left blank";
