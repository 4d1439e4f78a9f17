//! The `iptables-save` format: a parser and a writer that round-trip any
//! dump byte for byte.
//!
//! A dump is a list of tables (`*nat` ... `COMMIT`) between comment lines.
//! Inside a table come chain lines (`:NAME POLICY [packets:bytes]`) and rule
//! lines (`-A CHAIN args`, with a `[packets:bytes]` prefix under `-c`).
//! Every line keeps its exact text, so writing a parsed dump gives back the
//! same bytes, and a rule's arguments can be replayed as `-D CHAIN args`
//! exactly as the tool printed them.

use std::fmt;

mod line;

use line::{parse_chain, parse_rule};
pub use line::{Chain, Counters, Rule};

use crate::{Error, Result};

/// One line inside a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `:NAME POLICY [counters]`.
    Chain(Chain),
    /// `-A CHAIN ...`.
    Rule(Rule),
    /// A comment, a blank line, or a command other than `-A` (`-D`, `-F`,
    /// `-X`, ... in a restore script), kept as written.
    Other(String),
}

impl Line {
    /// The line exactly as written.
    pub fn text(&self) -> &str {
        match self {
            Line::Chain(c) => c.text(),
            Line::Rule(r) => r.text(),
            Line::Other(s) => s,
        }
    }
}

/// One table: `*name`, its lines, `COMMIT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table name (`nat`, `filter`, `mangle`, `raw`, `security`).
    pub name: String,
    /// The lines between `*name` and `COMMIT`, in order.
    pub lines: Vec<Line>,
    header: String,
    commit: Option<String>,
}

impl Table {
    /// An empty table, written `*name` ... `COMMIT`.
    pub fn new(name: &str) -> Self {
        Table {
            name: name.to_owned(),
            lines: Vec::new(),
            header: format!("*{name}"),
            commit: Some("COMMIT".to_owned()),
        }
    }

    /// The `*name` line as written.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// The `COMMIT` line as written.
    pub fn commit(&self) -> &str {
        self.commit.as_deref().unwrap_or("COMMIT")
    }

    /// The chains, in the order they are declared.
    pub fn chains(&self) -> impl Iterator<Item = &Chain> {
        self.lines.iter().filter_map(|l| match l {
            Line::Chain(c) => Some(c),
            _ => None,
        })
    }

    /// The chain called `name`.
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains().find(|c| c.name == name)
    }

    /// The rules with their line index, in order.
    pub fn rules(&self) -> impl Iterator<Item = (usize, &Rule)> {
        self.lines.iter().enumerate().filter_map(|(i, l)| match l {
            Line::Rule(r) => Some((i, r)),
            _ => None,
        })
    }

    /// Appends a line written as `text` (no newline), e.g. `-F KUBE-SVC-X`.
    pub fn push(&mut self, text: impl Into<String>) {
        self.lines.push(Line::Other(text.into()));
    }

    fn write(&self, out: &mut String) {
        out.push_str(&self.header);
        out.push('\n');
        for l in &self.lines {
            out.push_str(l.text());
            out.push('\n');
        }
        if let Some(c) = &self.commit {
            out.push_str(c);
            out.push('\n');
        }
    }
}

/// A top-level item of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A comment or blank line outside any table, kept as written.
    Comment(String),
    /// A table.
    Table(Table),
}

/// A whole `iptables-save` dump (or `iptables-restore` input).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// Tables and the comments around them, in order.
    pub items: Vec<Item>,
    /// False when the text did not end in a newline.
    missing_final_newline: bool,
}

impl Ruleset {
    /// Parses the text of `iptables-save` (any version, `-c` or not, legacy
    /// or nft, IPv4 or IPv6).
    pub fn parse(text: &str) -> Result<Self> {
        let mut items = Vec::new();
        let mut table: Option<Table> = None;
        let missing_final_newline = !text.is_empty() && !text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        if text.is_empty() {
            return Ok(Ruleset::default());
        }
        for (n, line) in body.split('\n').enumerate() {
            let err = |reason: &str| Error::Parse {
                line: n + 1,
                text: line.to_owned(),
                reason: reason.to_owned(),
            };
            let Some(t) = table.as_mut() else {
                if let Some(name) = line.strip_prefix('*') {
                    if name.is_empty() || name.contains(char::is_whitespace) {
                        return Err(err("bad table name"));
                    }
                    table = Some(Table {
                        name: name.to_owned(),
                        lines: Vec::new(),
                        header: line.to_owned(),
                        commit: None,
                    });
                } else if line.trim().is_empty() || line.starts_with('#') {
                    items.push(Item::Comment(line.to_owned()));
                } else {
                    return Err(err("expected a table (`*name`) or a comment"));
                }
                continue;
            };
            if line.trim() == "COMMIT" {
                t.commit = Some(line.to_owned());
                items.push(Item::Table(table.take().expect("in a table")));
            } else if line.starts_with(':') {
                t.lines.push(Line::Chain(
                    parse_chain(line).ok_or_else(|| err("bad chain line"))?,
                ));
            } else if line.starts_with('*') {
                return Err(err("table not closed by COMMIT"));
            } else if let Some(rule) = parse_rule(line).map_err(err)? {
                t.lines.push(Line::Rule(rule));
            } else {
                t.lines.push(Line::Other(line.to_owned()));
            }
        }
        if let Some(t) = table {
            return Err(Error::Parse {
                line: body.split('\n').count(),
                text: t.header,
                reason: "table not closed by COMMIT".into(),
            });
        }
        Ok(Ruleset {
            items,
            missing_final_newline,
        })
    }

