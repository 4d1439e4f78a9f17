//! `ipset restore` and interactive mode (`ipset -`), both reading command
//! lines as ipset 7.17 does (`ipset_parse_stream`, `ipset_parse_line`,
//! `build_argv`). In restore, consecutive add (or del) lines of one set go
//! to the kernel together, many elements a message, as ipset batches them;
//! the first failing line stops everything after it.

use std::{borrow::Cow, io::Read as _, sync::mpsc, thread::JoinHandle};

use kipvs::ipset::{wire::IpsetCmd, AdtBatch, Entry, IpSet, SetKind, SetName};
use kipvs::Error;

use super::{
    args::{self, Cmd, Line},
    exec::{check, parse_entry, set_name},
    netdb, report, words, Fail, Flow, Session,
};

/// ipset reads lines with `fgets` into a buffer of this size: a longer
/// line is read in pieces, each taken as a line of its own.
const MAX_CMDLINE_CHARS: usize = 1024;

/// `MAX_ARGS` of ipset: a line of more words is refused.
const MAX_ARGS: usize = 32;

/// The lines of `text` as `fgets` returns them, terminators kept.
fn fgets_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        if end > MAX_CMDLINE_CHARS - 1 {
            end = MAX_CMDLINE_CHARS - 1;
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
        }
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// `build_argv`: words split at blanks, `"` toggling a quoted stretch
/// (the quote itself dropped) anywhere in a word. A quote still open at
/// the end of a line without newline is an error; with the newline, the
/// open word is dropped, as in ipset.
pub fn build_argv(line: &str) -> Result<Vec<String>, Fail> {
    build_argv_from(line, &mut Words::default())
}

/// Strings and a vector for the words of the next line: restore hands
/// back each add or del line's words when it is done with them, so a
/// run of lines allocates none.
#[derive(Default)]
struct Words {
    vec: Vec<String>,
    spare: Vec<String>,
}

impl Words {
    /// Takes back the words of a line.
    fn recycle(&mut self, line: Line) {
        let Line {
            arg0,
            arg1,
            mut rest,
            ..
        } = line;
        self.spare.extend(arg0);
        self.spare.extend(arg1);
        self.spare.append(&mut rest);
        if self.vec.capacity() == 0 {
            self.vec = rest;
        }
    }

    fn word(&mut self) -> String {
        let mut w = self.spare.pop().unwrap_or_default();
        w.clear();
        w
    }
}

/// [`build_argv`] with the strings of `words`.
fn build_argv_from(line: &str, pool: &mut Words) -> Result<Vec<String>, Fail> {
    let bytes = line.as_bytes();
    let mut words = std::mem::take(&mut pool.vec);
    words.clear();
    let mut arg = pool.word();
    // ipset looks at every byte; only quotes and (outside quotes) blanks
    // do anything, so this jumps from one to the next and copies the
    // stretches between them whole. They are ASCII: every cut falls on a
    // character boundary.
    let mut from = 0;
    let mut quoted = false;
    while from < bytes.len() {
        let next = bytes[from..]
            .iter()
            .position(|&c| c == b'"' || (!quoted && matches!(c, b' ' | b'\r' | b'\n' | b'\t')));
        let Some(i) = next.map(|n| from + n) else {
            // Ordinary bytes (or quoted blanks) to the end. A quoted
            // stretch to the end without newline is an open quote; with
            // it, the word is dropped, as in ipset.
            if quoted {
                if !matches!(bytes[bytes.len() - 1], b' ' | b'\r' | b'\n' | b'\t') {
                    return Err(Fail::Param("Missing close quote!".into()));
                }
            } else {
                arg.push_str(&line[from..]);
                words.push(std::mem::replace(&mut arg, pool.word()));
            }
            break;
        };
        arg.push_str(&line[from..i]);
        from = i + 1;
        let last = from == bytes.len();
        if bytes[i] == b'"' {
            quoted = !quoted;
            if !last {
                continue;
            }
            if quoted {
                return Err(Fail::Param("Missing close quote!".into()));
            }
        }
        if arg.is_empty() {
            continue;
        }
        words.push(std::mem::replace(&mut arg, pool.word()));
        // ipset refuses the line at the next byte once it has this many.
        if words.len() + 2 == MAX_ARGS && !last {
            return Err(Fail::Param("Line is too long to parse.".into()));
        }
    }
    pool.spare.push(arg);
    Ok(words)
}

