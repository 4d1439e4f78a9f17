//! The `kipvs` command: native subcommands, and the `ipvsadm` and `ipset`
//! front ends (as `kipvs ipvsadm ARGS` / `kipvs ipset ARGS`, or when the
//! binary is invoked under those names).

use std::{ffi::OsString, path::Path, process::ExitCode};

use clap::{Parser, Subcommand};
use kipvs::NetNs;
use kipvs_cli::{ipset, ipvsadm, native, Global};

#[derive(Debug, Parser)]
#[command(
    name = "kipvs",
    version,
    about = "Program the Linux kernel load balancer (IPVS), ipsets and kube-ipvs0 over netlink",
    long_about = "Program the Linux kernel load balancer (IPVS), ipsets and kube-ipvs0 over netlink.\n\n\
        `kipvs ipvsadm ARGS` and `kipvs ipset ARGS` are drop-ins for ipvsadm and ipset \
        (so is the binary itself when invoked as `ipvsadm` or `ipset`)."
)]
struct Cli {
    /// Work in this network namespace: a name under /run/netns, a pid, or a path.
    #[arg(long, global = true, value_name = "NS")]
    netns: Option<NetNs>,
    /// Print listings as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Ipvs(native::ipvs::Command),
    #[command(flatten)]
    Ipset(native::ipset::Command),
    #[command(flatten)]
    Link(native::link::Command),
    #[command(flatten)]
    Cleanup(native::cleanup::Command),
    #[command(flatten)]
    Sync(native::sync::Command),
    /// Report what IPVS mode needs from this node (read only): IPVS, schedulers,
    /// ipset, kube-ipvs0, sysctls, stale kube-proxy state of each mode.
    Doctor(native::doctor::Args),
    /// Run as ipvsadm: same options, same output.
    #[command(disable_help_flag = true)]
    Ipvsadm {
        /// ipvsadm's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Run as ipset: same commands, same output.
    #[command(name = "ipset", disable_help_flag = true)]
    IpsetCompat {
        /// ipset's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("kipvs")
        .to_owned();
    // Invoked as ipvsadm or ipset (a symlink): be that tool, argv0 and all.
    match argv0.as_str() {
        "ipvsadm" => return exit(ipvsadm::main(&Global::default(), args)),
        "ipset" => return exit(ipset::main(&Global::default(), args)),
        _ => {}
    }
    // `kipvs [--netns NS] ipvsadm ARGS`: the front ends parse their own
    // arguments, exactly as the real tools do, so clap never sees them.
    if let Some(at) = args.iter().position(|a| a == "ipvsadm" || a == "ipset") {
        let before = &args[1..at];
        let netns = match before {
            [] => Some(NetNs::Current),
            [flag, ns] if flag == "--netns" => ns.to_str().and_then(|s| s.parse().ok()),
            [flag] => flag
                .to_str()
                .and_then(|s| s.strip_prefix("--netns="))
                .and_then(|s| s.parse().ok()),
            _ => None,
        };
        if let Some(netns) = netns {
            let global = Global { netns, json: false };
            let front: Vec<OsString> = args.drain(at..).collect();
            return exit(if front[0] == "ipvsadm" {
                ipvsadm::main(&global, front)
            } else {
                ipset::main(&global, front)
            });
        }
    }
    let cli = Cli::parse_from(args);
    let global = Global {
        netns: cli.netns.unwrap_or_default(),
        json: cli.json,
    };
    let result = match cli.command {
        Command::Ipvs(c) => c.run(&global),
        Command::Ipset(c) => c.run(&global),
        Command::Link(c) => c.run(&global),
        Command::Cleanup(c) => c.run(&global),
        Command::Sync(c) => c.run(&global),
        Command::Doctor(a) => a.run(&global),
        Command::Ipvsadm { mut args } => {
            args.insert(0, "ipvsadm".into());
            return exit(ipvsadm::main(&global, args));
        }
        Command::IpsetCompat { mut args } => {
            args.insert(0, "ipset".into());
            return exit(ipset::main(&global, args));
        }
    };
    match result {
        Ok(code) => exit(code),
        Err(e) => {
            eprintln!("kipvs: {e:#}");
            if lacks_privilege(&e) {
                eprintln!(
                    "kipvs: the kernel allows this to root only \
                     (CAP_NET_ADMIN in the network namespace): run it with sudo"
                );
            }
            ExitCode::FAILURE
        }
    }
}

/// Whether the kernel refused for want of `CAP_NET_ADMIN` somewhere in
/// the chain (errors of other crates keep the netlink error as a source).
fn lacks_privilege(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<kipvs::Error>()
            .is_some_and(kipvs::Error::is_permission)
            || cause
                .downcast_ref::<kipvs::KernelError>()
                .is_some_and(|k| k.errno == 1)
            || cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
    })
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
