//! ipset's listing formats: plain, save, xml (and kipvs's json).

use std::fmt::Write as _;

use kipvs::ipset::{Entry, Part, Set, SetType};

/// `-o MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Save,
    Xml,
    /// kipvs only: ipset 7.17 has no JSON output.
    Json,
}

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub mode: Mode,
    /// `-n`: names only.
    pub names: bool,
    /// `-t`: headers only.
    pub terse: bool,
    /// `-s`: members sorted (hash types).
    pub sorted: bool,
}

/// A sort key that orders members by value: addresses as numbers, then
/// ports, then protocols.
fn sort_key(e: &Entry) -> Vec<(u8, u128, u32)> {
    e.parts
        .iter()
        .map(|p| match p {
            Part::Ip(ip) => {
                let n = match ip.addr {
                    std::net::IpAddr::V4(a) => u32::from(a) as u128,
                    std::net::IpAddr::V6(a) => u128::from(a),
                };
                (0, n, ip.cidr.map(u32::from).unwrap_or(0))
            }
            Part::Port(p) => (1, p.port as u128, p.proto.map(u32::from).unwrap_or(0)),
            Part::Mark(m) => (2, *m as u128, 0),
            Part::Mac(m) => (3, m.iter().fold(0u128, |a, b| a << 8 | *b as u128), 0),
            Part::Iface { name, .. } => (4, name.bytes().fold(0u128, |a, b| a << 8 | b as u128), 0),
            Part::Set(_) => (5, 0, 0),
        })
        .collect()
}

fn members(set: &Set, style: &Style) -> Vec<Entry> {
    let mut m = set.entries.clone();
    if style.sorted && set.set_type.is_hash() {
        m.sort_by_cached_key(sort_key);
    }
    m
}

/// Prints `sets` in `style` to a string, exactly as ipset 7.17 would.
pub fn render(sets: &[Set], style: &Style) -> String {
    let mut out = String::new();
    match style.mode {
        Mode::Save => {
            for set in sets {
                let _ = writeln!(
                    out,
                    "create {} {} {}",
                    set.name,
                    set.set_type,
                    set.header_text()
                );
                for e in members(set, style) {
                    let _ = writeln!(out, "add {} {}", set.name, e.display(set.set_type));
                }
            }
        }
        Mode::Plain => {
            for (i, set) in sets.iter().enumerate() {
                if style.names {
                    let _ = writeln!(out, "{}", set.name);
                    continue;
                }
                if i > 0 {
                    out.push('\n');
                }
                let _ = write!(
                    out,
                    "Name: {}\nType: {}\nRevision: {}\nHeader: {}\nSize in memory: {}\nReferences: {}\nNumber of entries: {}\n",
                    set.name,
                    set.set_type,
                    set.revision,
                    set.header_text(),
                    set.memsize,
                    set.references,
                    set.elements
                );
                if !style.terse {
                    out.push_str("Members:\n");
                    for e in members(set, style) {
                        let _ = writeln!(out, "{}", e.display(set.set_type));
                    }
                }
            }
        }
        Mode::Xml => {
            out.push_str("<ipsets>\n");
            for set in sets {
                if style.names {
                    let _ = writeln!(out, "<ipset name=\"{}\"/>", set.name);
                    continue;
                }
                let _ = write!(
                    out,
                    "<ipset name=\"{}\">\n<type>{}</type>\n<revision>{}</revision>\n<header>",
                    set.name, set.set_type, set.revision
                );
                for (k, v) in set.header_fields() {
                    xml_field(&mut out, k, v);
                }
                let _ = write!(
                    out,
                    "\n<memsize>{}</memsize>\n<references>{}</references>\n<numentries>{}</numentries>\n</header>\n",
                    set.memsize, set.references, set.elements
                );
                if style.terse {
                    out.push_str("</ipset>\n");
                    continue;
                }
                out.push_str("<members>\n");
                for e in members(set, style) {
                    let _ = write!(out, "<member><elem>{}</elem>", e.elem_text(set.set_type));
                    for (k, v) in e.option_fields() {
                        xml_field(&mut out, k, v);
                    }
                    out.push_str("</member>\n");
                }
                out.push_str("</members>\n</ipset>\n");
            }
            out.push_str("</ipsets>\n");
        }
        Mode::Json => {
            let sets: Vec<Set> = sets
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    s.entries = members(&s, style);
                    s
                })
                .collect();
            out = serde_json::to_string_pretty(&sets).unwrap_or_default();
            out.push('\n');
        }
    }
    out
}

fn xml_field(out: &mut String, k: &str, v: Option<String>) {
    match v {
        Some(v) => {
            let _ = write!(out, "<{k}>{v}</{k}>");
        }
        None => {
            let _ = write!(out, "<{k}/>");
        }
    }
}

/// The element of `test` as ipset echoes it.
pub fn elem(set_type: SetType, e: &Entry) -> String {
    e.elem_text(set_type)
}