    /// The tables, in order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.items.iter().filter_map(|i| match i {
            Item::Table(t) => Some(t),
            Item::Comment(_) => None,
        })
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables().find(|t| t.name == name)
    }

    /// The comment lines outside the tables, in order.
    pub fn comments(&self) -> impl Iterator<Item = &str> {
        self.items.iter().filter_map(|i| match i {
            Item::Comment(c) => Some(c.as_str()),
            Item::Table(_) => None,
        })
    }
}

impl fmt::Display for Ruleset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Comment(c) => {
                    out.push_str(c);
                    out.push('\n');
                }
                Item::Table(t) => t.write(&mut out),
            }
        }
        if self.missing_final_newline {
            out.pop();
        }
        f.write_str(&out)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "# Generated by iptables-save v1.8.9 (nf_tables) on Tue Nov 24 21:07:51 2026
*nat
:PREROUTING ACCEPT [12:720]
:KUBE-SERVICES - [0:0]
[3:180] -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES
[0:0] -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment \"default/kubernetes:https cluster IP\" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
COMMIT
# Completed on Tue Nov 24 21:07:51 2026
";

    #[test]
    fn round_trips_byte_for_byte() {
        for text in [
            DUMP,
            "",
            "\n",
            "# x",
            "*filter\nCOMMIT",
            "*filter\n:INPUT ACCEPT [0:0]\n\n-A INPUT  -j  ACCEPT \nCOMMIT\n",
        ] {
            let r = Ruleset::parse(text).unwrap();
            assert_eq!(r.to_string(), text);
        }
    }

    #[test]
    fn reads_chains_rules_and_counters() {
        let r = Ruleset::parse(DUMP).unwrap();
        let nat = r.table("nat").unwrap();
        let pre = nat.chain("PREROUTING").unwrap();
        assert!(pre.is_builtin());
        assert_eq!(
            pre.counters,
            Some(Counters {
                packets: 12,
                bytes: 720
            })
        );
        assert!(!nat.chain("KUBE-SERVICES").unwrap().is_builtin());
        let rules: Vec<_> = nat.rules().map(|(_, r)| r).collect();
        assert_eq!(rules[0].chain, "PREROUTING");
        assert_eq!(
            rules[0].counters,
            Some(Counters {
                packets: 3,
                bytes: 180
            })
        );
        assert_eq!(rules[0].target(), Some("KUBE-SERVICES"));
        assert_eq!(rules[0].comment(), Some("kubernetes service portals"));
        assert_eq!(
            rules[0].spec(),
            "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
        );
        assert_eq!(
            rules[0].without_counters(),
            "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
        );
        assert_eq!(rules[1].option("--dport"), Some("443"));
        assert_eq!(r.comments().count(), 2);
    }

    #[test]
    fn keeps_restore_commands() {
        let text = "*nat\n-D PREROUTING -j X\n-F X\n-X X\nCOMMIT\n";
        let r = Ruleset::parse(text).unwrap();
        assert_eq!(r.table("nat").unwrap().lines.len(), 3);
        assert_eq!(r.to_string(), text);
    }

    #[test]
    fn refuses_broken_dumps() {
        for bad in [
            "*nat\n-A X -m comment --comment \"open\nCOMMIT\n",
            "*nat\n",
            "-A X\n",
            "*nat\n*filter\nCOMMIT\n",
            "*nat\n:X\nCOMMIT\n",
            "*nat\n[1:x] -A X\nCOMMIT\n",
        ] {
            assert!(Ruleset::parse(bad).is_err(), "{bad:?}");
        }
        let e = Ruleset::parse("*nat\n:X\nCOMMIT\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn a_built_table_writes_restore_text() {
        let mut t = Table::new("filter");
        t.push("-F KUBE-SERVICES");
        t.push("-X KUBE-SERVICES");
        assert_eq!(
            t.to_string(),
            "*filter\n-F KUBE-SERVICES\n-X KUBE-SERVICES\nCOMMIT\n"
        );
    }
}
