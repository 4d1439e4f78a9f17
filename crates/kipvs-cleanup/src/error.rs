//! The error type of the clean-up.

use std::{fmt, io, path::PathBuf};

/// Result with the clean-up [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a clean-up.
///
/// The clean-up drives the system's own tools (`iptables-*-save`,
/// `iptables-*-restore`, `nft`) for the packet filter, and netlink for the
/// kernel objects, so besides [`kipvs_netlink::Error`] it can fail on a tool.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A tool ran and reported failure.
    Tool {
        /// The program, e.g. `iptables-nft-restore`.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Its exit code (`None` when killed by a signal).
        code: Option<i32>,
        /// What it printed on standard error, trimmed.
        stderr: String,
    },
    /// A tool is not installed.
    ToolMissing {
        /// The program that was looked for on `PATH`.
        program: String,
    },
    /// `iptables-save` (or a backup file) printed something that is not
    /// the iptables-save format.
    Parse {
        /// The 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A backup file cannot be read, written or understood.
    Backup {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
        /// The system error, if any.
        source: Option<io::Error>,
    },
    /// Running a program or reading its output failed.
    Io {
        /// What the clean-up was doing.
        context: String,
        /// The system error.
        source: io::Error,
    },
    /// A netlink operation failed (IPVS services, ipsets, links, namespaces).
    Netlink(kipvs_netlink::Error),
    /// The clean-up would remove the state of the mode kube-proxy runs
    /// now, and was not forced.
    Live(Box<crate::live::Refusal>),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn backup(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Backup {
            path: path.into(),
            reason: reason.into(),
            source: None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Tool {
                program,
                args,
                code,
                stderr,
            } => {
                write!(f, "`{program}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                match code {
                    Some(c) => write!(f, "` failed with exit code {c}")?,
                    None => write!(f, "` was killed by a signal")?,
                }
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            Error::ToolMissing { program } => {
                write!(f, "{program} is not installed (not found on PATH)")
            }
            Error::Parse { line, text, reason } => {
                write!(f, "iptables-save line {line}: {reason}: {text:?}")
            }
            Error::Backup {
                path,
                reason,
                source,
            } => {
                write!(f, "backup {}: {reason}", path.display())?;
                if let Some(s) = source {
                    write!(f, ": {s}")?;
                }
                Ok(())
            }
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Netlink(e) => e.fmt(f),
            Error::Live(r) => r.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Backup {
                source: Some(s), ..
            } => Some(s),
            Error::Netlink(e) => Some(e),
            _ => None,
        }
    }
}

impl From<kipvs_netlink::Error> for Error {
    fn from(e: kipvs_netlink::Error) -> Self {
        Error::Netlink(e)
    }
}
