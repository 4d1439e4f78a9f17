//! The errors of planning and applying.

use std::{fmt, io, path::PathBuf};

/// One bad value of a desired state: where it is in the state document,
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The JSON path of the value: `services[3].destinations[1].addr`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a desired state; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            p.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// What can stop a plan or an apply as a whole. A change the kernel
/// refuses is not one of these: it is in the [`Report`](crate::Report)
/// and the rest of the plan goes on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The desired state is invalid; nothing was sent.
    Invalid(Problems),
    /// Reading the kernel's state, or talking to it at all, failed.
    Kernel(kipvs_netlink::Error),
    /// Another process holds the lock and did not release it in time.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be opened or locked.
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The system error.
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(p) => write!(f, "invalid state: {p}"),
            Error::Kernel(e) => e.fmt(f),
            Error::Locked { path } => write!(
                f,
                "another kipvs holds the lock {} (waited for it in vain)",
                path.display()
            ),
            Error::Lock { path, source } => {
                write!(f, "cannot lock {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    // The Display of each variant already says what its cause says; a
    // source as well would print it twice in an error chain.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Kernel(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

impl From<kipvs_netlink::Error> for Error {
    fn from(e: kipvs_netlink::Error) -> Self {
        Error::Kernel(e)
    }
}

impl From<Problems> for Error {
    fn from(p: Problems) -> Self {
        Error::Invalid(p)
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
