//! One ipset command, parsed into its words by [`args`](super::args), run
//! against the kernel with ipset 7.17's checks in ipset's order.

use kipvs::ipset::{
    describe, wire::IpsetCmd, CreateOptions, Dim, Entry, Family, Op, Position, SetKind, SetName,
    SetType,
};
use kipvs::Error;

use super::{
    args::{no_more, Cmd, Line},
    create, elem,
    print::{self, Mode, Style},
    Fail, Flow, Session, PREFIX,
};

/// ipset's `IPSET_PROTOCOL`, which `version` prints whatever the kernel.
const IPSET_PROTOCOL: u8 = 7;

/// The first type-specific error code (`IPSET_ERR_TYPE_SPECIFIC`).
const IPSET_ERR_TYPE_SPECIFIC: i32 = 4352;

pub(crate) fn set_name(s: &str) -> Result<SetName, Fail> {
    SetName::new(s).map_err(|_| {
        Fail::Other(format!(
            "Syntax error: setname '{s}' is longer than 31 characters"
        ))
    })
}

fn set_type(s: &str) -> Result<SetType, Fail> {
    s.parse::<SetType>()
        .map_err(|_| Fail::Other(format!("Syntax error: typename '{s}' is unknown")))
}

/// ipset's words for an element it cannot parse; an ICMP protocol of the
/// wrong family trips two later checks that differ by command.
pub(crate) fn entry_error(e: Error, cmd: Cmd) -> Fail {
    if let Error::Invalid { what, reason, .. } = &e {
        if what == "icmp family" {
            return if cmd == Cmd::Add {
                Fail::Other(format!(
                    "Syntax error: {reason}\nInvalid add command: missing setname"
                ))
            } else {
                Fail::Plain(
                    "There are missing mandatory flags but can't check them. It's a bug, please report the problem.".into(),
                )
            };
        }
    }
    Fail::from(e)
}

/// A kernel error of a create: the type-specific codes need the type,
/// which the library cannot look up for a set that does not exist.
fn create_error(e: Error, t: SetType) -> Fail {
    match &e {
        Error::Kernel(k) if k.errno >= IPSET_ERR_TYPE_SPECIFIC => {
            Fail::Other(describe(k.errno, IpsetCmd::Create, Some(t)))
        }
        _ => Fail::from(e),
    }
}

/// The element words of add, del and test as the library takes them:
/// host names resolved, options checked for the command; the element
/// timeout bound (`ipset_parse_timeout`). The set's kind is looked up
/// unless `known`.
pub(crate) fn parse_entry(
    session: &mut Session<'_>,
    cmd: Cmd,
    set: &SetName,
    known: Option<SetKind>,
    elem: &str,
    words: &[String],
) -> Result<(SetType, Entry), Fail> {
    let quiet = session.opts.quiet;
    let kind = match known {
        Some(k) => k,
        None => session.handle()?.kind(set)?,
    };
    let text = elem::resolve_elem(kind.set_type, kind.family, elem, quiet).map_err(Fail::Other)?;
    let mut entry =
        Entry::parse(kind.set_type, kind.family, &text).map_err(|e| entry_error(e, cmd))?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let op = match cmd {
        Cmd::Add => Op::Add,
        Cmd::Del => Op::Del,
        _ => Op::Test,
    };
    let scanned;
    let words = if op == Op::Add {
        scanned = check_values(&words)?;
        scanned.iter().map(String::as_str).collect()
    } else {
        words
    };
    let used = entry.parse_options_checked(kind.set_type, op, &words)?;
    if let Some(extra) = words.get(used) {
        return Err(Fail::Param(format!("Unknown argument: `{extra}'")));
    }
    elem::check_allowed(cmd, kind.set_type, kind.family, elem)?;
    Ok((kind.set_type, entry))
}

