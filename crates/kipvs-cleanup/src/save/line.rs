//! The lines of a table: chains and rules, each keeping its exact text.

use crate::tokens::{self, Token};

/// Packet and byte counters, as `[packets:bytes]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Counters {
    pub(super) fn parse(s: &str) -> Option<Self> {
        let (p, b) = s.strip_prefix('[')?.strip_suffix(']')?.split_once(':')?;
        Some(Counters {
            packets: p.parse().ok()?,
            bytes: b.parse().ok()?,
        })
    }
}

/// A chain line: `:NAME POLICY [packets:bytes]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// The chain name.
    pub name: String,
    /// The policy of a built-in chain (`ACCEPT`, `DROP`); `None` for a user
    /// chain (written `-`).
    pub policy: Option<String>,
    /// The chain's counters.
    pub counters: Option<Counters>,
    text: String,
}

impl Chain {
    /// True for the chains the kernel defines (they have a policy).
    pub fn is_builtin(&self) -> bool {
        self.policy.is_some()
    }

    /// The line exactly as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A rule line: `[packets:bytes] -A CHAIN args...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The chain the rule is in.
    pub chain: String,
    /// The rule's counters, when saved with `-c`.
    pub counters: Option<Counters>,
    /// The words after `-A CHAIN`.
    pub args: Vec<Token>,
    text: String,
    spec_at: usize,
}

impl Rule {
    /// The line exactly as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The arguments after `-A CHAIN`, exactly as written: what `-D CHAIN`
    /// needs to name this rule.
    pub fn spec(&self) -> &str {
        &self.text[self.spec_at..]
    }

    /// The rule as written without its counters prefix (`-A CHAIN ...`).
    pub fn without_counters(&self) -> &str {
        match self.counters {
            Some(_) => self
                .text
                .split_once(' ')
                .map_or("", |(_, r)| r.trim_start()),
            None => &self.text,
        }
    }

    /// The value after the first `option` (e.g. `"--comment"`), if any.
    pub fn option<'a>(&'a self, option: &'a str) -> Option<&'a str> {
        self.options(option).next()
    }

    /// The values after every `option`.
    pub fn options<'a>(&'a self, option: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.args
            .windows(2)
            .filter(move |w| w[0].value == option)
            .map(|w| w[1].value.as_str())
    }

    /// True when the rule has the word `word` (e.g. `"--ctstate"`).
    pub fn has(&self, word: &str) -> bool {
        self.args.iter().any(|t| t.value == word)
    }

    /// The chain or target the rule jumps (`-j`) or goes (`-g`) to.
    pub fn target(&self) -> Option<&str> {
        self.args.windows(2).find_map(|w| {
            matches!(w[0].value.as_str(), "-j" | "--jump" | "-g" | "--goto")
                .then_some(w[1].value.as_str())
        })
    }

    /// The ipsets the rule matches on (`-m set --match-set NAME dir`).
    pub fn match_sets(&self) -> impl Iterator<Item = &str> + '_ {
        self.options("--match-set")
    }

    /// The rule's comment (`-m comment --comment TEXT`).
    pub fn comment(&self) -> Option<&str> {
        self.option("--comment")
    }
}

pub(super) fn parse_chain(line: &str) -> Option<Chain> {
    let mut words = line[1..].split_whitespace();
    let name = words.next()?.to_owned();
    let policy = match words.next()? {
        "-" => None,
        p => Some(p.to_owned()),
    };
    let counters = match words.next() {
        Some(c) => Some(Counters::parse(c)?),
        None => None,
    };
    if words.next().is_some() {
        return None;
    }
    Some(Chain {
        name,
        policy,
        counters,
        text: line.to_owned(),
    })
}

/// `Ok(None)` for a line that is not an `-A` rule.
pub(super) fn parse_rule(line: &str) -> std::result::Result<Option<Rule>, &'static str> {
    let mut rest = line;
    let mut counters = None;
    if rest.starts_with('[') {
        let (c, r) = rest.split_once(' ').ok_or("bad counters")?;
        counters = Some(Counters::parse(c).ok_or("bad counters")?);
        rest = r.trim_start_matches([' ', '\t']);
    }
    let Some(after) = rest
        .strip_prefix("-A")
        .or_else(|| rest.strip_prefix("--append"))
    else {
        return if counters.is_some() {
            Err("counters before something other than -A")
        } else {
            Ok(None)
        };
    };
    if !after.starts_with([' ', '\t']) {
        return Ok(None);
    }
    let after = after.trim_start_matches([' ', '\t']);
    let (chain, args) = after
        .split_once([' ', '\t'])
        .map_or((after, ""), |(c, a)| (c, a.trim_start_matches([' ', '\t'])));
    if chain.is_empty() {
        return Err("rule without a chain");
    }
    let spec_at = line.len() - args.len();
    let args = tokens::split(args).ok_or("unterminated quote")?;
    Ok(Some(Rule {
        chain: chain.to_owned(),
        counters,
        args,
        text: line.to_owned(),
        spec_at,
    }))
}
