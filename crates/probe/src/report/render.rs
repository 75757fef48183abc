//! The report as aligned text, Markdown and CSV.

use super::{paper, Report, Row, COLUMNS};

const MISSING: &str = "–";

fn percent(value: Option<f64>) -> String {
    value.map_or(MISSING.to_string(), |v| format!("{:.1}", 100.0 * v))
}

fn headers() -> Vec<String> {
    let mut h = vec!["Representation".to_string()];
    h.extend(COLUMNS.iter().map(|c| c.header.to_string()));
    h.push("Average".to_string());
    h
}

fn cells(label: String, row: &Row) -> Vec<String> {
    let mut cells = vec![label];
    cells.extend(row.values.iter().map(|v| percent(*v)));
    cells.push(percent(row.average()));
    cells
}

/// Header, then each measured row followed by its paper row.
fn grid(report: &Report) -> Vec<Vec<String>> {
    let mut lines = vec![headers()];
    for (row, published) in &report.rows {
        lines.push(cells(row.representation.clone(), row));
        if let Some(p) = published {
            lines.push(cells(format!("{} (paper)", p.representation), p));
        }
    }
    lines
}

fn has_paper_rows(report: &Report) -> bool {
    report.rows.iter().any(|(_, p)| p.is_some())
}

/// A fixed-width table for the terminal (test metrics of best-on-valid probes, in percent).
pub fn text(report: &Report) -> String {
    let lines = grid(report);
    let widths: Vec<usize> =
        (0..lines[0].len()).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for line in &lines {
        let mut fields = Vec::new();
        for (c, (cell, width)) in line.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(width - cell.chars().count());
            fields.push(if c == 0 { format!("{cell}{pad}") } else { format!("{pad}{cell}") });
        }
        out.push_str(fields.join("  ").trim_end());
        out.push('\n');
    }
    if has_paper_rows(report) {
        out.push_str(&format!("({})\n", paper::SOURCE));
    }
    out
}

/// A GitHub-flavoured Markdown table with the same content as [`text`].
pub fn markdown(report: &Report) -> String {
    let lines = grid(report);
    let mut out = String::from("Test metrics (%) of the best-on-valid probe of each dataset × representation.\n\n");
    for (i, line) in lines.iter().enumerate() {
        out.push_str(&format!("| {} |\n", line.join(" | ")));
        if i == 0 {
            let rule: Vec<&str> = (0..line.len()).map(|c| if c == 0 { ":---" } else { "---:" }).collect();
            out.push_str(&format!("| {} |\n", rule.join(" | ")));
        }
    }
    if has_paper_rows(report) {
        out.push_str(&format!("\n_{}._\n", paper::SOURCE));
    }
    out
}

/// RFC 4180 quoting, needed only for odd folder names.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// One line per row with full-precision fractions (empty where unknown); `source` is `measured`
/// or `paper`.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("representation,source");
    for c in COLUMNS {
        out.push(',');
        out.push_str(c.key);
    }
    out.push_str(",average\n");
    let line = |row: &Row, source: &str| {
        let mut fields = vec![csv_field(&row.representation), source.to_string()];
        fields.extend(
            row.values
                .iter()
                .chain(std::iter::once(&row.average()))
                .map(|v| v.map_or(String::new(), |v| v.to_string())),
        );
        fields.join(",") + "\n"
    };
    for (row, published) in &report.rows {
        out.push_str(&line(row, "measured"));
        if let Some(p) = published {
            out.push_str(&line(p, "paper"));
        }
    }
    out
}
