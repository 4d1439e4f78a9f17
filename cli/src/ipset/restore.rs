//! `ipset restore`: commands one a line; consecutive add (or del) lines of
//! one set go to the kernel together, many elements a message, as ipset
//! does. The first failing line stops everything after it.

use kipvs::ipset::{entry_attrs, wire::AdtAttr, wire::IpsetCmd, Entry, Op, SetName};

use super::{entry_error, report, set_name, take_options, words, Cmd, Fail, Opts, Session};

/// Add or del lines waiting to be sent.
struct Pending {
    cmd: IpsetCmd,
    set: SetName,
    exist: bool,
    items: Vec<(u32, Vec<AdtAttr>)>,
}

/// Splits a restore line into words; `"..."` is one word (comments).
pub fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                w.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
        }
        words.push(w);
    }
    words
}

/// Sends `pending`; on failure returns the failing line and why.
fn send(session: &mut Session<'_>, pending: Option<Pending>) -> Result<(), (usize, Fail)> {
    let Some(p) = pending else { return Ok(()) };
    let lines: Vec<u32> = p.items.iter().map(|(l, _)| *l).collect();
    let h = session.handle().map_err(|f| (lines[0] as usize, f))?;
    h.bulk(p.cmd, &p.set, p.items, p.exist)
        .map_err(|b| (lines[b.index] as usize, Fail::Other(words(&b.error))))
}

/// Runs a restore file; returns the exit code.
pub(super) fn run(session: &mut Session<'_>, opts: &Opts, text: &str) -> Result<i32, Fail> {
    let mut pending: Option<Pending> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let raw = split(trimmed);
        if raw[0] == "COMMIT" {
            if let Err((l, f)) = send(session, pending.take()) {
                return Ok(report(&f, Some(l)));
            }
            continue;
        }
        let mut local = opts.clone();
        let args = match take_options(raw, &mut local) {
            Ok(a) => a,
            Err(f) => return flush_then(session, pending, f, n),
        };
        let cmd = args.first().and_then(|a| Cmd::parse_restore(a));
        let adt = match cmd {
            Some(Cmd::Add) => Some(IpsetCmd::Add),
            Some(Cmd::Del) => Some(IpsetCmd::Del),
            _ => None,
        };
        let (Some(adt), true) = (adt, args.len() >= 3) else {
            if let Err((l, f)) = send(session, pending.take()) {
                return Ok(report(&f, Some(l)));
            }
            session.flush_out();
            if cmd.is_none() {
                // ipset reports an unknown command without the line.
                let first = args.first().cloned().unwrap_or_default();
                return Err(Fail::Param(format!(
                    "No command specified: unknown argument {first}"
                )));
            }
            match session.command(&local, &args, n) {
                Ok(0) => continue,
                Ok(code) => return Ok(code),
                Err(f) => return Ok(report(&f, Some(n))),
            }
        };
        let parsed = parse_element(session, &args, n);
        let (set, attrs) = match parsed {
            Ok(v) => v,
            Err(f) => return flush_then(session, pending, f, n),
        };
        let same = pending
            .as_ref()
            .is_some_and(|p| p.cmd == adt && p.set == set && p.exist == local.exist);
        if !same {
            if let Err((l, f)) = send(session, pending.take()) {
                return Ok(report(&f, Some(l)));
            }
            pending = Some(Pending {
                cmd: adt,
                set,
                exist: local.exist,
                items: Vec::new(),
            });
        }
        pending
            .as_mut()
            .expect("set above")
            .items
            .push((n as u32, attrs));
    }
    if let Err((l, f)) = send(session, pending.take()) {
        return Ok(report(&f, Some(l)));
    }
    Ok(0)
}

/// A line failed to parse: ipset drops the add/del lines it had buffered
/// but not sent yet, and stops.
fn flush_then(
    _session: &mut Session<'_>,
    pending: Option<Pending>,
    f: Fail,
    n: usize,
) -> Result<i32, Fail> {
    drop(pending);
    if let Fail::Param(_) = f {
        return Err(f);
    }
    Ok(report(&f, Some(n)))
}

fn parse_element(
    session: &mut Session<'_>,
    args: &[String],
    _n: usize,
) -> Result<(SetName, Vec<AdtAttr>), Fail> {
    let op = if args[0] == "add" || args[0] == "-A" {
        Op::Add
    } else {
        Op::Del
    };
    let set = set_name(&args[1])?;
    let kind = session.handle()?.kind(&set)?;
    let cmd = if op == Op::Add { Cmd::Add } else { Cmd::Del };
    let mut entry =
        Entry::parse(kind.set_type, kind.family, &args[2]).map_err(|e| entry_error(e, cmd))?;
    let words: Vec<&str> = args[3..].iter().map(String::as_str).collect();
    let used = entry.parse_options_checked(kind.set_type, op, &words)?;
    if let Some(extra) = words.get(used) {
        return Err(Fail::Param(format!("Unknown argument: `{extra}'")));
    }
    Ok((set, entry_attrs(&entry)))
}
