//! Element options as ipset takes them after the element
//! (`timeout 5 packets 3 comment x nomatch ...`).

use crate::{
    parse::{number, parse_skbmark, parse_skbprio},
    types::{SetName, SetType},
    Error, Result,
};

use super::{bad, Entry, Position};

/// Which command element options are parsed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `add`: every option the set supports.
    Add,
    /// `del`: only list:set's `before`/`after`.
    Del,
    /// `test`: `nomatch` (net types), `before`/`after` (list:set).
    Test,
}

impl Entry {
    /// Parses ipset's element options (`timeout 5 comment "x" nomatch`),
    /// as words; returns how many words it used (it stops at the first word
    /// that is no option). Every option is taken whatever the set type; the
    /// kernel refuses what the set does not support.
    pub fn parse_options(&mut self, words: &[&str]) -> Result<usize> {
        self.parse_options_for(None, words)
    }

    /// Parses element options as ipset 7.17 does for `op` on a set of
    /// `set_type`: an option the command does not take is an error (`what`
    /// = "option", ipset's "Unknown argument"), as is a repeated one.
    pub fn parse_options_checked(
        &mut self,
        set_type: SetType,
        op: Op,
        words: &[&str],
    ) -> Result<usize> {
        self.parse_options_for(Some((set_type, op)), words)
    }

    fn parse_options_for(&mut self, check: Option<(SetType, Op)>, words: &[&str]) -> Result<usize> {
        let (set_type, op) = check.unwrap_or((SetType::ListSet, Op::Add));
        let nets = set_type.takes_nomatch();
        let list = set_type == SetType::ListSet;
        let mut seen: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let known = matches!(
                word,
                "timeout"
                    | "packets"
                    | "bytes"
                    | "comment"
                    | "skbmark"
                    | "skbprio"
                    | "skbqueue"
                    | "nomatch"
                    | "wildcard"
                    | "before"
                    | "after"
            );
            if !known && check.is_none() {
                break;
            }
            let allowed = check.is_none()
                || match word {
                    "timeout" | "packets" | "bytes" | "comment" | "skbmark" | "skbprio"
                    | "skbqueue" => op == Op::Add,
                    "nomatch" => nets && op != Op::Del,
                    "wildcard" => set_type == SetType::HashNetIface && op == Op::Add,
                    "before" | "after" => list,
                    _ => false,
                };
            if !allowed {
                return Err(Error::invalid(
                    "option",
                    word,
                    format!("Unknown argument: `{word}'"),
                ));
            }
            if check.is_some() && seen.contains(&word) {
                return Err(bad(word, format!("{word} already specified")));
            }
            seen.push(word);
            if word == "nomatch" {
                self.nomatch = true;
                i += 1;
                continue;
            }
            if word == "wildcard" {
                self.wildcard = true;
                i += 1;
                continue;
            }
            let arg = words.get(i + 1).copied().ok_or_else(|| {
                Error::invalid(
                    "option",
                    word,
                    format!("Missing mandatory argument of option `{word}'"),
                )
            })?;
            match word {
                "timeout" => self.timeout = Some(number(arg, u32::MAX as u64)? as u32),
                "packets" => self.packets = Some(number(arg, u64::MAX)?),
                "bytes" => self.bytes = Some(number(arg, u64::MAX)?),
                "comment" => {
                    if arg.len() > crate::wire::IPSET_MAX_COMMENT_SIZE {
                        return Err(bad(arg, "Comment is longer than 255 characters"));
                    }
                    self.comment = Some(arg.to_owned());
                }
                "skbmark" => self.skbmark = Some(parse_skbmark(arg)?),
                "skbprio" => self.skbprio = Some(parse_skbprio(arg)?),
                "skbqueue" => self.skbqueue = Some(number(arg, u16::MAX as u64)? as u16),
                "before" => self.position = Some(Position::Before(SetName::new(arg)?)),
                _ => self.position = Some(Position::After(SetName::new(arg)?)),
            }
            i += 2;
        }
        Ok(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Family;

    #[test]
    fn options_print_in_ipset_order() {
        let t = SetType::HashIpPort;
        let mut e = Entry::parse(t, Family::Inet, "1.2.3.4,80").unwrap();
        let words = [
            "timeout",
            "5",
            "packets",
            "3",
            "bytes",
            "40",
            "comment",
            "hi",
            "skbmark",
            "0x10/0xff",
            "skbprio",
            "1:2",
            "skbqueue",
            "3",
        ];
        assert_eq!(
            e.parse_options_checked(t, Op::Add, &words).unwrap(),
            words.len()
        );
        let mut d = e.key();
        assert!(d
            .parse_options_checked(t, Op::Del, &["timeout", "1"])
            .is_err());
        assert_eq!(d.parse_options(&["timeout", "1", "x"]).unwrap(), 2);
        assert_eq!(
            e.display(SetType::HashIpPort),
            "1.2.3.4,tcp:80 timeout 5 packets 3 bytes 40 comment \"hi\" skbmark 0x10/0xff skbprio 1:2 skbqueue 3"
        );
    }
}