/// Add or del lines of one set waiting to be sent: their elements
/// encoded as they come, their line numbers, and the set's kind (looked
/// up once for the run).
struct Pending {
    cmd: IpsetCmd,
    set: SetName,
    kind: SetKind,
    exist: bool,
    lines: Vec<u32>,
    batch: AdtBatch,
    /// Elements handed to the sender so far (the batch holds the rest).
    handed: usize,
    sender: Option<Sender>,
}

/// The messages of a long run that ipset would already have sent (its
/// buffers fill every hundred lines or so) go to the kernel on a thread
/// of their own, with the session's handle, while the lines after them
/// are read: the kernel's work overlaps the parsing. The first refused
/// element stops it; its position in the run comes back with the handle.
struct Sender {
    parts: mpsc::Sender<(usize, AdtBatch)>,
    thread: JoinHandle<(IpSet, Sent)>,
}

/// What the sender did: all it was handed, or up to the refused element
/// (its position in the run) and why.
type Sent = Result<(), (usize, Error)>;

impl Pending {
    /// Hands the messages ipset would have sent by now to the sender,
    /// starting it with the session's handle at the first. `Err` when the
    /// sender has stopped at a refused element: ipset stopped there too.
    fn hand_off(&mut self, session: &mut Session<'_>) -> Result<(), (usize, Fail)> {
        let Some(part) = self.batch.split_sent() else {
            return Ok(());
        };
        let offset = self.handed;
        self.handed += part.len();
        if self.sender.is_none() {
            let Some(h) = session.handle.take() else {
                // Nothing to lend (the run's first line opened the handle,
                // so this does not happen): send from here.
                return self.send_part(session, offset, part);
            };
            let (tx, rx) = mpsc::channel::<(usize, AdtBatch)>();
            let (cmd, set, exist) = (self.cmd, self.set.clone(), self.exist);
            let thread = std::thread::spawn(move || {
                let mut h = h;
                for (offset, part) in rx {
                    if let Err(b) = h.send_batch(cmd, &set, part, exist) {
                        return (h, Err((offset + b.index, b.error)));
                    }
                }
                (h, Ok(()))
            });
            self.sender = Some(Sender { parts: tx, thread });
        }
        let sent = self
            .sender
            .as_ref()
            .is_some_and(|s| s.parts.send((offset, part)).is_ok());
        if sent {
            Ok(())
        } else {
            // The sender stopped at a refused element.
            self.join(session)
        }
    }

    fn send_part(
        &self,
        session: &mut Session<'_>,
        offset: usize,
        part: AdtBatch,
    ) -> Result<(), (usize, Fail)> {
        let h = session.handle().map_err(|f| (self.line(offset), f))?;
        h.send_batch(self.cmd, &self.set, part, self.exist)
            .map_err(|b| (self.line(offset + b.index), Fail::Other(words(&b.error))))
    }

    /// Sends, and waits for, every element ipset would have sent by now.
    fn send_all_sent(&mut self, session: &mut Session<'_>) -> Result<(), (usize, Fail)> {
        self.join(session)?;
        let part = self.batch.split_all_sent();
        if part.is_empty() {
            return Ok(());
        }
        let offset = self.handed;
        self.handed += part.len();
        self.send_part(session, offset, part)
    }