/// The checks ipset makes while it parses a command line, before it
/// sends anything (in restore mode, before it sends the add and del lines
/// it has gathered): names, extra words, create options.
pub(crate) fn check(line: &Line) -> Result<(), Fail> {
    let name = |w: &Option<String>| w.as_deref().map(set_name).transpose();
    match line.cmd {
        Cmd::Destroy | Cmd::Flush | Cmd::List | Cmd::Save => {
            name(&line.arg0)?;
            no_more(&line.rest)
        }
        Cmd::Rename | Cmd::Swap => {
            name(&line.arg0)?;
            name(&line.arg1)?;
            no_more(&line.rest)
        }
        Cmd::Create => {
            name(&line.arg0)?;
            let t = set_type(line.arg1.as_deref().unwrap_or_default())?;
            create::parse(t, &line.rest, &mut Vec::new()).map(|_| ())
        }
        _ => Ok(()),
    }
}

/// `%lx` of `sscanf`: blanks, a sign, an optional `0x`, hex digits (at
/// least one); the value (wrapping, saturating on overflow as `strtoul`)
/// and the rest.
fn scan_hex(s: &str) -> Option<(u64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let t = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) if h.starts_with(|c: char| c.is_ascii_hexdigit()) => h,
        _ => t,
    };
    let end = t.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(t.len());
    if end == 0 {
        return None;
    }
    let v = u64::from_str_radix(&t[..end], 16).unwrap_or(u64::MAX);
    Some((if negative { v.wrapping_neg() } else { v }, &t[end..]))
}

/// `ipset_parse_skbmark`: `sscanf("0x%lx/0x%lx")`, else `"0x%lx"` with
/// the full mask; trailing text is ignored.
fn scan_skbmark(s: &str) -> Option<(u32, u32)> {
    let (mark, rest) = scan_hex(s.strip_prefix("0x")?)?;
    let mask = rest
        .strip_prefix("/0x")
        .and_then(scan_hex)
        .map_or(u32::MAX, |(m, _)| m as u32);
    Some((mark as u32, mask))
}

/// `ipset_parse_skbprio`: `sscanf("%x:%x")`, each part cut to 16 bits.
fn scan_skbprio(s: &str) -> Option<(u16, u16)> {
    let (major, rest) = scan_hex(s)?;
    let (minor, _) = scan_hex(rest.strip_prefix(':')?)?;
    Some(((major as u32) as u16, (minor as u32) as u16))
}

/// The element option words of an add as ipset's own parsers read them,
/// up to the first word that is no option: values in the bounds ipset
/// puts on them (`ipset_parse_timeout`, `ipset_parse_uint64`, ...),
/// skbmark and skbprio rewritten in the form the library reads.
fn check_values(words: &[&str]) -> Result<Vec<String>, Fail> {
    let bound = |v: &str, max: u64| {
        create::number(v, 0, max)
            .map(|_| ())
            .map_err(|r| Fail::Other(format!("Syntax error: {r}")))
    };
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    let mut i = 0;
    while i < words.len() {
        let value = words.get(i + 1).copied();
        match (words[i], value) {
            ("nomatch" | "wildcard", _) => {
                i += 1;
                continue;
            }
            ("timeout", Some(v)) => bound(v, (u32::MAX as u64 >> 1) / 1000)?,
            ("packets" | "bytes", Some(v)) => bound(v, u64::MAX - 1)?,
            ("skbqueue", Some(v)) => bound(v, u16::MAX as u64)?,
            ("comment", Some(v)) if v.contains('"') => {
                return Err(Fail::Other(
                    "Syntax error: \" character is not permitted in comments".into(),
                ))
            }
            ("skbmark", Some(v)) => {
                let (mark, mask) = scan_skbmark(v).ok_or_else(|| {
                    Fail::Other(
                        "Syntax error: Invalid skbmark format, it should be:  MARK/MASK or MARK (see manpage)".into(),
                    )
                })?;
                out[i + 1] = format!("{mark:#x}/{mask:#x}");
            }
            ("skbprio", Some(v)) => {
                let (major, minor) = scan_skbprio(v).ok_or_else(|| {
                    Fail::Other(
                        "Syntax error: Invalid skbprio format, it should be:MAJOR:MINOR (see manpage)".into(),
                    )
                })?;
                out[i + 1] = format!("{major:x}:{minor:x}");
            }
            ("comment" | "before" | "after", Some(_)) => {}
            // ipset misses an option's value before it sees a repeat.
            (
                "timeout" | "packets" | "bytes" | "comment" | "skbmark" | "skbprio" | "skbqueue",
                None,
            ) => {
                return Err(Fail::Param(format!(
                    "Missing mandatory argument of option `{}'",
                    words[i]
                )))
            }
            _ => break,
        }
        i += 2;
    }
    Ok(out)
}

