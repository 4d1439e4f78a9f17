//! Network namespaces, entered per thread.

use std::{
    fmt,
    fs::File,
    path::{Path, PathBuf},
    str::FromStr,
};

use nix::sched::{setns, CloneFlags};

use crate::{Error, Result};

/// A network namespace to work in.
///
/// kipvs never moves the caller's thread: [`NetNs::run`] enters the
/// namespace on a short-lived thread of its own. Netlink sockets opened
/// there, and processes spawned there, stay in that namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NetNs {
    /// The namespace of the calling thread.
    #[default]
    Current,
    /// The namespace behind a file: `/run/netns/NAME`, `/proc/PID/ns/net`,
    /// or any bind mount of one.
    Path(PathBuf),
}

impl NetNs {
    /// A namespace made by `ip netns add NAME` (`/run/netns/NAME`).
    pub fn named(name: &str) -> Self {
        NetNs::Path(Path::new("/run/netns").join(name))
    }

    /// The namespace of process `pid`.
    pub fn pid(pid: u32) -> Self {
        NetNs::Path(PathBuf::from(format!("/proc/{pid}/ns/net")))
    }

    /// Runs `f` inside this namespace and returns what it returns.
    pub fn run<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let path = match self {
            NetNs::Current => return Ok(f()),
            NetNs::Path(p) => p,
        };
        let fail = |source| Error::Namespace {
            name: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(fail)?;
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| fail(e.into()))?;
                    Ok(f())
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl FromStr for NetNs {
    type Err = Error;

    /// `NAME` (under `/run/netns`), a pid, or a path (anything with a `/`).
    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty() {
            return Err(Error::invalid("network namespace", s, "empty name"));
        }
        if s.contains('/') {
            return Ok(NetNs::Path(PathBuf::from(s)));
        }
        if let Ok(pid) = s.parse::<u32>() {
            return Ok(NetNs::pid(pid));
        }
        Ok(NetNs::named(s))
    }
}

impl fmt::Display for NetNs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetNs::Current => f.write_str("current"),
            NetNs::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_pid_and_path() {
        assert_eq!("blue".parse::<NetNs>().unwrap(), NetNs::named("blue"));
        assert_eq!(
            "42".parse::<NetNs>().unwrap(),
            NetNs::Path("/proc/42/ns/net".into())
        );
        assert_eq!(
            "/var/run/x".parse::<NetNs>().unwrap(),
            NetNs::Path("/var/run/x".into())
        );
        assert!("".parse::<NetNs>().is_err());
    }

    #[test]
    fn missing_namespace_is_a_clear_error() {
        let e = NetNs::named("kipvs-no-such-ns").run(|| ()).unwrap_err();
        assert!(e.to_string().contains("/run/netns/kipvs-no-such-ns"), "{e}");
    }
}
