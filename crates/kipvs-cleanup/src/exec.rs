//! Running the system's tools, inside the chosen network namespace.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use kipvs_netlink::NetNs;

use crate::{Error, Result};

/// True when `program` is an executable file on `PATH`.
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Runs `program args` in `netns` with `stdin` as input; returns its
/// standard output, or [`Error::Tool`] when it exits non-zero.
pub(crate) fn run(
    netns: &NetNs,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String> {
    if !on_path(program) {
        return Err(Error::ToolMissing {
            program: program.to_owned(),
        });
    }
    // A process inherits the network namespace of the thread that spawns
    // it, so spawning from inside NetNs::run puts the tool in the namespace.
    let output = netns.run(|| {
        let mut child = Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // The tools read all input before printing much, so writing
            // first cannot deadlock on a full stdout pipe.
            pipe.write_all(input.as_bytes())?;
        }
        child.wait_with_output()
    })?;
    let output = output.map_err(|e| Error::io(format!("running {program}"), e))?;
    if !output.status.success() {
        return Err(Error::Tool {
            program: program.to_owned(),
            args: args.iter().map(|a| a.to_string()).collect(),
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    String::from_utf8(output.stdout).map_err(|e| {
        Error::io(
            format!("reading the output of {program}"),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_failure_with_stderr() {
        let e = run(
            &NetNs::Current,
            "sh",
            &["-c", "echo oops >&2; exit 3"],
            None,
        )
        .unwrap_err();
        match &e {
            Error::Tool { code, stderr, .. } => {
                assert_eq!(*code, Some(3));
                assert_eq!(stderr, "oops");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e.to_string(),
            "`sh -c echo oops >&2; exit 3` failed with exit code 3: oops"
        );
    }

    #[test]
    fn feeds_stdin() {
        assert_eq!(
            run(&NetNs::Current, "cat", &[], Some("abc")).unwrap(),
            "abc"
        );
        assert!(matches!(
            run(&NetNs::Current, "kipvs-no-such-tool", &[], None),
            Err(Error::ToolMissing { .. })
        ));
    }
}
