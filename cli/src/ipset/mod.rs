//! The `ipset` front end: ipset 7.17's commands, options, output, messages
//! and exit codes, over the kipvs library.

mod print;
pub mod restore;

use std::{ffi::OsString, io::Write as _};

use kipvs::ipset::{CreateOptions, Entry, Family, IpSet, Op, SetName, SetType};
use kipvs::Error;

use crate::Global;
use print::{Mode, Style};

const PREFIX: &str = "ipset v7.17";

/// Exit codes of ipset (`enum ipset_err_type` of `src/ipset.c`).
const OTHER_PROBLEM: i32 = 1;
const PARAMETER_PROBLEM: i32 = 2;

/// Why a command failed, and how ipset reports it.
#[derive(Debug)]
pub(crate) enum Fail {
    /// A bad command line: message, "Try `ipset help'", exit 2.
    Param(String),
    /// Anything else: message, exit 1.
    Other(String),
}

impl Fail {
    fn code(&self) -> i32 {
        match self {
            Fail::Param(_) => PARAMETER_PROBLEM,
            Fail::Other(_) => OTHER_PROBLEM,
        }
    }

    fn message(&self) -> &str {
        match self {
            Fail::Param(m) | Fail::Other(m) => m,
        }
    }
}

/// ipset's words for a library error.
pub(crate) fn words(e: &Error) -> String {
    match e {
        Error::Kernel(k) => k
            .description
            .clone()
            .unwrap_or_else(|| format!("Kernel error received: {}", k.strerror())),
        Error::Invalid {
            what,
            value,
            reason,
        } => {
            if let Some(proto) = what.strip_suffix(" port") {
                // ipset's port parser reports three failed attempts.
                format!(
                    "Syntax error: {reason}\nSyntax error: '{proto}' is invalid as number\ncannot parse '{value}' as a {proto} port"
                )
            } else if what == "message" {
                reason.clone()
            } else {
                format!("Syntax error: {reason}")
            }
        }
        other => other.to_string(),
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        // Bad create options are parameter problems in ipset.
        if let Error::Invalid { what, reason, .. } = &e {
            if what == "create option" || what == "create options" || what == "option" {
                return Fail::Param(reason.clone());
            }
        }
        Fail::Other(words(&e))
    }
}

/// Options that apply to every command (`-exist`, `-o`, ...).
#[derive(Debug, Clone, Default)]
pub(crate) struct Opts {
    pub exist: bool,
    pub output: Option<Mode>,
    pub quiet: bool,
    pub sorted: bool,
    pub names: bool,
    pub terse: bool,
    pub file: Option<String>,
}

/// ipset's words for an element it cannot parse; an ICMP protocol of the
/// wrong family trips two later checks that differ by command.
pub(crate) fn entry_error(e: Error, cmd: Cmd) -> Fail {
    if let Error::Invalid { what, reason, .. } = &e {
        if what == "icmp family" {
            return Fail::Other(if cmd == Cmd::Add {
                format!("Syntax error: {reason}\nInvalid add command: missing setname")
            } else {
                "There are missing mandatory flags but can't check them. It's a bug, please report the problem.".into()
            });
        }
    }
    Fail::from(e)
}

/// Takes ipset's global options out of `args`, wherever they are.
fn take_options(args: Vec<String>, opts: &mut Opts) -> Result<Vec<String>, Fail> {
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-exist" | "-!" => opts.exist = true,
            "-quiet" | "-q" => opts.quiet = true,
            "-resolve" | "-r" => {}
            "-sorted" | "-s" => opts.sorted = true,
            "-name" | "-n" => opts.names = true,
            "-terse" | "-t" => opts.terse = true,
            "-output" | "-o" => {
                let m = it.next().ok_or_else(|| {
                    Fail::Param(format!("Missing mandatory argument of option `{a}'"))
                })?;
                opts.output = Some(match m.as_str() {
                    "plain" => Mode::Plain,
                    "save" => Mode::Save,
                    "xml" => Mode::Xml,
                    "json" => Mode::Json,
                    _ => {
                        return Err(Fail::Other(format!(
                            "Syntax error: unknown output mode '{m}'"
                        )))
                    }
                });
            }
            "-file" | "-f" => {
                let f = it.next().ok_or_else(|| {
                    Fail::Param(format!("Missing mandatory argument of option `{a}'"))
                })?;
                opts.file = Some(f);
            }
            _ => rest.push(a),
        }
    }
    Ok(rest)
}