/// The element of a test as ipset echoes it; a list:set position always
/// reads "after" there (ipset looks for the before flag where it is not).
fn test_elem(t: SetType, entry: &Entry) -> String {
    let mut elem = print::elem(t, entry);
    // ipset prints the range of the first address only.
    let dims = t.dims();
    let addrs: Vec<usize> = (0..dims.len())
        .filter(|&i| matches!(dims[i], Dim::Ip | Dim::Net))
        .collect();
    if let [_, second] = addrs[..] {
        let mut parts: Vec<String> = elem.splitn(dims.len(), ',').map(String::from).collect();
        if let Some(p) = parts.get_mut(second) {
            if let Some(i) = p.find('-') {
                p.truncate(i);
            }
        }
        elem = parts.join(",");
    }
    // Nor does it echo physdev: (the flag is not in the data it prints).
    if t == SetType::HashNetIface {
        elem = elem.replacen(",physdev:", ",", 1);
    }
    match &entry.position {
        Some(Position::Before(n) | Position::After(n)) if t == SetType::ListSet => {
            format!("{elem} after {n}")
        }
        _ => elem,
    }
}

impl Session<'_> {
    /// Runs one command.
    pub(crate) fn command(&mut self, line: Line) -> Result<Flow, Fail> {
        let Line {
            cmd,
            arg0,
            arg1,
            rest,
        } = line;
        let exist = self.opts.exist;
        let quiet = self.opts.quiet;
        match cmd {
            Cmd::Quit => Ok(Flow::Quit),
            Cmd::Restore => Err(Fail::Param(
                "Command `restore' is invalid in restore mode.".into(),
            )),
            Cmd::Version => {
                // ipset ignores anything after `version`.
                self.out
                    .push_str(&format!("{PREFIX}, protocol version: {IPSET_PROTOCOL}\n"));
                self.handle()?;
                Ok(Flow::Exit(0))
            }
            Cmd::Help => {
                let general = &HELP[..HELP.find("\nSupported set types:").unwrap_or(HELP.len())];
                self.out.push_str(general);
                if quiet && !self.interactive {
                    return Ok(Flow::Exit(0));
                }
                let Some(t) = arg0 else {
                    self.out.push_str(&HELP[general.len()..]);
                    return Ok(Flow::Exit(0));
                };
                match t.parse::<SetType>().ok().and_then(type_help) {
                    Some(text) => {
                        self.out.push('\n');
                        self.out.push_str(text);
                        Ok(Flow::Exit(0))
                    }
                    None => Err(Fail::Param(format!("Unknown settype: `{t}'"))),
                }
            }
            Cmd::Create => {
                let name = set_name(&arg0.unwrap_or_default())?;
                let t = set_type(&arg1.unwrap_or_default())?;
                // ipset asks the kernel for the type before it reads the
                // options, and checks each against that revision.
                let rev = self.handle()?.type_revision(t, Family::Inet)?;
                for w in &rest {
                    CreateOptions::check_revision(t, w.trim_start_matches("--"), rev)
                        .map_err(Fail::from)?;
                }
                let mut warnings = Vec::new();
                let options = create::parse(t, &rest, &mut warnings)?;
                self.handle()?
                    .create(&name, t, &options, exist)
                    .map_err(|e| create_error(e, t))?;
                if !warnings.is_empty() && !quiet {
                    eprintln!("Warning: {}", warnings.join("\n"));
                }
                Ok(Flow::Exit(0))
            }
            Cmd::Add | Cmd::Del | Cmd::Test => {
                let name = set_name(&arg0.unwrap_or_default())?;
                let elem = arg1.unwrap_or_default();
                let (t, entry) = parse_entry(self, cmd, &name, None, &elem, &rest)?;
                let h = self.handle()?;
                match cmd {
                    Cmd::Add => h.add(&name, &entry, exist)?,
                    Cmd::Del => h.del(&name, &entry, exist)?,
                    _ => {
                        let found = h.test(&name, &entry)?;
                        let elem = test_elem(t, &entry);
                        if !quiet {
                            if found {
                                eprintln!("Warning: {elem} is in set {name}.");
                            } else {
                                eprintln!("{elem} is NOT in set {name}.");
                            }
                        }
                        return Ok(Flow::Exit(if found { 0 } else { 1 }));
                    }
                }
                Ok(Flow::Exit(0))
            }
            Cmd::Destroy | Cmd::Flush => {
                let name = arg0.as_deref().map(set_name).transpose()?;
                no_more(&rest)?;
                let h = self.handle()?;
                let r = if cmd == Cmd::Destroy {
                    h.destroy(name.as_ref())
                } else {
                    h.flush(name.as_ref())
                };
                match r {
                    Err(e) if exist && cmd == Cmd::Destroy && e.is_not_found() => Ok(Flow::Exit(0)),
                    r => r.map(|_| Flow::Exit(0)).map_err(Fail::from),
                }
            }
            Cmd::Rename | Cmd::Swap => {
                let a = set_name(&arg0.unwrap_or_default())?;
                let b = set_name(&arg1.unwrap_or_default())?;
                no_more(&rest)?;
                let h = self.handle()?;
                if cmd == Cmd::Rename {
                    h.rename(&a, &b)?;
                } else {
                    h.swap(&a, &b)?;
                }
                Ok(Flow::Exit(0))
            }
            Cmd::List | Cmd::Save => {
                let name = arg0.as_deref().map(set_name).transpose()?;
                no_more(&rest)?;
                let default = if cmd == Cmd::Save {
                    Mode::Save
                } else {
                    Mode::Plain
                };
                let mode = self.opts.output.unwrap_or(default);
                let style = Style {
                    mode,
                    names: self.opts.names && mode != Mode::Save,
                    terse: self.opts.terse && mode != Mode::Save,
                    sorted: self.opts.sorted,
                    resolve: self.opts.resolve,
                };
                let h = self.handle()?;
                let sets = if style.names || style.terse {
                    h.list_headers(name.as_ref())?
                } else if cmd == Cmd::Save {
                    h.save(name.as_ref())?
                } else {
                    h.list(name.as_ref())?
                };
                self.out.push_str(&print::render(&sets, &style));
                Ok(Flow::Exit(0))
            }
        }
    }
}

