//! Test helpers shared by the kipvs crates.
//!
//! Tests that touch the kernel run in a private network namespace of their
//! own ([`private_netns`]), so they can run in parallel and leave the host as
//! it was. A test that cannot run here (not root, no IPVS in this kernel, an
//! oracle tool missing) prints why and passes as skipped, except inside the
//! test VM (`KIPVS_TEST_VM=1`), where everything must run and a missing
//! piece fails the test.
#![deny(missing_docs)]

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
};

use nix::sched::{unshare, CloneFlags};

/// True inside the test VM, where no test may be skipped.
pub fn in_vm() -> bool {
    std::env::var_os("KIPVS_TEST_VM").is_some_and(|v| v == "1")
}

/// Skips the test (returns `false`) with `reason`, or fails it in the VM.
#[track_caller]
pub fn skip(reason: &str) -> bool {
    if in_vm() {
        panic!("cannot run in the test VM: {reason}");
    }
    eprintln!("skipped: {reason}");
    false
}

/// Moves the calling test thread into a fresh network namespace with its
/// loopback up. Returns `false` (skipped) when not root.
#[track_caller]
pub fn private_netns() -> bool {
    if !nix::unistd::geteuid().is_root() {
        return skip("needs root for a private network namespace");
    }
    if let Err(e) = unshare(CloneFlags::CLONE_NEWNET) {
        return skip(&format!("unshare(CLONE_NEWNET) failed: {e}"));
    }
    // A new namespace's loopback is down, and the kernel then refuses
    // things a real node allows (IPVS refuses IPv4 real servers that are not
    // tunnelled with EINVAL). `ip` runs in this thread's namespace.
    let lo = run("ip", &["link", "set", "lo", "up"], "");
    if lo.code != 0 {
        return skip(&format!("cannot bring loopback up: {}", lo.stderr.trim()));
    }
    true
}

/// True when the kernel offers IPVS (its generic netlink family resolves).
/// Call after [`private_netns`]; skips (returns `false`) otherwise.
#[track_caller]
pub fn require_ipvs() -> bool {
    // The IPVS family registers with the module; /proc/net/ip_vs appears
    // in every namespace once it is loaded.
    if Path::new("/proc/net/ip_vs").exists() {
        true
    } else {
        skip("this kernel has no IPVS (run the VM tests: cargo xtask vm-test)")
    }
}

/// True when `kind` links can be made here (e.g. `"dummy"`); probes by
/// looking for the driver. Skips (returns `false`) otherwise.
#[track_caller]
pub fn require_link_kind(kind: &str) -> bool {
    let builtin = Path::new("/sys/module").join(kind).exists();
    if builtin {
        true
    } else {
        skip(&format!("this kernel has no {kind} link driver"))
    }
}

/// True when `program` is on the PATH; skips (returns `false`) otherwise.
#[track_caller]
pub fn require_tool(program: &str) -> bool {
    if which(program) {
        true
    } else {
        skip(&format!("{program} is not installed"))
    }
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// What a command printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
}

/// How long one command of a test may run (the slowest, a restore of
/// thousands of lines under the emulated CPU, takes seconds).
const RUN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs `program args...` with `stdin` as its input (in the calling
/// thread's network namespace) and captures what it printed.
pub fn run(program: &str, args: &[&str], stdin: &str) -> Output {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(program)
        .args(args)
        // Its own process group, so that the watchdog below can kill what
        // it started too (a shell line's tools hold its output open).
        .process_group(0)
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin_head: String = stdin.chars().take(300).collect();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    // A command that never ends (a tool reading a socket that took the
    // place of a closed descriptor, a kernel that never answers) would
    // hang the whole suite, and CI with it: kill it, and fail.
    let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let timed_out = finished.recv_timeout(RUN_TIMEOUT).is_err();
        if timed_out {
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        }
        timed_out
    });
    let out = child.wait_with_output().expect("wait for child");
    let _ = done.send(());
    let _ = writer.join();
    assert!(
        !watchdog.join().unwrap_or(false),
        "{program} {args:?} ran for over {RUN_TIMEOUT:?} and was killed; its input began {:?}",
        stdin_head
    );
    Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// Runs a shell line through `bash -c`, for oracle set-up steps; panics with
/// what it printed if it fails.
#[track_caller]
pub fn sh(line: &str) -> String {
    let out = run("bash", &["-c", line], "");
    assert_eq!(
        out.code, 0,
        "`{line}` failed:\n{}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// Asserts two texts are equal, printing a line diff when they are not.
#[track_caller]
pub fn assert_same(what: &str, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let mut diff = String::new();
    let (e, a): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => diff.push_str(&format!("  {x}\n")),
            (x, y) => {
                if let Some(x) = x {
                    diff.push_str(&format!("- {x}\n"));
                }
                if let Some(y) = y {
                    diff.push_str(&format!("+ {y}\n"));
                }
            }
        }
    }
    panic!("{what} differs (- expected, + actual):\n{diff}\nexpected: {expected:?}\nactual:   {actual:?}");
}
