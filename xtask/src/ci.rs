//! `cargo xtask test`: the project's one test command, stage by stage.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{bail, Context, Result};

use crate::{
    cargo::{cargo, Workspace},
    results::{self, Counts},
    vm, vmtest,
};

/// Runs fmt, clippy, doc, examples, host tests, doc tests, VM tests; stops
/// at the first failing stage.
pub fn test(ws: &Workspace, vm_opts: &vmtest::Options, with_vm: bool) -> Result<()> {
    let started = Instant::now();
    let mut host = Counts::default();

    stage("format", cargo().args(["fmt", "--all", "--check"]))?;
    stage(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    stage(
        "docs",
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-Dwarnings"),
    )?;
    stage(
        "examples",
        cargo().args(["build", "--workspace", "--examples"]),
    )?;

    header("host tests");
    let counts = if has_nextest() {
        counted(
            cargo().args(["nextest", "run", "--workspace", "--no-fail-fast"]),
            Stream::Stderr,
            results::nextest_summary,
        )?
    } else {
        eprintln!("xtask: cargo-nextest is not installed; using cargo test");
        counted(
            cargo().args([
                "test",
                "--workspace",
                "--lib",
                "--bins",
                "--tests",
                "--no-fail-fast",
            ]),
            Stream::Stdout,
            results::libtest_result,
        )?
    };
    host += counts.0;
    if !counts.1 {
        bail!("stage `host tests` failed: {}", counts.0);
    }

    header("doc tests");
    let doc = counted(
        cargo().args(["test", "--workspace", "--doc", "--no-fail-fast"]),
        Stream::Stdout,
        results::libtest_result,
    )?;
    host += doc.0;
    if !doc.1 {
        bail!("stage `doc tests` failed: {}", doc.0);
    }
    println!("host: {host}");

    let mut total = host;
    if with_vm {
        header("VM tests");
        let vm_counts = vmtest::run(ws, vm_opts);
        match vm_counts {
            Ok(c) => total += c,
            Err(e) => {
                println!("xtask test: stage `VM tests` failed: {e:#}");
                bail!("stage `VM tests` failed");
            }
        }
    }
    println!(
        "\nall stages passed in {:.0} s (host {host}{})",
        started.elapsed().as_secs_f64(),
        if with_vm {
            "; VM included"
        } else {
            "; VM skipped"
        }
    );
    println!("{total}");
    if total.failed > 0 {
        bail!("{} tests failed", total.failed);
    }
    Ok(())
}

fn header(name: &str) {
    vm::print_line(&format!("\n==> {name}"));
}

fn stage(name: &str, cmd: &mut Command) -> Result<()> {
    header(name);
    let t = Instant::now();
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("stage `{name}` failed ({status}): {}", shown(cmd));
    }
    eprintln!("xtask: {name} ok ({:.0} s)", t.elapsed().as_secs_f64());
    Ok(())
}

/// `cargo fmt --all --check`, not the Debug form with the toolchain's path.
fn shown(cmd: &Command) -> String {
    let program = std::path::Path::new(cmd.get_program())
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut line = vec![program];
    line.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    line.join(" ")
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// Runs `cmd`, echoing the chosen stream and adding up the counts its
/// summary lines report. Returns the counts and whether the command
/// succeeded.
fn counted(
    cmd: &mut Command,
    stream: Stream,
    parse: fn(&str) -> Option<Counts>,
) -> Result<(Counts, bool)> {
    match stream {
        Stream::Stdout => cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()),
        Stream::Stderr => cmd.stdout(Stdio::inherit()).stderr(Stdio::piped()),
    };
    let mut child = cmd.spawn().with_context(|| format!("running {cmd:?}"))?;
    let pipe: Box<dyn std::io::Read> = match stream {
        Stream::Stdout => Box::new(child.stdout.take().expect("piped")),
        Stream::Stderr => Box::new(child.stderr.take().expect("piped")),
    };
    let mut counts = Counts::default();
    for line in BufReader::new(pipe).lines() {
        let line = line?;
        match stream {
            Stream::Stdout => vm::print_line(&line),
            Stream::Stderr => eprintln!("{line}"),
        }
        if let Some(c) = parse(&line) {
            counts += c;
        }
    }
    let ok = child.wait()?.success();
    if !ok && counts.failed == 0 {
        counts.failed = 1;
    }
    Ok((counts, ok))
}
