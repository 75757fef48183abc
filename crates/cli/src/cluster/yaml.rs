//! A small YAML writer for Kubernetes manifests: block maps and sequences in the order given,
//! strings quoted whenever a plain scalar could be read as something else.
//!
//! Written by hand (as the report's SVG is) so that the manifest is stable, readable text; the tests
//! parse it back with a YAML 1.2 parser and validate it against the Kubernetes Job schema.

use std::fmt::Write;

/// A YAML value whose maps keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
}

/// `map([("a", x), ("b", y)])`.
pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
    Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

pub fn str(text: impl Into<String>) -> Node {
    Node::Str(text.into())
}

pub fn strs<S: AsRef<str>>(items: &[S]) -> Node {
    Node::Seq(items.iter().map(|s| str(s.as_ref())).collect())
}

/// The document: `comments` as `# ` lines, then the value (which should be a map).
pub fn document(comments: &[String], root: &Node) -> String {
    let mut out = String::new();
    for line in comments {
        let _ = writeln!(out, "# {line}");
    }
    write_value(&mut out, root, 0);
    out
}

fn write_value(out: &mut String, node: &Node, indent: usize) {
    match node {
        Node::Map(entries) if !entries.is_empty() => write_map(out, entries, indent, false),
        Node::Seq(items) if !items.is_empty() => write_seq(out, items, indent),
        scalar => {
            out.push_str(&inline(scalar, indent));
            out.push('\n');
        }
    }
}

/// Map entries, one per line at `indent`; with `first_inline` the first entry continues the current
/// line (after a sequence's `- `).
fn write_map(out: &mut String, entries: &[(String, Node)], indent: usize, first_inline: bool) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 || !first_inline {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&scalar_text(key, indent));
        out.push(':');
        match value {
            Node::Map(children) if !children.is_empty() => {
                out.push('\n');
                write_map(out, children, indent + 2, false);
            }
            Node::Seq(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, indent + 2);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Node::Map(entries) if !entries.is_empty() => write_map(out, entries, indent + 2, true),
            Node::Seq(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            scalar => {
                out.push_str(&inline(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection on the current line; multi-line strings become literal blocks
/// whose lines are indented by `indent`.
fn inline(node: &Node, indent: usize) -> String {
    match node {
        Node::Map(_) => "{}".into(),
        Node::Seq(_) => "[]".into(),
        Node::Str(text) => scalar_text(text, indent),
        Node::Int(n) => n.to_string(),
    }
}

fn scalar_text(text: &str, indent: usize) -> String {
    if is_plain_safe(text) {
        return text.to_string();
    }
    if let Some(block) = literal_block(text, indent) {
        return block;
    }
    // A JSON string is a valid YAML double-quoted scalar (YAML 1.2 is a superset of JSON).
    serde_json::to_string(text).expect("strings always serialise")
}

/// Strings that YAML 1.1 and 1.2 parsers both read back as the same string when unquoted.
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else { return false };
    let chars_ok = text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    let starts_ok = first.is_ascii_alphabetic() || first == '/' || first == '_';
    let reserved = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", ".nan", ".inf", "~"]
        .contains(&text.to_ascii_lowercase().as_str());
    chars_ok && starts_ok && !reserved
}

/// `|` or `|-` followed by the lines, when the text survives a literal block unchanged.
fn literal_block(text: &str, indent: usize) -> Option<String> {
    if !text.contains('\n') {
        return None;
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let printable = body.chars().all(|c| c == '\n' || (!c.is_control() && c != '\u{feff}'));
    let lines_ok = body.split('\n').all(|line| !line.ends_with([' ', '\t']) && !line.is_empty());
    if !printable || !lines_ok || body.starts_with([' ', '\t']) || body.ends_with('\n') {
        return None;
    }
    let mut out = String::from(if text.ends_with('\n') { "|" } else { "|-" });
    for line in body.split('\n') {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
        out.push_str(line);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_maps_and_sequences_are_block_style() {
        let doc = map([
            ("apiVersion", str("batch/v1")),
            ("count", Node::Int(3)),
            ("list", Node::Seq(vec![map([("name", str("a")), ("value", str("1"))]), map([("name", str("b"))])])),
            ("args", strs(&["x y", "true", "-j", "4", ""])),
            ("empty", Node::Map(vec![])),
            ("script", str("set -eu\ncase x in\n  0) echo hi ;;\nesac\n")),
        ]);
        let text = document(&["hello".into()], &doc);
        let expected = "# hello\napiVersion: batch/v1\ncount: 3\nlist:\n  - name: a\n    value: \"1\"\n  - name: b\n\
                        args:\n  - \"x y\"\n  - \"true\"\n  - \"-j\"\n  - \"4\"\n  - \"\"\nempty: {}\n\
                        script: |\n  set -eu\n  case x in\n    0) echo hi ;;\n  esac\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn awkward_strings_are_quoted() {
        for text in ["yes", "No", "1e3", "0x10", "a: b", "#x", "- x", "é", "tab\there", "trailing \nx"] {
            assert!(!is_plain_safe(text), "{text}");
        }
        assert_eq!(scalar_text("trailing \nx", 0), "\"trailing \\nx\"");
        assert_eq!(scalar_text("nvidia.com/gpu", 0), "nvidia.com/gpu");
    }
}