    /// Waits for the sender to finish what it was handed, and gives its
    /// handle back to the session.
    fn join(&mut self, session: &mut Session<'_>) -> Result<(), (usize, Fail)> {
        let Some(Sender { parts, thread }) = self.sender.take() else {
            return Ok(());
        };
        drop(parts);
        let (h, result) = thread.join().map_err(|_| {
            (
                self.line(0),
                Fail::Other("the thread sending to the kernel failed".into()),
            )
        })?;
        session.handle = Some(h);
        result.map_err(|(i, e)| (self.line(i), Fail::Other(words(&e))))
    }

    /// The line of the run's `i`th element.
    fn line(&self, i: usize) -> usize {
        self.lines.get(i).map_or(0, |l| *l as usize)
    }
}

/// Sends `pending`; on failure returns the failing line and why.
fn send(session: &mut Session<'_>, pending: Option<Pending>) -> Result<(), (usize, Fail)> {
    let Some(mut p) = pending else { return Ok(()) };
    p.join(session)?;
    let batch = std::mem::take(&mut p.batch);
    p.send_part(session, p.handed, batch)
}

/// `ipset restore`: from `-file` or standard input; returns the exit code.
pub(crate) fn from_input(session: &mut Session<'_>) -> Result<i32, Fail> {
    let text = match &session.opts.file {
        // ipset 7.17 exits 255 without a word when the file cannot be
        // opened.
        Some(f) => std::fs::read(f).map_err(|_| Fail::Silent(255))?,
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Fail::Other(format!("Cannot read standard input: {e}")))?;
            buf
        }
    };
    // Invalid bytes read as U+FFFD, as before; valid input (all of it in
    // practice) is checked by the fast path and not copied.
    let text = String::from_utf8(text)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    run(session, &text)
}

/// Runs a restore file; returns the exit code.
fn run(session: &mut Session<'_>, text: &str) -> Result<i32, Fail> {
    let mut pending = None;
    let result = run_lines(session, text, &mut pending);
    // A line stopped the restore with add or del lines gathered: ipset
    // had sent those of its buffers that filled before it, and they
    // stay in the set; a kernel error among them stopped ipset first,
    // and is what it reports.
    if let Some(mut p) = pending {
        let sent = p.batch.ipset_sent();
        p.batch.truncate(sent);
        if let Err((l, f)) = send(session, Some(p)) {
            return Ok(report(&f, Some(l), session.opts.quiet));
        }
    }
    match result {
        Ok(code) => Ok(code),
        Err((f, Some(l))) => Ok(report(&f, Some(l), session.opts.quiet)),
        Err((f, None)) => Err(f),
    }
}

/// Why a restore stopped: a failure, reported after `Error in line N: `
/// when it has a line.
type Stop = (Fail, Option<usize>);