/// The commands, by ipset's names and aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    Create,
    Add,
    Del,
    Test,
    Destroy,
    List,
    Save,
    Restore,
    Flush,
    Rename,
    Swap,
    Help,
    Version,
}

impl Cmd {
    fn parse(s: &str) -> Option<Cmd> {
        Some(match s {
            "create" | "n" | "-N" | "--create" => Cmd::Create,
            "add" | "-A" | "--add" => Cmd::Add,
            "del" | "-D" | "--del" => Cmd::Del,
            "test" | "-T" | "--test" => Cmd::Test,
            "destroy" | "x" | "-X" | "--destroy" => Cmd::Destroy,
            "list" | "-L" | "--list" => Cmd::List,
            "save" | "-S" | "--save" => Cmd::Save,
            "restore" | "-R" | "--restore" => Cmd::Restore,
            "flush" | "-F" | "--flush" => Cmd::Flush,
            "rename" | "e" | "-E" | "--rename" => Cmd::Rename,
            "swap" | "w" | "-W" | "--swap" => Cmd::Swap,
            "help" | "-h" | "-H" | "--help" => Cmd::Help,
            "version" | "-v" | "-V" | "--version" => Cmd::Version,
            _ => return None,
        })
    }

    /// A command word of a restore line.
    fn parse_restore(s: &str) -> Option<Cmd> {
        Cmd::parse(s)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Cmd::Create => "create",
            Cmd::Add => "add",
            Cmd::Del => "del",
            Cmd::Test => "test",
            Cmd::Destroy => "destroy",
            Cmd::List => "list",
            Cmd::Save => "save",
            Cmd::Restore => "restore",
            Cmd::Flush => "flush",
            Cmd::Rename => "rename",
            Cmd::Swap => "swap",
            Cmd::Help => "help",
            Cmd::Version => "version",
        }
    }
}

/// Runs as `ipset` with `args` (`args[0]` is the program name); returns the exit code.
pub fn main(global: &Global, args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut opts = Opts::default();
    let result = take_options(args, &mut opts).and_then(|rest| {
        let mut session = Session {
            global,
            handle: None,
            out: String::new(),
        };
        let r = session.command(&opts, &rest, 0);
        let to_file = matches!(
            rest.first().and_then(|c| Cmd::parse(c)),
            Some(Cmd::List | Cmd::Save)
        );
        match (&opts.file, to_file) {
            (Some(path), true) => {
                if let Err(e) = std::fs::write(path, session.out.as_bytes()) {
                    let reason = e.to_string();
                    let reason = reason.split(" (os error").next().unwrap_or(&reason);
                    return Err(Fail::Other(format!(
                        "Cannot open {path} for writing: {reason}"
                    )));
                }
            }
            _ => {
                let _ = std::io::stdout().write_all(session.out.as_bytes());
            }
        }
        r
    });
    match result {
        Ok(code) => code,
        Err(fail) => report(&fail, None),
    }
}

/// Prints a failure as ipset does; returns the exit code.
pub(crate) fn report(fail: &Fail, line: Option<usize>) -> i32 {
    let mut err = std::io::stderr().lock();
    match line {
        Some(n) => {
            let _ = writeln!(err, "{PREFIX}: Error in line {n}: {}", fail.message());
        }
        None => {
            let _ = writeln!(err, "{PREFIX}: {}", fail.message());
        }
    }
    if matches!(fail, Fail::Param(_)) {
        let _ = writeln!(err, "Try `ipset help' for more information.");
    }
    fail.code()
}

