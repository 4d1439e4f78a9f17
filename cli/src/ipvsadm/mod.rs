//! The `ipvsadm` front end: ipvsadm 1.31's options, output, error messages
//! and exit codes, byte for byte, over kipvs's netlink IPVS library.
//!
//! The flow follows ipvsadm's `main`: open IPVS (running `modprobe ip_vs`
//! and retrying when the family is missing), list everything when there
//! are no arguments, else parse one command ([`args`]), check it, and run
//! it. `-R` runs the lines of standard input the same way, but sends
//! consecutive changes to the kernel in batches ([`restore`]).

pub mod args;
mod bytes;
mod errors;
mod exec;
mod list;
mod netdb;
mod popt;
pub mod restore;
mod sort;
mod table;
mod usage;
mod values;

/// ipvsadm's listing formats, shared with the native subcommands.
pub(crate) mod listing {
    pub use super::args::{FMT_NUMERIC, FMT_STATS};
    pub use super::list::*;
}

use std::{
    ffi::OsString,
    io::{self, Write},
};

use kipvs::ipvs::{Info, Ipvs};

use crate::Global;

/// How a command ends early: what it prints and its exit status. `fatal`
/// is ipvsadm's `exit()` (it also ends a `-R` run); the others only end
/// the current command (popt errors, which `-R` survives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub fatal: bool,
}

impl Exit {
    /// `fail(code, msg)`.
    pub fn fatal(code: i32, msg: impl Into<String>) -> Exit {
        Exit {
            code,
            stdout: String::new(),
            stderr: msg.into() + "\n",
            fatal: true,
        }
    }

    /// ipvsadm dying of a segmentation fault (a code path of its that
    /// dereferences NULL): killed by `SIGSEGV`, its buffered standard
    /// output lost.
    pub fn segfault() -> Exit {
        Exit {
            code: -libc::SIGSEGV,
            stdout: String::new(),
            stderr: String::new(),
            fatal: true,
        }
    }

    /// Help or version text, then `exit(0)`.
    pub fn stdout(text: String) -> Exit {
        Exit {
            code: 0,
            stdout: text,
            stderr: String::new(),
            fatal: true,
        }
    }
}

/// Where ipvsadm writes, buffered as C stdio buffers it, so that what
/// reaches a shared pipe (`2>&1`) interleaves as ipvsadm's output does:
/// standard error unbuffered; standard output line-buffered on a terminal,
/// otherwise written in whole 4 KiB blocks (glibc's `st_blksize` for pipes
/// and files) with the rest at exit.
pub struct Out {
    buf: Vec<u8>,
    line_buffered: bool,
}

/// glibc's stdio buffer for pipes and regular files.
const BLOCK: usize = 4096;

impl Out {
    fn new() -> Out {
        use std::io::IsTerminal;
        Out {
            buf: Vec::new(),
            line_buffered: io::stdout().is_terminal(),
        }
    }

    pub fn print(&mut self, s: &str) {
        self.buf.extend_from_slice(&bytes::to_bytes(s));
        if self.line_buffered {
            if let Some(end) = self.buf.iter().rposition(|&b| b == b'\n') {
                let rest = self.buf.split_off(end + 1);
                self.write_out();
                self.buf = rest;
            }
        } else if self.buf.len() >= BLOCK {
            let whole = self.buf.len() / BLOCK * BLOCK;
            let rest = self.buf.split_off(whole);
            self.write_out();
            self.buf = rest;
        }
    }

    pub fn eprint(&mut self, s: &str) {
        let _ = io::stderr().write_all(&bytes::to_bytes(s));
    }

    fn write_out(&mut self) {
        let mut out = io::stdout().lock();
        let _ = out.write_all(&self.buf).and_then(|()| out.flush());
        self.buf.clear();
    }

    fn exit(&mut self, e: &Exit) -> i32 {
        if e.code < 0 {
            self.buf.clear();
            die_of_signal(-e.code);
        }
        self.print(&e.stdout);
        self.eprint(&e.stderr);
        e.code & 0xff
    }

