//! The `ipset` front end: ipset 7.17's commands, options, output, messages
//! and exit codes, over the kipvs library.
//!
//! * [`args`]: the command line grammar (options, command words);
//! * `exec`: one command, run against the kernel;
//! * [`restore`]: `ipset restore` and interactive mode (`ipset -`);
//! * `elem`: an element's text as ipset reads it;
//! * `netdb`: host and service names, as ipset resolves them;
//! * `print`: the listing formats.

pub mod args;
mod create;
mod elem;
mod exec;
mod netdb;
mod print;
pub mod restore;

use std::{ffi::OsString, io::Write as _};

use kipvs::ipset::IpSet;
use kipvs::Error;

use crate::Global;
use args::{Cmd, Opts};

const PREFIX: &str = "ipset v7.17";

/// Exit codes of ipset (`enum ipset_err_type` of `src/ipset.c`).
const OTHER_PROBLEM: i32 = 1;
const PARAMETER_PROBLEM: i32 = 2;

/// Why a command failed, and how ipset reports it.
#[derive(Debug)]
pub enum Fail {
    /// A bad command line (ipset's `custom_error` with
    /// `IPSET_PARAMETER_PROBLEM`): message, "Try `ipset help'", exit 2.
    Param(String),
    /// A session error (a parser's syntax error, a kernel error): message,
    /// after "Error in line N: " in restore mode, exit 1.
    Other(String),
    /// ipset's `custom_error` with `IPSET_OTHER_PROBLEM` (options a type
    /// does not allow): message without a line number, exit 1.
    Plain(String),
    /// No message, this exit code (ipset 7.17 exits 255 without a word
    /// when the restore file cannot be opened).
    Silent(i32),
}

impl Fail {
    fn code(&self) -> i32 {
        match self {
            Fail::Param(_) => PARAMETER_PROBLEM,
            Fail::Other(_) | Fail::Plain(_) => OTHER_PROBLEM,
            Fail::Silent(code) => *code,
        }
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Fail::Param(m) | Fail::Other(m) | Fail::Plain(m) => m,
            Fail::Silent(_) => "",
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

/// Runs as `ipset` with `args` (`args[0]` is the program name); returns the exit code.
pub fn main(global: &Global, args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut session = Session::new(global);
    let result = session.run_args(args);
    let to_file = session.to_file.take();
    let written = match to_file {
        // ipset reports a file it cannot open, not a failed write.
        Some(path) => std::fs::File::create(&path)
            .map(|mut f| {
                let _ = f.write_all(session.out.as_bytes());
            })
            .map_err(|e| {
                let reason = e.to_string();
                let reason = reason.split(" (os error").next().unwrap_or(&reason);
                Fail::Other(format!("Cannot open {path} for writing: {reason}"))
            }),
        None => {
            session.flush_out();
            Ok(())
        }
    };
    match result.and_then(|code| written.map(|_| code)) {
        Ok(code) => code,
        Err(fail) => report(&fail, None, session.opts.quiet),
    }
}

/// Prints a failure as ipset does (nothing under `-q`); returns the exit
/// code. `line` is the restore line of a session error.
pub(crate) fn report(fail: &Fail, line: Option<usize>, quiet: bool) -> i32 {
    if quiet || matches!(fail, Fail::Silent(_)) {
        return fail.code();
    }
    let mut err = std::io::stderr().lock();
    match (line, fail) {
        (Some(n), Fail::Other(m)) => match m.rsplit_once('\n') {
            // A failed port ends in a warning, which ipset reports
            // whole and unnumbered.
            Some((_, last)) if last.starts_with("cannot parse '") && last.ends_with(" port") => {
                let _ = writeln!(err, "{PREFIX}: {m}");
            }
            // Each error of a line restarts ipset's report with the line
            // number: the last one is what is left.
            Some((_, last)) => {
                let _ = writeln!(err, "{PREFIX}: Error in line {n}: {last}");
            }
            None => {
                let _ = writeln!(err, "{PREFIX}: Error in line {n}: {m}");
            }
        },
        _ => {
            let _ = writeln!(err, "{PREFIX}: {}", fail.message());
        }
    }
    if matches!(fail, Fail::Param(_)) {
        let _ = writeln!(err, "Try `ipset help' for more information.");
    }
    fail.code()
}

/// One ipset run: the kernel handle (opened on first use), the options
/// (sticky in restore and interactive mode) and buffered standard output.
pub struct Session<'a> {
    global: &'a Global,
    handle: Option<IpSet>,
    pub(crate) opts: Opts,
    out: String,
    /// `-f FILE` of a list or save on the command line.
    to_file: Option<String>,
    /// The restore line being run (0: the command line).
    lineno: usize,
    /// In `ipset -`.
    interactive: bool,
}

/// What a command line asks for beyond running one command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Done, with this exit code.
    Exit(i32),
    /// `quit`: stop now, exit 0.
    Quit,
}

impl<'a> Session<'a> {
    fn new(global: &'a Global) -> Self {
        Session {
            global,
            handle: None,
            opts: Opts::default(),
            out: String::new(),
            to_file: None,
            lineno: 0,
            interactive: false,
        }
    }

    pub(crate) fn handle(&mut self) -> Result<&mut IpSet, Fail> {
        if self.handle.is_none() {
            let h = IpSet::new_in(&self.global.netns).map_err(|e| Fail::Other(words(&e)))?;
            self.handle = Some(h);
        }
        Ok(self.handle.as_mut().expect("opened above"))
    }

    /// The command line of the program (`args` without the program name).
    fn run_args(&mut self, args: Vec<String>) -> Result<i32, Fail> {
        // ipset's MAX_ARGS, counting the program name.
        if args.len() + 1 > 32 {
            return Err(Fail::Param("Line is too long to parse.".into()));
        }
        let args = args::take_options(args, &mut self.opts)?;
        let Some(cmd) = args::command_of(&args) else {
            return match args.first() {
                Some(dash) if dash == "-" => restore::interactive(self),
                Some(other) => Err(Fail::Param(format!(
                    "No command specified: unknown argument {other}"
                ))),
                None => Err(Fail::Param("No command specified.".into())),
            };
        };
        let line = args::split_command(cmd, args)?;
        if line.cmd == Cmd::Restore {
            args::no_more(&line.rest)?;
            return restore::from_input(self);
        }
        if matches!(line.cmd, Cmd::List | Cmd::Save) {
            self.to_file = self.opts.file.clone();
        }
        match self.command(line)? {
            Flow::Exit(code) => Ok(code),
            Flow::Quit => Ok(0),
        }
    }

    /// Writes what is buffered so far (restore prints `list` output as it goes).
    pub(crate) fn flush_out(&mut self) {
        let _ = std::io::stdout().write_all(self.out.as_bytes());
        let _ = std::io::stdout().flush();
        self.out.clear();
    }
}
