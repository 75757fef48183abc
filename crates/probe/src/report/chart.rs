//! The report as an SVG grouped bar chart: one group per metric (and the average), one bar per
//! representation, the paper's number as a black tick on the bar where it is known.

use super::{Report, COLUMNS};
use std::fmt::Write;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 96.0;
/// Colour-blind-safe (Okabe–Ito).
const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One bar series: a name, its values per group (percent), and reference values drawn as ticks.
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub reference: Vec<Option<f64>>,
}

/// Render `report` as a standalone SVG document titled `title`.
pub fn svg(report: &Report, title: &str) -> String {
    let mut groups: Vec<&str> = COLUMNS.iter().map(|c| c.header).collect();
    groups.push("Average");
    let percent = |row: &super::Row| -> Vec<Option<f64>> {
        row.values.iter().copied().chain([row.average()]).map(|v| v.map(|v| 100.0 * v)).collect()
    };
    let series: Vec<Series> = report
        .rows
        .iter()
        .map(|(r, p)| Series {
            name: r.representation.clone(),
            values: percent(r),
            reference: p.as_ref().map_or(vec![None; groups.len()], percent),
        })
        .collect();
    grouped_bars(title, &groups, &series, "test metric (%)", "paper")
}

/// A grouped bar chart in percent (0–100, lower if a value is negative): one group per entry of
/// `groups`, one bar per series, reference values as black ticks labelled `reference_label`.
pub fn grouped_bars(title: &str, groups: &[&str], series: &[Series], y_label: &str, reference_label: &str) -> String {
    let measured: Vec<&Vec<Option<f64>>> = series.iter().map(|s| &s.values).collect();
    let published: Vec<&Vec<Option<f64>>> = series.iter().map(|s| &s.reference).collect();
    let lowest = measured.iter().chain(&published).flat_map(|v| v.iter()).flatten().fold(0.0f64, |a, &b| a.min(b));
    let y_min = (lowest / 20.0).floor() * 20.0;
    let y_max = 100.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h * (y_max - v.clamp(y_min, y_max)) / (y_max - y_min);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ =
        writeln!(s, r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#, WIDTH / 2.0, escape(title));
    let mut tick = y_min;
    while tick <= y_max + 1e-9 {
        let ty = y(tick);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{ty:.1}" y2="{ty:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{tick}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            ty + 4.0
        );
        tick += 20.0;
    }
    let _ = writeln!(
        s,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + plot_h / 2.0,
        escape(y_label)
    );

    let group_w = (WIDTH - LEFT - RIGHT) / groups.len() as f64;
    let bars = measured.len().max(1);
    let bar_w = group_w * 0.8 / bars as f64;
    for (g, name) in groups.iter().enumerate() {
        let x0 = LEFT + g as f64 * group_w + group_w * 0.1;
        for (i, (m, p)) in measured.iter().zip(&published).enumerate() {
            let x = x0 + i as f64 * bar_w;
            let colour = PALETTE[i % PALETTE.len()];
            if let Some(v) = m[g] {
                let (top, bottom) = (y(v.max(0.0)), y(v.min(0.0)));
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} {name}: {v:.1}</title></rect>"#,
                    bar_w * 0.92,
                    bottom - top,
                    escape(&series[i].name)
                );
            }
            if let Some(v) = p[g] {
                let py = y(v);
                let _ = writeln!(
                    s,
                    r#"<line x1="{x:.1}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}" stroke="black" stroke-width="2.5"><title>{}: {v:.1}</title></line>"#,
                    x + bar_w * 0.92,
                    escape(reference_label)
                );
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + (g as f64 + 0.5) * group_w,
            HEIGHT - BOTTOM + 18.0,
            escape(name)
        );
    }
    let zero = y(0.0);
    let _ = writeln!(s, r#"<line x1="{LEFT}" x2="{}" y1="{zero:.1}" y2="{zero:.1}" stroke="black"/>"#, WIDTH - RIGHT);

    let mut lx = LEFT;
    let ly = HEIGHT - 34.0;
    for (i, row) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let _ = writeln!(
            s,
            r#"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{ly:.1}">{}</text>"#,
            ly - 10.0,
            lx + 16.0,
            escape(&row.name)
        );
        lx += 28.0 + 7.0 * row.name.chars().count() as f64;
    }
    if series.iter().any(|s| s.reference.iter().any(Option::is_some)) {
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="black" stroke-width="2.5"/><text x="{:.1}" y="{ly:.1}">{}</text>"#,
            lx + 14.0,
            ly - 4.0,
            ly - 4.0,
            lx + 18.0,
            escape(reference_label)
        );
    }
    s.push_str("</svg>\n");
    s
}
