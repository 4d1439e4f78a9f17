//! One writer at a time per node: an advisory `flock(2)` on a lock file,
//! as iptables serialises its writers with `/run/xtables.lock`.

use std::{
    fs::{File, OpenOptions},
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use nix::{
    errno::Errno,
    fcntl::{Flock, FlockArg},
};

use crate::{Error, Result};

/// The lock file kipvs uses unless told otherwise.
pub const DEFAULT_LOCK_PATH: &str = "/run/kipvs.lock";

/// A held lock; dropping it releases it (so does the process ending, even
/// by a crash: the kernel drops `flock` locks with the last descriptor).
#[derive(Debug)]
pub struct Lock {
    _file: Flock<File>,
    path: PathBuf,
}

impl Lock {
    /// Takes the exclusive lock on `path` (created if missing), waiting up
    /// to `wait` for another holder to let go; [`Error::Locked`] if it
    /// does not.
    pub fn acquire(path: impl AsRef<Path>, wait: Duration) -> Result<Lock> {
        let path = path.as_ref().to_path_buf();
        let deadline = Instant::now() + wait;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Lock {
                path: path.clone(),
                source,
            })?;
        // Polled rather than blocking: a blocking flock cannot time out
        // without signals.
        let mut pause = Duration::from_millis(1);
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(f) => return Ok(Lock { _file: f, path }),
                Err((f, Errno::EWOULDBLOCK)) => {
                    if Instant::now() >= deadline {
                        return Err(Error::Locked { path });
                    }
                    file = f;
                    thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err((_, errno)) => {
                    return Err(Error::Lock {
                        path,
                        source: errno.into(),
                    })
                }
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_gives_up() {
        let path = std::env::temp_dir().join(format!("kipvs-lock-test-{}", std::process::id()));
        let first = Lock::acquire(&path, Duration::ZERO).unwrap();
        let t = Instant::now();
        let e = Lock::acquire(&path, Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, Error::Locked { .. }), "{e}");
        assert!(t.elapsed() >= Duration::from_millis(100));
        drop(first);
        let again = Lock::acquire(&path, Duration::ZERO).unwrap();
        assert_eq!(again.path(), path);
        let _ = std::fs::remove_file(path);
    }
}