/// The lines of a restore file, gathered add and del lines left in
/// `pending` when one stops it before they are sent.
fn run_lines(
    session: &mut Session<'_>,
    text: &str,
    pending: &mut Option<Pending>,
) -> Result<i32, Stop> {
    let mut pool = Words::default();
    for (i, raw) in fgets_lines(text).enumerate() {
        let n = i + 1;
        session.lineno = n;
        let c = raw.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if c.is_empty() || c.starts_with('#') {
            continue;
        }
        if c == "COMMIT\n" || c == "COMMIT\r\n" {
            if let Err((l, f)) = send(session, pending.take()) {
                return Err((f, Some(l)));
            }
            continue;
        }
        // A line ipset cannot read stops the restore; add and del lines
        // buffered but not sent yet are lost with it.
        let unnumbered = |f| (f, None);
        let argv = build_argv_from(c, &mut pool).map_err(unnumbered)?;
        let quiet = session.opts.quiet;
        let argv = args::take_options(argv, &mut session.opts).map_err(unnumbered)?;
        if session.opts.quiet != quiet {
            // A refusal in what ipset had sent before this line stopped it
            // before it read this `-q`: it is reported as before it.
            if let Some(p) = pending.as_mut() {
                if let Err((l, f)) = p.send_all_sent(session) {
                    session.opts.quiet = quiet;
                    *pending = None;
                    return Err((f, Some(l)));
                }
            }
        }
        let Some(cmd) = args::command_of(&argv) else {
            return Err(unnumbered(match argv.first() {
                Some(w) => Fail::Param(format!("No command specified: unknown argument {w}")),
                None => Fail::Param("No command specified.".into()),
            }));
        };
        let line = args::split_command(cmd, argv).map_err(unnumbered)?;
        if matches!(line.cmd, Cmd::Restore | Cmd::Version | Cmd::Help) {
            return Err(unnumbered(Fail::Param(format!(
                "Command `{}' is invalid in restore mode.",
                line.cmd.name()
            ))));
        }
        let adt = match line.cmd {
            Cmd::Add => IpsetCmd::Add,
            Cmd::Del => IpsetCmd::Del,
            Cmd::Quit => return Ok(0),
            Cmd::Test => {
                // ipset's answer to a test ends a restore: a warning
                // (found, exit 0) or a notice (not found, exit 1).
                if let Err((l, f)) = send(session, pending.take()) {
                    return Err((f, Some(l)));
                }
                match session.command(line) {
                    Ok(Flow::Exit(0)) if session.opts.quiet => continue,
                    Ok(Flow::Exit(code)) => return Ok(code),
                    Ok(Flow::Quit) => return Ok(0),
                    Err(f) => return Err((f, Some(n))),
                }
            }
            _ => {
                match check(&line) {
                    Err(f @ Fail::Other(_)) => return Err((f, Some(n))),
                    Err(f) => return Err((f, None)),
                    Ok(()) => {}
                }
                if let Err((l, f)) = send(session, pending.take()) {
                    return Err((f, Some(l)));
                }
                session.flush_out();
                match session.command(line) {
                    Ok(Flow::Exit(0)) => continue,
                    Ok(Flow::Exit(code)) => return Ok(code),
                    Ok(Flow::Quit) => return Ok(0),
                    Err(f) => return Err((f, Some(n))),
                }
            }
        };
        let name = line.arg0.as_deref().unwrap_or_default();
        // A line of the run's set needs no handle; any other gets it back
        // from the sender first (a refusal there stopped ipset before).
        let known = pending
            .as_ref()
            .filter(|p| p.set.as_str() == name)
            .map(|p| p.kind);
        if known.is_none() {
            if let Some(p) = pending.as_mut() {
                if let Err((l, f)) = p.join(session) {
                    *pending = None;
                    return Err((f, Some(l)));
                }
            }
        }
        let mut set = match line_set(pending, name) {
            Ok(set) => set,
            Err(f) => return Err((f, Some(n))),
        };
        // ipset prints a line's warnings as it reads it, which it does not
        // when a refusal in what it had sent before stopped it.
        let hold = pending.is_some();
        if hold {
            netdb::hold_warnings();
        }
        let entry = element(session, &set, known, &line);
        let warnings = if hold {
            netdb::held_warnings()
        } else {
            Vec::new()
        };
        if !warnings.is_empty() {
            // The run's set name, no longer borrowed from the run.
            set = Cow::Owned(set.into_owned());
            if let Some(p) = pending.as_mut() {
                if let Err((l, f)) = p.send_all_sent(session) {
                    *pending = None;
                    return Err((f, Some(l)));
                }
            }
            for w in warnings {
                eprintln!("{w}");
            }
        }
        let entry = match entry {
            Ok(v) => v,
            Err(f) => return Err((f, Some(n))),
        };
        pool.recycle(line);
        let exist = session.opts.exist;
        // A line joins the batch of its set and command whatever its
        // -exist: the batch goes with the flags of its first line.
        let same = pending
            .as_ref()
            .is_some_and(|p| p.cmd == adt && p.set == *set);
        let set = (!same).then(|| set.into_owned());
        if let Some(set) = set {
            if let Err((l, f)) = send(session, pending.take()) {
                return Err((f, Some(l)));
            }
            let kind = match known {
                Some(k) => k,
                None => session
                    .handle()
                    .and_then(|h| h.kind(&set).map_err(Fail::from))
                    .map_err(|f| (f, Some(n)))?,
            };
            let batch = AdtBatch::like_ipset(&set);
            *pending = Some(Pending {
                cmd: adt,
                set,
                kind,
                exist,
                lines: Vec::new(),
                batch,
                handed: 0,
                sender: None,
            });
        }
        if let Some(p) = pending.as_mut() {
            p.lines.push(n as u32);
            p.batch.push(n as u32, &entry);
            if let Err((l, f)) = p.hand_off(session) {
                *pending = None;
                return Err((f, Some(l)));
            }
        }
    }
    if let Err((l, f)) = send(session, pending.take()) {
        return Err((f, Some(l)));
    }
    Ok(0)
}

