//! Python behaviour the reference's text handling relies on: CPython's `csv` reader and
//! `DictReader`, `str.strip`/`split`, `int`/`float`, `zfill`, text-mode reading, and sha1 modulo.
//! Every processor reads its CSVs through this one module.

use anyhow::{bail, Context};
use sha1::{Digest, Sha1};

/// A `csv.DictReader` row, in header order (the reference iterates rows, e.g. MagnaTagATune's tag
/// columns, in that order): `None` where the line had fewer fields than the header; a repeated
/// header name keeps its first position and its last value, as a `dict` does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    fields: Vec<(String, Option<String>)>,
}

impl Row {
    pub fn get(&self, key: &str) -> Option<&Option<String>> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Option<String>)> {
        self.fields.iter().map(|(k, v)| (k, v))
    }

    fn insert(&mut self, key: String, value: Option<String>) {
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key, value)),
        }
    }
}

impl std::ops::Index<&str> for Row {
    type Output = Option<String>;

    fn index(&self, key: &str) -> &Option<String> {
        self.get(key).unwrap_or_else(|| panic!("no column {key:?}"))
    }
}

impl<const N: usize> From<[(String, Option<String>); N]> for Row {
    fn from(pairs: [(String, Option<String>); N]) -> Self {
        let mut row = Row::default();
        pairs.into_iter().for_each(|(k, v)| row.insert(k, v));
        row
    }
}

/// `str.isspace` for one character: Unicode White_Space plus the ASCII separators 0x1c–0x1f.
pub fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

/// `str.split()` without arguments.
pub fn py_split(s: &str) -> Vec<&str> {
    s.split(py_space).filter(|w| !w.is_empty()).collect()
}

pub fn py_int(s: &str) -> anyhow::Result<i64> {
    py_strip(s).parse().with_context(|| format!("{s:?} is not an integer"))
}

pub fn py_float(s: &str) -> anyhow::Result<f64> {
    py_strip(s).parse().with_context(|| format!("{s:?} is not a number"))
}

/// `str(n).zfill(width)`.
pub fn zfill(n: i64, width: usize) -> String {
    if n < 0 {
        format!("-{:0>w$}", n.unsigned_abs(), w = width.saturating_sub(1))
    } else {
        format!("{n:0>width$}")
    }
}

/// `int(sha1(bytes).hexdigest(), 16) % m`, exactly (the digest is a 160-bit big-endian number).
pub fn sha1_mod(bytes: &[u8], m: u64) -> u64 {
    Sha1::digest(bytes).iter().fold(0u64, |rem, &b| ((rem << 8) | b as u64) % m)
}

/// A file as Python's text mode reads it: UTF-8 with universal newlines.
pub fn read_text(bytes: Vec<u8>) -> anyhow::Result<String> {
    let text = String::from_utf8(bytes)?;
    Ok(if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text })
}

/// `list(csv.DictReader(text, delimiter=…))` with the default (excel) dialect.
pub fn dict_rows(text: &str, delimiter: char) -> anyhow::Result<Vec<Row>> {
    let mut records = csv_records(text, delimiter).into_iter();
    let Some(header) = records.next() else { return Ok(Vec::new()) };
    let mut rows = Vec::new();
    for record in records.filter(|r| !r.is_empty()) {
        if record.len() > header.len() {
            // DictReader would store the surplus under a `None` key, which the reference then
            // cannot serialise with sorted keys.
            bail!("a row has {} fields but the header only {}", record.len(), header.len());
        }
        let mut row = Row::default();
        for (i, key) in header.iter().enumerate() {
            row.insert(key.clone(), record.get(i).cloned());
        }
        rows.push(row);
    }
    Ok(rows)
}

/// CPython's `_csv` reader (quote `"`, doubled quotes, no escape character, not strict), fed
/// line by line with an end-of-line mark after each line, as CPython does. An empty line is an
/// empty record.
fn csv_records(text: &str, delimiter: char) -> Vec<Vec<String>> {
    let mut parser = CsvParser { delimiter, state: CsvState::StartRecord, fields: Vec::new(), field: String::new() };
    let mut records = Vec::new();
    for line in text.split_inclusive('\n') {
        line.chars().for_each(|c| parser.feed(Some(c)));
        parser.feed(None);
        // Only an open quote carries a record over to the next line.
        if parser.state == CsvState::StartRecord {
            records.push(std::mem::take(&mut parser.fields));
        }
    }
    if parser.state == CsvState::InQuoted {
        parser.save_field();
        records.push(parser.fields);
    }
    records
}

