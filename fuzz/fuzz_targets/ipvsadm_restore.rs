//! The `kipvs ipvsadm` command-line parser (ipvsadm 1.31's popt table and
//! checks, `cli/src/ipvsadm/args.rs`) on the lines of an `ipvsadm -R`
//! restore file.
//!
//! The parser lives in the CLI binary, not a library, so this target
//! compiles its pure files (`args.rs`, `popt.rs`, `table.rs`, `usage.rs`,
//! `netdb.rs`) in place, with `Exit` restated below as the one item they take from
//! `cli/src/ipvsadm/mod.rs`. If that type changes, this target stops
//! building rather than drifting. Host and service names go through NSS
//! as ipvsadm's do, so run it in a network namespace with no network
//! (`unshare -n`) to keep DNS out of the loop.
//!
//! Input: restore-file text; each line is split into words the way
//! ipvsadm's `config_stream_read` does (blanks separate, the word
//! `ipvsadm` is dropped).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../cli/src/ipvsadm"]
#[allow(dead_code, unused_imports, clippy::all)]
mod ipvsadm {
    pub mod args;
    pub mod netdb;
    pub mod popt;
    pub mod table;
    pub mod usage;

    /// `cli/src/ipvsadm/mod.rs`'s `Exit`: how a command ends early.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Exit {
        pub code: i32,
        pub stdout: String,
        pub stderr: String,
        pub fatal: bool,
    }

    impl Exit {
        pub fn fatal(code: i32, msg: impl Into<String>) -> Exit {
            Exit {
                code,
                stdout: String::new(),
                stderr: msg.into() + "\n",
                fatal: true,
            }
        }

        pub fn stdout(text: String) -> Exit {
            Exit {
                code: 0,
                stdout: text,
                stderr: String::new(),
                fatal: true,
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // A restore file is bytes; ipvsadm reads them with fscanf.
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        let mut argv = vec!["ipvsadm".to_owned()];
        argv.extend(
            line.split([' ', '\t', '\r'])
                .filter(|w| !w.is_empty() && *w != "ipvsadm")
                .map(str::to_owned),
        );
        if argv.len() == 1 {
            continue;
        }
        match ipvsadm::args::parse(argv) {
            Ok(entry) => {
                let _ = format!("{entry:?}");
            }
            Err(exit) => {
                // A message ends the command; it is never silent.
                assert!(
                    exit.code == 0 || !exit.stderr.is_empty() || !exit.stdout.is_empty(),
                    "{exit:?}"
                );
            }
        }
    }
});
