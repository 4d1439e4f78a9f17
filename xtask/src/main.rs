//! `cargo xtask`: the kipvs test harness.
//!
//! The host kernel of a development machine may lack IPVS (and the dummy
//! link driver), so kernel-facing tests run in a throwaway VM: Debian's 6.1
//! kernel under qemu with the real ipvsadm/ipset/ip/iptables, and the
//! repository shared read-only at its host path (test binaries have that
//! path baked in). See docs/testing.md.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

mod cargo;
mod ci;
mod guest;
mod host;
mod image;
mod payload;
mod results;
mod vm;
mod vmtest;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "kipvs test harness: CI pipeline, VM tests, demo, benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The whole test suite, as CI runs it: fmt, clippy, docs, examples,
    /// host tests, doc tests, then the VM tests.
    Test {
        /// Skip the VM stage.
        #[arg(long)]
        no_vm: bool,
        #[command(flatten)]
        vm: VmTestArgs,
    },
    /// Build every test binary of the workspace and run them all in the VM
    /// (KIPVS_TEST_VM=1: tests may not skip there).
    VmTest {
        #[command(flatten)]
        vm: VmTestArgs,
        /// libtest name filters.
        filters: Vec<String>,
        /// Further libtest arguments (after `--`), e.g. `--nocapture`.
        #[arg(last = true)]
        libtest_args: Vec<String>,
    },
    /// Run a bash script in the VM as root, with the repository mounted and
    /// `kipvs` first on the PATH; exit with the script's status.
    VmRun {
        /// Use the release build of kipvs.
        #[arg(long)]
        release: bool,
        /// Do not build kipvs first.
        #[arg(long)]
        no_build: bool,
        /// The script (a host path).
        script: PathBuf,
        /// Arguments for the script.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The kube-proxy IPVS walkthrough with kipvs, in a throwaway VM.
    Demo,
    /// Benchmarks in the VM (release build). Runs every scenario unless
    /// some are named.
    Bench {
        /// Scenario names (`ipvsadm-restore`, `ipset-restore`, `addr-sync`, `sync`).
        scenarios: Vec<String>,
    },
}

#[derive(Debug, clap::Args)]
struct VmTestArgs {
    /// Only this package's tests (repeatable).
    #[arg(short, long = "package", value_name = "PKG")]
    packages: Vec<String>,
    /// libtest --test-threads in the VM (2 vCPUs).
    #[arg(long, default_value_t = 2)]
    test_threads: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(code) => ExitCode::from(u8::try_from(code.clamp(1, 255)).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let ws = cargo::Workspace::load()?;
    match cli.command {
        Cmd::Test { no_vm, vm } => {
            let opts = vmtest::Options {
                packages: vm.packages,
                test_threads: vm.test_threads,
                ..Default::default()
            };
            ci::test(&ws, &opts, !no_vm)?;
            Ok(0)
        }
        Cmd::VmTest {
            vm,
            filters,
            libtest_args,
        } => {
            let opts = vmtest::Options {
                packages: vm.packages,
                filters,
                test_threads: vm.test_threads,
                libtest_args,
            };
            let counts = vmtest::run(&ws, &opts)?;
            Ok(i32::from(counts.failed > 0))
        }
        Cmd::VmRun {
            release,
            no_build,
            script,
            args,
        } => payload::run_script(&ws, &script, &args, release, !no_build, Vec::new()),
        Cmd::Demo => payload::demo(&ws),
        Cmd::Bench { scenarios } => payload::bench(&ws, &scenarios),
    }
}