/// The set an add or del line names: the waiting batch's when it is the
/// same, so a run of lines checks and copies the name once.
fn line_set<'p>(pending: &'p Option<Pending>, name: &str) -> Result<Cow<'p, SetName>, Fail> {
    match pending {
        Some(p) if p.set.as_str() == name => Ok(Cow::Borrowed(&p.set)),
        _ => set_name(name).map(Cow::Owned),
    }
}

/// The element of an add or del line of `set` (of kind `known`, if
/// known).
fn element(
    session: &mut Session<'_>,
    set: &SetName,
    known: Option<SetKind>,
    line: &Line,
) -> Result<Entry, Fail> {
    let elem = line.arg1.as_deref().unwrap_or_default();
    let (_, entry) = parse_entry(session, line.cmd, set, known, elem, &line.rest)?;
    Ok(entry)
}

/// `ipset -`: a prompt, then one command a line from standard input until
/// its end or `quit`. Errors are reported and the session goes on; `-q`
/// silences warnings but not errors there, as in ipset.
pub(crate) fn interactive(session: &mut Session<'_>) -> Result<i32, Fail> {
    const PROMPT: &str = "ipset> ";
    session.interactive = true;
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| Fail::Other(format!("Cannot read standard input: {e}")))?;
    let text = String::from_utf8_lossy(&buf);
    session.out.push_str(PROMPT);
    for raw in fgets_lines(&text) {
        let c = raw.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if c.is_empty() || c.starts_with('#') {
            session.out.push_str(PROMPT);
        } else if let Flow::Quit = interactive_line(session, c) {
            return Ok(0);
        }
        session.out.push_str(PROMPT);
        session.flush_out();
    }
    Ok(0)
}

/// One line of interactive mode.
fn interactive_line(session: &mut Session<'_>, line: &str) -> Flow {
    let result = build_argv(line)
        .and_then(|argv| args::take_options(argv, &mut session.opts))
        .and_then(|argv| match args::command_of(&argv) {
            Some(cmd) => args::split_command(cmd, argv).map(Some),
            None => Ok(None),
        });
    let line = match result {
        Ok(Some(line)) => line,
        Ok(None) => {
            session.out.push_str("No command specified\n");
            return Flow::Exit(0);
        }
        Err(f) => {
            say(session, &f);
            return Flow::Exit(0);
        }
    };
    if line.cmd == Cmd::Restore {
        session
            .out
            .push_str("Restore command is not supported in interactive mode\n");
        return Flow::Exit(0);
    }
    let test = line.cmd == Cmd::Test;
    match session.command(line) {
        // ipset 7.17 under -q has no notice to give for an element that
        // is not in the set, and says this instead.
        Ok(Flow::Exit(1)) if test && session.opts.quiet => {
            say(session, &Fail::Other("Internal protocol error".into()));
            Flow::Exit(0)
        }
        Ok(flow) => flow,
        Err(f) => {
            say(session, &f);
            Flow::Exit(0)
        }
    }
}