/// `ipset help TYPE` of ipset 7.17 after the general part, per type.
fn type_help(t: SetType) -> Option<&'static str> {
    Some(match t {
        SetType::BitmapIp => include_str!("help/bitmap_ip.txt"),
        SetType::BitmapIpMac => include_str!("help/bitmap_ip_mac.txt"),
        SetType::BitmapPort => include_str!("help/bitmap_port.txt"),
        SetType::HashIp => include_str!("help/hash_ip.txt"),
        SetType::HashMac => include_str!("help/hash_mac.txt"),
        SetType::HashIpMac => include_str!("help/hash_ip_mac.txt"),
        SetType::HashNet => include_str!("help/hash_net.txt"),
        SetType::HashNetNet => include_str!("help/hash_net_net.txt"),
        SetType::HashIpPort => include_str!("help/hash_ip_port.txt"),
        SetType::HashNetPort => include_str!("help/hash_net_port.txt"),
        SetType::HashIpPortIp => include_str!("help/hash_ip_port_ip.txt"),
        SetType::HashIpPortNet => include_str!("help/hash_ip_port_net.txt"),
        SetType::HashIpMark => include_str!("help/hash_ip_mark.txt"),
        SetType::HashNetPortNet => include_str!("help/hash_net_port_net.txt"),
        SetType::HashNetIface => include_str!("help/hash_net_iface.txt"),
        SetType::ListSet => include_str!("help/list_set.txt"),
        _ => return None,
    })
}

/// `ipset help` of ipset 7.17, word for word.
const HELP: &str = include_str!("help.txt");