/// One ipset run: the kernel handle (opened on first use) and buffered
/// standard output.
pub(crate) struct Session<'a> {
    global: &'a Global,
    handle: Option<IpSet>,
    out: String,
}

fn set_name(s: &str) -> Result<SetName, Fail> {
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

impl Session<'_> {
    pub(crate) fn handle(&mut self) -> Result<&mut IpSet, Fail> {
        if self.handle.is_none() {
            let h = IpSet::new_in(&self.global.netns).map_err(|e| Fail::Other(words(&e)))?;
            self.handle = Some(h);
        }
        Ok(self.handle.as_mut().expect("opened above"))
    }

    /// Runs one command line (`args` without global options). `lineno` is
    /// the restore line, 0 on the command line.
    pub(crate) fn command(
        &mut self,
        opts: &Opts,
        args: &[String],
        lineno: usize,
    ) -> Result<i32, Fail> {
        let Some(first) = args.first() else {
            return Err(Fail::Param("No command specified.".into()));
        };
        let cmd = Cmd::parse(first).ok_or_else(|| {
            Fail::Param(format!("No command specified: unknown argument {first}"))
        })?;
        let rest = &args[1..];
        let need = |n: usize, which: &str| -> Result<(), Fail> {
            if rest.len() < n {
                Err(Fail::Param(format!(
                    "Missing {which}mandatory argument to command {}",
                    cmd.name()
                )))
            } else {
                Ok(())
            }
        };
        let at_most = |n: usize| -> Result<(), Fail> {
            match rest.get(n) {
                Some(extra) => Err(Fail::Param(format!("Unknown argument {extra}"))),
                None => Ok(()),
            }
        };
        match cmd {
            Cmd::Version => {
                at_most(0)?;
                let proto = self.handle().map(|h| h.protocol()).unwrap_or(7);
                self.out
                    .push_str(&format!("{PREFIX}, protocol version: {proto}\n"));
                Ok(0)
            }
            Cmd::Help => {
                let Some(t) = rest.first() else {
                    self.out.push_str(HELP);
                    return Ok(0);
                };
                // The general part, up to the list of types.
                let general = HELP.split("Supported set types:").next().unwrap_or(HELP);
                match t.parse::<SetType>().ok().and_then(type_help) {
                    Some(text) => {
                        self.out.push_str(general);
                        self.out.push_str(text);
                        Ok(0)
                    }
                    None => {
                        self.out
                            .push_str(general.strip_suffix('\n').unwrap_or(general));
                        Err(Fail::Param(format!("Unknown settype: `{t}'")))
                    }
                }
            }
            Cmd::Create => {
                need(1, "")?;
                need(2, "second ")?;
                let name = set_name(&rest[0])?;
                let t = set_type(&rest[1])?;
                let mut words: Vec<&str> = rest[2..].iter().map(String::as_str).collect();
                // ipset checks each option against the kernel's revision of
                // the type as it meets it, before parsing its value.
                if words.iter().any(|w| CreateOptions::min_revision(t, w) > 0) {
                    let rev = self.handle()?.type_revision(t, Family::Inet)?;
                    for w in &words {
                        CreateOptions::check_revision(t, w, rev)?;
                    }
                }
                warn_ignored(t, &mut words, opts.quiet);
                let options = CreateOptions::parse(t, &words)?;
                let exist = opts.exist;
                self.handle()?.create(&name, t, &options, exist)?;
                Ok(0)
            }
            Cmd::Add | Cmd::Del | Cmd::Test => {
                need(1, "")?;
                need(2, "second ")?;
                let name = set_name(&rest[0])?;
                let kind = self.handle()?.kind(&name)?;
                let mut entry = Entry::parse(kind.set_type, kind.family, &rest[1])
                    .map_err(|e| entry_error(e, cmd))?;
                let words: Vec<&str> = rest[2..].iter().map(String::as_str).collect();
                let op = match cmd {
                    Cmd::Add => Op::Add,
                    Cmd::Del => Op::Del,
                    _ => Op::Test,
                };
                let used = entry.parse_options_checked(kind.set_type, op, &words)?;
                if let Some(extra) = words.get(used) {
                    return Err(Fail::Param(format!("Unknown argument: `{extra}'")));
                }
                let exist = opts.exist;
                let h = self.handle()?;
                match cmd {
                    Cmd::Add => h.add(&name, &entry, exist)?,
                    Cmd::Del => h.del(&name, &entry, exist)?,
                    _ => {
                        let found = h.test(&name, &entry)?;
                        let elem = print::elem(kind.set_type, &entry);
                        if !opts.quiet {
                            if found {
                                eprintln!("Warning: {elem} is in set {name}.");
                            } else {
                                eprintln!("{elem} is NOT in set {name}.");
                            }
                        }
                        return Ok(if found { 0 } else { 1 });
                    }
                }
                Ok(0)
            }
            Cmd::Destroy | Cmd::Flush => {
                at_most(1)?;
                let name = rest.first().map(|s| set_name(s)).transpose()?;
                let exist = opts.exist;
                let h = self.handle()?;
                let r = if cmd == Cmd::Destroy {
                    h.destroy(name.as_ref())
                } else {
                    h.flush(name.as_ref())
                };
                match r {
                    Err(e) if exist && cmd == Cmd::Destroy && e.is_not_found() => Ok(0),
                    r => r.map(|_| 0).map_err(Fail::from),
                }
            }
            Cmd::Rename | Cmd::Swap => {
                need(1, "")?;
                need(2, "second ")?;
                at_most(2)?;
                let a = set_name(&rest[0])?;
                let b = set_name(&rest[1])?;
                let h = self.handle()?;
                if cmd == Cmd::Rename {
                    h.rename(&a, &b)?;
                } else {
                    h.swap(&a, &b)?;
                }
                Ok(0)
            }
            Cmd::List | Cmd::Save => {
                at_most(1)?;
                let name = rest.first().map(|s| set_name(s)).transpose()?;
                let default = if cmd == Cmd::Save {
                    Mode::Save
                } else {
                    Mode::Plain
                };
                let mode = opts.output.unwrap_or(default);
                let style = Style {
                    mode,
                    names: opts.names && mode != Mode::Save,
                    terse: opts.terse && mode != Mode::Save,
                    sorted: opts.sorted,
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
                Ok(0)
            }
            Cmd::Restore => {
                at_most(0)?;
                if lineno != 0 {
                    return Err(Fail::Other(
                        "Restore command is only enabled in non-interactive mode".into(),
                    ));
                }
                let text = match &opts.file {
                    // ipset 7.17 exits 255 without a word when the file
                    // cannot be opened.
                    Some(f) => match std::fs::read_to_string(f) {
                        Ok(t) => t,
                        Err(_) => return Ok(255),
                    },
                    None => std::io::read_to_string(std::io::stdin())
                        .map_err(|e| Fail::Other(format!("Cannot read standard input: {e}")))?,
                };
                restore::run(self, opts, &text)
            }
        }
    }

    /// Writes what is buffered so far (restore prints `list` output as it goes).
    pub(crate) fn flush_out(&mut self) {
        let _ = std::io::stdout().write_all(self.out.as_bytes());
        self.out.clear();
    }
}

/// ipset still takes the pre-6 hash options `resize`, `probes` and `gc`,
/// drops them, and says so.
fn warn_ignored(t: SetType, words: &mut Vec<&str>, quiet: bool) {
    if !t.is_hash() {
        return;
    }
    let mut lines = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if matches!(words[i], "resize" | "probes" | "gc") && i + 1 < words.len() {
            lines.push(format!(
                "Option '--{} {}' is ignored. Please upgrade your syntax.",
                words[i],
                words[i + 1]
            ));
            words.drain(i..i + 2);
        } else {
            i += 1;
        }
    }
    if !lines.is_empty() && !quiet {
        eprintln!("Warning: {}", lines.join("\n"));
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
