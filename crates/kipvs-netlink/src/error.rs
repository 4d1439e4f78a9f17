//! The one error type of kipvs.

use std::{fmt, io};

/// Result with the kipvs [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between kipvs and the kernel.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused a request: an errno, and what the kernel said.
    Kernel(KernelError),
    /// A generic netlink family is not registered: its module is not loaded.
    FamilyNotFound {
        /// The family name, e.g. `"IPVS"`.
        family: String,
    },
    /// A socket operation failed.
    Io {
        /// What kipvs was doing.
        context: String,
        /// The system error.
        source: io::Error,
    },
    /// The kernel sent bytes that do not decode.
    Decode {
        /// What kipvs was decoding.
        context: String,
        /// Why it failed.
        message: String,
    },
    /// The kernel did not answer within the socket timeout.
    Timeout,
    /// A value given by the caller is not valid; nothing was sent.
    Invalid {
        /// What the value is for (e.g. `"scheduler"`).
        what: String,
        /// The value as given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A network namespace could not be entered.
    Namespace {
        /// The namespace as named by the caller.
        name: String,
        /// The system error.
        source: io::Error,
    },
}

impl Error {
    /// An [`Error::Invalid`] naming the bad value.
    pub fn invalid(
        what: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            what: what.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        if matches!(
            source.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            return Error::Timeout;
        }
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn decode(context: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::Decode {
            context: context.into(),
            message: message.to_string(),
        }
    }

    /// The kernel error, if this is one.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            Error::Kernel(k) => Some(k),
            _ => None,
        }
    }

    /// The errno the kernel answered with, if any.
    pub fn errno(&self) -> Option<i32> {
        self.kernel().map(|k| k.errno)
    }

    /// The object already exists (`EEXIST`).
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(nix::libc::EEXIST)
    }

    /// The object does not exist (`ENOENT`; `ESRCH` as IPVS says it;
    /// `ENODEV` for a link; `EADDRNOTAVAIL` for an address).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.errno(),
            Some(
                nix::libc::ENOENT | nix::libc::ESRCH | nix::libc::ENODEV | nix::libc::EADDRNOTAVAIL
            )
        )
    }

    /// The caller lacks `CAP_NET_ADMIN` (`EPERM`).
    pub fn is_permission(&self) -> bool {
        self.errno() == Some(nix::libc::EPERM)
            || matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied)
    }

    /// The object is in use (`EBUSY`).
    pub fn is_busy(&self) -> bool {
        self.errno() == Some(nix::libc::EBUSY)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Kernel(k) => k.fmt(f),
            Error::FamilyNotFound { family } if family == "IPVS" => {
                f.write_str("IPVS is not available: load the ip_vs module")
            }
            Error::FamilyNotFound { family } => write!(
                f,
                "generic netlink family {family:?} is not available: load its kernel module"
            ),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Decode { context, message } => {
                write!(f, "cannot decode {context}: {message}")
            }
            Error::Timeout => f.write_str("the kernel did not answer in time"),
            Error::Invalid {
                what,
                value,
                reason,
            } => write!(f, "invalid {what} {value:?}: {reason}"),
            Error::Namespace { name, source } => {
                write!(f, "cannot enter network namespace {name}: {source}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Namespace { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<KernelError> for Error {
    fn from(e: KernelError) -> Self {
        Error::Kernel(e)
    }
}

/// An `NLMSG_ERROR` from the kernel, with its extended ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// The positive errno (`EEXIST` is 17). Protocols may use their own
    /// codes above 4096 (ipset's `IPSET_ERR_*`).
    pub errno: i32,
    /// The extended-ack message (`NLMSGERR_ATTR_MSG`), if the kernel sent one.
    pub message: Option<String>,
    /// The offset of the offending attribute in the request
    /// (`NLMSGERR_ATTR_OFFS`), if the kernel sent one.
    pub offset: Option<u32>,
    /// What the request was, in words, when the protocol layer knows it
    /// (e.g. "adding service TCP 10.0.0.1:80").
    pub context: Option<String>,
    /// A protocol's own meaning of the code (ipset's words for 4096+).
    pub description: Option<String>,
    /// The refused request's payload (after its netlink header) as the
    /// kernel echoed it, when it sent it uncapped. ipset's kernel side
    /// answers bulk requests this way and writes the line number of the
    /// failing entry into the echoed `IPSET_ATTR_LINENO`.
    pub request: Option<Vec<u8>>,
}

impl KernelError {
    /// A kernel error with no extended ack.
    pub fn new(errno: i32) -> Self {
        KernelError {
            errno,
            message: None,
            offset: None,
            context: None,
            description: None,
            request: None,
        }
    }

    /// The system's text for the errno, as the C library's `strerror(3)`
    /// gives it (the text ipvsadm and ipset print).
    pub fn strerror(&self) -> String {
        if self.errno > 4095 {
            return format!("Unknown error {}", self.errno);
        }
        // std renders "TEXT (os error N)" from strerror_r.
        let text = io::Error::from_raw_os_error(self.errno).to_string();
        match text.rfind(" (os error ") {
            Some(at) => text[..at].to_owned(),
            None => text,
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(context) = &self.context {
            write!(f, "{context}: ")?;
        }
        match &self.description {
            Some(d) => f.write_str(d)?,
            None => f.write_str(&self.strerror())?,
        }
        if self.errno <= 4095 {
            write!(f, " (errno {})", self.errno)?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for KernelError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_errno_and_ext_ack() {
        let mut e = KernelError::new(17);
        e.message = Some("Attribute failed policy validation".into());
        assert_eq!(
            e.to_string(),
            "File exists (errno 17): Attribute failed policy validation"
        );
        assert!(Error::from(e).is_exists());
    }

    #[test]
    fn strerror_is_the_c_library_text() {
        assert_eq!(KernelError::new(95).strerror(), "Operation not supported");
        assert_eq!(KernelError::new(3).strerror(), "No such process");
    }

    #[test]
    fn ipvs_missing_says_what_to_do() {
        let e = Error::FamilyNotFound {
            family: "IPVS".into(),
        };
        assert_eq!(
            e.to_string(),
            "IPVS is not available: load the ip_vs module"
        );
    }

    #[test]
    fn invalid_names_the_value() {
        let e = Error::invalid("scheduler", "foo", "unknown scheduler");
        assert_eq!(
            e.to_string(),
            "invalid scheduler \"foo\": unknown scheduler"
        );
    }
}
