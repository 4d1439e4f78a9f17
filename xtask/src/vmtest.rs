//! `cargo xtask vm-test`: every test binary of the workspace, inside the VM.

use std::{path::Path, time::Instant};

use anyhow::{bail, Result};

use crate::{
    cargo::{TestBinary, Workspace},
    results::{self, Counts},
    vm,
};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these packages (all of the workspace when empty).
    pub packages: Vec<String>,
    /// libtest name filters.
    pub filters: Vec<String>,
    /// libtest `--test-threads`.
    pub test_threads: u32,
    /// Further libtest arguments.
    pub libtest_args: Vec<String>,
}

/// The result of one test binary in the VM.
#[derive(Debug, Clone)]
struct BinaryResult {
    name: String,
    counts: Counts,
    status: Option<i32>,
    failures: Vec<String>,
    started: Instant,
    seconds: f64,
    kernel_trouble: bool,
}

/// Builds the tests, runs them in the VM, prints a per-binary summary and
/// the final `N passed, N failed` line. Returns the counts; an error means
/// the VM itself failed (panic, timeout, no status).
pub fn run(ws: &Workspace, opts: &Options) -> Result<Counts> {
    let bins = ws.build_tests(&opts.packages)?;
    if bins.is_empty() {
        bail!("no test binaries were built");
    }
    // Integration tests run CARGO_BIN_EXE_kipvs, which cargo builds with
    // them; build it anyway so a `-p` selection never runs a stale binary
    // (a no-op when it is up to date).
    let kipvs = ws.build_kipvs(false)?;
    let marker = format!("KIPVS-TEST-{:x}", std::process::id());
    let script = runner_script(&marker, &bins, opts);
    let mut run = vm::Run::new(script, &ws.root);
    run.shares = ws.shares();
    run.scratch = vec![ws.target.join("tmp")];
    run.executables = bins.iter().map(|b| b.exe.clone()).collect();
    run.executables.push(kipvs);
    run.pin = run.executables.clone();
    run.pin_dir = Some(ws.target.join("kipvs-vm"));

    eprintln!(
        "xtask: running {} test binaries in the VM ({} vCPUs, --test-threads={})",
        bins.len(),
        run.cpus,
        opts.test_threads
    );
    let started = Instant::now();
    let mut results: Vec<BinaryResult> = Vec::new();
    let mut current: Option<BinaryResult> = None;
    let trouble = format!("{marker} KERNEL-TROUBLE");
    let begin = format!("{marker} BEGIN ");
    let end = format!("{marker} END ");
    let outcome = vm::run(&run, |line| {
        if line == trouble {
            if let Some(r) = current.as_mut() {
                r.kernel_trouble = true;
            }
            vm::print_line("==> the VM kernel logged a warning or an oops:");
            return;
        }
        if let Some(name) = line.strip_prefix(&begin) {
            current = Some(BinaryResult {
                name: name.to_owned(),
                counts: Counts::default(),
                status: None,
                failures: Vec::new(),
                started: Instant::now(),
                seconds: 0.0,
                kernel_trouble: false,
            });
            vm::print_line(&format!("==> {name}"));
            return;
        }
        if let Some(status) = line.strip_prefix(&end) {
            if let Some(mut r) = current.take() {
                r.status = status.trim().parse().ok();
                r.seconds = r.started.elapsed().as_secs_f64();
                results.push(r);
            }
            return;
        }
        vm::print_line(line);
        if let Some(r) = current.as_mut() {
            if let Some(c) = results::libtest_result(line) {
                r.counts += c;
            } else if let Some(name) = results::libtest_failure(line) {
                r.failures.push(name.to_owned());
            }
        }
    })?;
    let elapsed = started.elapsed();
    if let Some(r) = current.take() {
        // The VM died inside this binary.
        results.push(r);
    }

    let mut total = Counts::default();
    println!();
    println!("VM test summary ({:.0} s):", elapsed.as_secs_f64());
    for r in &mut results {
        // A binary that exits non-zero without failing a test (a crash,
        // an abort, a bad argument) counts as one failure.
        if (r.status != Some(0) || r.kernel_trouble) && r.counts.failed == 0 {
            r.counts.failed = 1;
        }
        let state = match r.status {
            _ if r.kernel_trouble => "KERNEL WARNING".to_string(),
            Some(0) => "ok".to_string(),
            Some(c) => format!("FAILED (exit {c})"),
            None => "DID NOT FINISH".to_string(),
        };
        println!(
            "  {:<44} {:>6.1} s  {:<18} {}",
            r.name, r.seconds, state, r.counts
        );
        for f in &r.failures {
            println!("      failed: {f}");
        }
        total += r.counts;
    }
    let missing: Vec<&TestBinary> = bins
        .iter()
        .filter(|b| !results.iter().any(|r| r.name == b.name))
        .collect();
    for b in &missing {
        println!("  {:<44} {:>8}  NOT RUN", b.name, "");
        total.failed += 1;
    }
    match outcome {
        vm::Outcome::Exited(0) => {}
        other => {
            println!("{total}");
            bail!("{other}");
        }
    }
    println!("{total}");
    Ok(total)
}

