//! ipset's listing formats: plain, save and xml (and kipvs's json).

use std::fmt::Write as _;

use std::net::IpAddr;

use kipvs::ipset::{Dim, Entry, Set, SetType};

use super::netdb;

/// `-o MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Save,
    Xml,
    /// kipvs's own: ipset 7.17 has no JSON output (it says "unknown output
    /// mode 'json'"); here the library's `Set`s through serde.
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
    /// `-r`: addresses as host names (then `-s` sorts by plain `strcmp`).
    pub resolve: bool,
}

/// `strtol(s, &end, 16)` of glibc: the value and where the digits end
/// (`start` when there are none).
fn strtol16(s: &[u8], start: usize) -> (i64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = start;
    while matches!(at(i), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut negative = false;
    if matches!(at(i), b'+' | b'-') {
        negative = at(i) == b'-';
        i += 1;
    }
    if at(i) == b'0' && matches!(at(i + 1), b'x' | b'X') && at(i + 2).is_ascii_hexdigit() {
        i += 2;
    }
    let digits = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while at(i).is_ascii_hexdigit() {
        let d = (at(i) as char).to_digit(16).unwrap_or(0) as i64;
        match value.checked_mul(16).and_then(|v| v.checked_add(d)) {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits {
        return (0, start);
    }
    if overflow {
        value = if negative { i64::MIN } else { i64::MAX };
    } else if negative {
        value = -value;
    }
    (value, i)
}

/// ipset 7.17's `bystrcmp` (lib/session.c): compares printed members
/// number by number (read as hex), words by length then bytes, with its
/// subnet and `::` rules. Ported as is, quirks included, so `-s` orders
/// exactly as ipset does.
fn bystrcmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let cspn = |s: &[u8], i: usize| {
        s[i.min(s.len())..]
            .iter()
            .take_while(|c| !matches!(c, b':' | b','))
            .count()
    };
    let ord = |v: i64| v.cmp(&0);
    let (mut x1, mut x2) = (0usize, 0usize);
    let mut neg: i64 = 1;
    while at(a, x1) != 0 && at(b, x2) != 0 {
        let (n1, sep1) = strtol16(a, x1);
        let (n2, sep2) = strtol16(b, x2);
        if x1 == sep1 || x2 == sep2 {
            let (l1, l2) = (cspn(a, x1), cspn(b, x2));
            if l1 != 0 || l2 != 0 {
                if l1 == l2 {
                    let w1 = &a[x1..(x1 + l1).min(a.len())];
                    let w2 = &b[x2..(x2 + l1).min(b.len())];
                    match w1.cmp(w2) {
                        std::cmp::Ordering::Equal => {
                            x1 += l1 + 1;
                            x2 += l1 + 1;
                            neg = 1;
                            continue;
                        }
                        o => return o,
                    }
                }
                return l1.cmp(&l2);
            }
            return a[x1.min(a.len())..].cmp(&b[x2.min(b.len())..]);
        }
        if n1 != n2 {
            // C returns the long difference as an int.
            return ord(i64::from((neg.wrapping_mul(n1.wrapping_sub(n2))) as i32));
        }
        let (s1, s2) = (at(a, sep1), at(b, sep2));
        if s1 == b'/' || s2 == b'/' {
            if s1 == s2 {
                neg = if s1 == b'/' { -1 } else { 1 };
            } else if s1 == b'/' {
                return std::cmp::Ordering::Greater;
            } else {
                return std::cmp::Ordering::Less;
            }
        }
        x1 = sep1 + 1;
        x2 = sep2 + 1;
        let (c1, c2) = (at(a, x1), at(b, x2));
        if c1 == b':' || c2 == b':' {
            if c1 == c2 {
                x1 += 1;
                x2 += 1;
            } else if c1 == b':' {
                return std::cmp::Ordering::Less;
            } else {
                return std::cmp::Ordering::Greater;
            }
        }
    }
    if at(a, x1) != 0 {
        std::cmp::Ordering::Greater
    } else if at(b, x2) != 0 {
        std::cmp::Ordering::Less
    } else {
        std::cmp::Ordering::Equal
    }
}

/// Sorts printed member lines (each ending in `\n`) as `ipset -s` does:
/// a stable merge sort with [`bystrcmp`].
fn sort_lines(lines: &mut [String], resolve: bool) {
    if resolve {
        lines.sort();
    } else {
        lines.sort_by(|x, y| bystrcmp(x.as_bytes(), y.as_bytes()));
    }
}

/// The element of `e` as listed: with `-r`, each address of an address
/// dimension as its host name (`getnameinfo`, as ipset's `ipset_print_ip`).
fn elem_text(t: SetType, e: &Entry, style: &Style) -> String {
    let text = e.elem_text(t);
    if !style.resolve {
        return text;
    }
    let dims = t.dims();
    let parts: Vec<&str> = text.splitn(dims.len(), ',').collect();
    let mut out = Vec::with_capacity(parts.len());
    for (dim, part) in dims.iter().zip(parts) {
        if !matches!(dim, Dim::Ip | Dim::Net) {
            out.push(part.to_owned());
            continue;
        }
        let (addr, cidr) = match part.split_once('/') {
            Some((a, c)) => (a, Some(c)),
            None => (part, None),
        };
        let name = match addr.parse::<IpAddr>() {
            Ok(ip) => netdb::host_name(ip, addr),
            Err(_) => addr.to_owned(),
        };
        out.push(match cidr {
            Some(c) => format!("{name}/{c}"),
            None => name,
        });
    }
    out.join(",")
}

/// An address, or an `A-B` range of them, as `-r` prints it.
fn resolve_value(v: &str) -> String {
    let one = |a: &str| match a.parse::<IpAddr>() {
        Ok(ip) => netdb::host_name(ip, a),
        Err(_) => a.to_owned(),
    };
    match v.split_once('-') {
        Some((a, b)) => format!("{}-{}", one(a), one(b)),
        None => one(v),
    }
}

/// A header or create line: under `-r`, the addresses of a bitmap range
/// and of a bitmask are printed as names too (`ipset_print_ip`).
fn header_words(text: &str, style: &Style) -> String {
    if !style.resolve {
        return text.to_owned();
    }
    let mut words: Vec<String> = text.split(' ').map(String::from).collect();
    for i in 1..words.len() {
        if matches!(words[i - 1].as_str(), "range" | "bitmask") && words[i].contains(['.', ':']) {
            words[i] = resolve_value(&words[i]);
        }
    }
    words.join(" ")
}

/// The member as a plain or save listing prints it: element, options.
fn display(t: SetType, e: &Entry, style: &Style) -> String {
    let full = e.display(t);
    if !style.resolve {
        return full;
    }
    let plain = e.elem_text(t);
    match full.strip_prefix(&plain) {
        Some(options) => format!("{}{options}", elem_text(t, e, style)),
        None => full,
    }
}

/// The members of `set` as printed lines (`text(entry)` + `\n`), sorted
/// for hash types under `-s`.
fn member_lines(set: &Set, style: &Style, text: impl Fn(&Entry) -> String) -> Vec<String> {
    let mut lines: Vec<String> = set
        .entries
        .iter()
        .map(|e| format!("{}\n", text(e)))
        .collect();
    if style.sorted && set.set_type.is_hash() {
        sort_lines(&mut lines, style.resolve);
    }
    lines
}

/// Prints `sets` in `style` to a string, exactly as ipset 7.17 would.
pub fn render(sets: &[Set], style: &Style) -> String {
    let mut out = String::new();
    match style.mode {
        Mode::Save => {
            for set in sets {
                let _ = writeln!(out, "{}", header_words(&set.create_line(), style));
                for line in member_lines(set, style, |e| display(set.set_type, e, style)) {
                    let _ = write!(out, "add {} {line}", set.name);
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
                    header_words(&set.header_text(), style),
                    set.memsize,
                    set.references,
                    set.elements
                );
                if !style.terse {
                    out.push_str("Members:\n");
                    for line in member_lines(set, style, |e| display(set.set_type, e, style)) {
                        out.push_str(&line);
                    }
                }
            }
        }
        Mode::Json => {
            let json = if style.names {
                let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
                serde_json::to_string_pretty(&names)
            } else {
                let sets: Vec<Set> = sets
                    .iter()
                    .map(|set| {
                        let mut set = set.clone();
                        if style.terse {
                            set.entries.clear();
                        } else if style.sorted && set.set_type.is_hash() {
                            let t = set.set_type;
                            set.entries.sort_by(|x, y| {
                                bystrcmp(x.elem_text(t).as_bytes(), y.elem_text(t).as_bytes())
                            });
                        }
                        set
                    })
                    .collect();
                serde_json::to_string_pretty(&sets)
            };
            out = json.unwrap_or_default();
            out.push('\n');
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
                    let v = match (k, v) {
                        ("range" | "bitmask", Some(v)) if style.resolve => Some(resolve_value(&v)),
                        (_, v) => v,
                    };
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
                let xml = |e: &Entry| {
                    let mut m = format!("{}</elem>", elem_text(set.set_type, e, style));
                    for (k, v) in e.option_fields() {
                        xml_field(&mut m, k, v);
                    }
                    m.push_str("</member>");
                    m
                };
                for line in member_lines(set, style, xml) {
                    let _ = write!(out, "<member><elem>{line}");
                }
                out.push_str("</members>\n</ipset>\n");
            }
            out.push_str("</ipsets>\n");
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