#[derive(PartialEq, Clone, Copy)]
enum CsvState {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
    EatNewline,
}

struct CsvParser {
    delimiter: char,
    state: CsvState,
    fields: Vec<String>,
    field: String,
}

impl CsvParser {
    fn save_field(&mut self) {
        self.fields.push(std::mem::take(&mut self.field));
    }

    /// `None` is CPython's end-of-line mark.
    fn feed(&mut self, c: Option<char>) {
        use CsvState::*;
        let newline = c.is_none_or(|c| c == '\n');
        let after_newline = if c.is_none() { StartRecord } else { EatNewline };
        let delimiter = c == Some(self.delimiter);
        self.state = match self.state {
            StartRecord if c.is_none() => StartRecord,
            StartRecord if newline => EatNewline,
            StartRecord => {
                self.state = StartField;
                return self.feed(c);
            }
            StartField | InField | QuoteInQuoted if newline => {
                self.save_field();
                after_newline
            }
            QuoteInQuoted if c == Some('"') => {
                self.field.push('"');
                InQuoted
            }
            StartField if c == Some('"') => InQuoted,
            StartField | InField | QuoteInQuoted if delimiter => {
                self.save_field();
                StartField
            }
            StartField | InField | QuoteInQuoted => {
                self.field.extend(c);
                InField
            }
            InQuoted if c == Some('"') => QuoteInQuoted,
            InQuoted => {
                self.field.extend(c);
                InQuoted
            }
            // Within one line only newlines can follow a newline.
            EatNewline => after_newline,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_follows_cpython() {
        let rows = csv_records("a,b,c\n1,\"x, \"\"y\"\"\",  z \n\n\"multi\nline\",q\"r,\nlast,", ',');
        assert_eq!(
            rows,
            vec![
                vec!["a", "b", "c"],
                vec!["1", "x, \"y\"", "  z "],
                vec![],
                vec!["multi\nline", "q\"r", ""],
                vec!["last", ""],
            ]
        );
        assert_eq!(csv_records("a,\"open\nmore", ','), vec![vec!["a", "open\nmore"]]);
        assert_eq!(csv_records("x,\"ab\"cd,e\n", ','), vec![vec!["x", "abcd", "e"]]);
        let dict = dict_rows("k,v\n1\n\n2,3\n", ',').unwrap();
        assert_eq!(dict[0]["v"], None);
        assert_eq!(dict[1]["v"].as_deref(), Some("3"));
        assert!(dict_rows("k\n1,2\n", ',').is_err());
    }

    #[test]
    fn python_string_rules() {
        assert_eq!(zfill(2, 4), "0002");
        assert_eq!(zfill(12345, 4), "12345");
        assert_eq!(zfill(-5, 4), "-005");
        assert_eq!(py_strip("\x1f a b\u{a0}"), "a b");
        assert_eq!(py_split(" d#  minor\t2\n"), ["d#", "minor", "2"]);
        // sha1("abc") = a9993e36…d89d; its value mod 10 and mod 116 computed with Python ints.
        assert_eq!(sha1_mod(b"abc", 10), 7);
        assert_eq!(sha1_mod(b"abc", 116), 65);
        assert_eq!(read_text(b"a\r\nb\rc\n".to_vec()).unwrap(), "a\nb\nc\n");
    }

    #[test]
    fn tsv_follows_python_csv() {
        let text = "\"a\"\t\"b\"\r\n\"x\"\"y\"\tpl\"ain\n\n\"multi\nline\"\t\"\"\n\"q\"z\t";
        assert_eq!(
            csv_records(&read_text(text.as_bytes().to_vec()).unwrap(), '\t'),
            vec![vec!["a", "b"], vec!["x\"y", "pl\"ain"], vec![], vec!["multi\nline", ""], vec!["qz", ""],]
        );
    }
}