    fn flush(&mut self) {
        self.write_out();
    }
}

/// Runs as `ipvsadm` with `args` (`args[0]` is the program name); returns the exit code.
pub fn main(global: &Global, args: Vec<OsString>) -> i32 {
    default_sigpipe();
    use std::os::unix::ffi::OsStrExt;
    let argv: Vec<String> = args
        .iter()
        .map(|a| bytes::from_bytes(a.as_bytes()))
        .collect();
    let mut out = Out::new();
    let code = run(global, argv, &mut out);
    out.flush();
    code
}

fn run(global: &Global, argv: Vec<String>, out: &mut Out) -> i32 {
    let (mut ipvs, info) = match init(global) {
        Ok(opened) => opened,
        Err(e) => return out.exit(&e),
    };
    check_ipvs_version(&info, out);
    let mut ctx = exec::Ctx {
        ipvs: &mut ipvs,
        info,
        global,
        out,
    };
    let result = if argv.len() == 1 {
        exec::list_all(&mut ctx, 0).map(|()| 0)
    } else {
        exec::process(&mut ctx, argv, false)
    };
    match result {
        Ok(code) => code & 0xff,
        Err(e) => ctx.out.exit(&e),
    }
}

/// `check_ipvs_version`: ipvsadm warns below IPVS 1.1.4.
fn check_ipvs_version(info: &Info, out: &mut Out) {
    let v = info.version;
    if v < 0x010104 {
        out.eprint(&format!(
            "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {}.{}.{}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
            (v >> 16) & 0xff,
            (v >> 8) & 0xff,
            v & 0xff
        ));
    }
}

/// `ipvs_init`, with ipvsadm's `modprobe ip_vs` and one retry; like
/// libipvs, it reads the version and connection table size (`-L`'s header).
fn init(global: &Global) -> Result<(Ipvs, Info), Exit> {
    let open = || {
        let mut ipvs = Ipvs::new_in(&global.netns)?;
        let info = ipvs.info()?;
        Ok::<_, kipvs::Error>((ipvs, info))
    };
    let err = match open() {
        Ok(ipvs) => return Ok(ipvs),
        Err(e) => e,
    };
    let err = if modprobe_ipvs() {
        match open() {
            Ok(ipvs) => return Ok(ipvs),
            Err(e) => e,
        }
    } else {
        err
    };
    // ipvsadm falls back to the old sockopt interface, which on a kernel
    // without IPVS fails with ENOPROTOOPT.
    let errno = match &err {
        kipvs::Error::FamilyNotFound { .. } => errors::ENOPROTOOPT,
        e => errors::errno_of(e),
    };
    Err(Exit::fatal(
        2,
        format!(
            "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?",
            errors::ipvs_strerror(errors::Func::Init, errno)
        ),
    ))
}

/// `modprobe_ipvs`: ipvsadm runs `/sbin/modprobe -- ip_vs` (whose own
/// complaints reach the user's terminal) before giving up.
fn modprobe_ipvs() -> bool {
    std::process::Command::new("/sbin/modprobe")
        .args(["--", "ip_vs"])
        .stdin(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Ends the process by `signal` with its default action, as the kernel
/// ends a C program that faults, so that the parent sees the same wait
/// status. The Rust runtime's own `SIGSEGV` handler is put back to the
/// default first.
#[allow(unsafe_code)]
fn die_of_signal(signal: i32) -> ! {
    // SAFETY: resetting a signal's disposition to SIG_DFL and raising it
    // touch no memory of this program.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    std::process::abort()
}

/// A C program writing to a pipe nobody reads dies of `SIGPIPE` (`ipvsadm
/// -Ln | head -1` exits 141 under `pipefail`); the Rust runtime ignores
/// the signal, so put its default action back.
#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: setting a signal's disposition touches no memory of this program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