/// Reports an error of interactive mode, where `-q` does not apply.
fn say(session: &mut Session<'_>, f: &Fail) {
    session.flush_out();
    report(f, None, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Vec<String> {
        build_argv(line).unwrap()
    }

    #[test]
    fn words_split_as_build_argv_does() {
        assert_eq!(ok("add s 1.2.3.4\n"), ["add", "s", "1.2.3.4"]);
        assert_eq!(
            ok("add s 1.2.3.4 comment \"a b\"\n"),
            ["add", "s", "1.2.3.4", "comment", "a b"]
        );
        // A quote anywhere in a word toggles quoting and is dropped.
        assert_eq!(ok("a\"b c\"d\n"), ["ab cd"]);
        assert_eq!(ok("add s \"x\""), ["add", "s", "x"]);
        // An open quote swallows the newline, and the word with it.
        assert_eq!(ok("add s \"1.2.3.4\n"), ["add", "s"]);
        assert_eq!(
            build_argv("add s \"1.2.3.4").unwrap_err().message(),
            "Missing close quote!"
        );
        assert!(ok("\"\"\n").is_empty());
        // Words are copied a stretch at a time: between quotes, around
        // quoted blanks, whatever the characters.
        assert_eq!(ok("é \"ü ß\"x\"\"ï\tend"), ["é", "ü ßxï", "end"]);
        assert_eq!(ok("  a\r\n"), ["a"]);
        assert_eq!(ok("a \"b\""), ["a", "b"]);
    }

    /// `build_argv` as it was written first, byte by byte after ipset's
    /// loop: the reference for the stretch-wise one.
    fn build_argv_bytewise(line: &str) -> Result<Vec<String>, String> {
        let bytes = line.as_bytes();
        let mut words = Vec::new();
        let mut arg: Vec<u8> = Vec::new();
        let mut quoted = false;
        for (i, &c) in bytes.iter().enumerate() {
            if words.len() + 2 == MAX_ARGS {
                return Err("Line is too long to parse.".into());
            }
            let last = i + 1 == bytes.len();
            match c {
                b'"' => {
                    quoted = !quoted;
                    if !last {
                        continue;
                    }
                }
                b' ' | b'\r' | b'\n' | b'\t' => {
                    if quoted {
                        arg.push(c);
                        continue;
                    }
                }
                _ => {
                    arg.push(c);
                    if !last {
                        continue;
                    }
                }
            }
            if last && quoted {
                return Err("Missing close quote!".into());
            }
            if arg.is_empty() {
                continue;
            }
            words.push(String::from_utf8_lossy(&arg).into_owned());
            arg.clear();
        }
        Ok(words)
    }

    #[test]
    fn stretch_wise_words_match_the_bytewise_reader() {
        let alphabet = ["a", "é", "\"", " ", "\t", "\n"];
        let mut lines = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = lines
                .iter()
                .filter(|l| l.chars().count() == lines.last().unwrap().chars().count())
                .flat_map(|l| alphabet.iter().map(move |c| format!("{l}{c}")))
                .collect();
            lines.extend(longer);
        }
        assert_eq!(lines.len(), (0..=6).map(|n| 6usize.pow(n)).sum::<usize>());
        // And lines at the word limit, with and without more after it.
        lines.push("w ".repeat(29) + "w");
        lines.push("w ".repeat(30));
        lines.push("w ".repeat(30) + "\"");
        for line in &lines {
            let got = build_argv(line).map_err(|f| f.message().to_owned());
            assert_eq!(got, build_argv_bytewise(line), "{line:?}");
        }
        let long = "w ".repeat(40);
        assert_eq!(
            build_argv(&long).unwrap_err().message(),
            "Line is too long to parse."
        );
    }

    #[test]
    fn long_lines_come_in_fgets_pieces() {
        let line = format!("{}\nb\n", "a".repeat(1500));
        let pieces: Vec<&str> = fgets_lines(&line).collect();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[0].len(), 1023);
        assert_eq!(pieces[2], "b\n");
    }
}