/// Kernel log lines that mean the kernel itself went wrong.
const KERNEL_TROUBLE: &str =
    "(WARNING|BUG|Oops|RIP):|general protection fault|kernel BUG|Call Trace:|refcount_t:";

fn runner_script(marker: &str, bins: &[TestBinary], opts: &Options) -> String {
    let mut s = String::from(
        "# Generated by cargo xtask vm-test.\n\
         set -u\n\
         export KIPVS_TEST_VM=1 RUST_BACKTRACE=1\n",
    );
    // quiet loglevel=1 keeps kernel warnings off the console; a test that
    // trips a WARN_ON or an oops without panicking must still fail. The log
    // is read and cleared after each binary, so the blame lands right.
    s.push_str(&format!(
        "dmesg -c >/dev/null\n\
         t() {{\n    \
         local name=$1 dir=$2 status; shift 2\n    \
         echo \"{marker} BEGIN $name\"\n    \
         (cd \"$dir\" && CARGO_MANIFEST_DIR=\"$dir\" \"$@\")\n    \
         status=$?\n    \
         dmesg -c >/tmp/kernel.log\n    \
         if grep -qE '{KERNEL_TROUBLE}' /tmp/kernel.log; then\n        \
         echo \"{marker} KERNEL-TROUBLE\"\n        \
         grep -E -B 2 -A 30 '{KERNEL_TROUBLE}' /tmp/kernel.log | head -100\n    \
         fi\n    \
         echo \"{marker} END $status\"\n\
         }}\n"
    ));
    let mut args = vec![format!("--test-threads={}", opts.test_threads.max(1))];
    args.extend(opts.libtest_args.iter().cloned());
    args.extend(opts.filters.iter().cloned());
    let args: Vec<String> = args.iter().map(|a| quote(a)).collect();
    for b in bins {
        s.push_str(&format!(
            "t {} {} {} {}\n",
            quote(&b.name),
            quote_path(&b.manifest_dir),
            quote_path(&b.exe),
            args.join(" ")
        ));
    }
    s.push_str("exit 0\n");
    s
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn quote_path(p: &Path) -> String {
    quote(&p.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_runs_each_binary_in_its_package_dir() {
        let bins = vec![TestBinary {
            name: "kipvs-netlink (test transport)".into(),
            manifest_dir: "/w/crates/kipvs-netlink".into(),
            exe: "/w/target/debug/deps/transport-1234".into(),
        }];
        let opts = Options {
            filters: vec!["batch".into()],
            test_threads: 2,
            ..Options::default()
        };
        let s = runner_script("M", &bins, &opts);
        assert!(s.contains("export KIPVS_TEST_VM=1"));
        assert!(s.contains(
            "t 'kipvs-netlink (test transport)' '/w/crates/kipvs-netlink' \
             '/w/target/debug/deps/transport-1234' '--test-threads=2' 'batch'\n"
        ));
    }
}
