//! libipvs's `ipvs_strerror`: the message for an errno depends on which
//! library call failed ("Service not defined" when adding a real server,
//! "No such service" when deleting a service, ...).

use kipvs::Error;

use super::netdb;

/// The libipvs call that failed (`ipvs_func`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Init,
    AddService,
    UpdateService,
    DelService,
    ZeroService,
    AddDest,
    UpdateDest,
    DelDest,
    SetTimeout,
    StartDaemon,
    StopDaemon,
    Flush,
    GetServices,
    GetDests,
    GetService,
}

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const ESRCH: i32 = 3;
const ENOMEM: i32 = 12;
const EEXIST: i32 = 17;
const EINVAL: i32 = 22;
pub const ENOPROTOOPT: i32 = 92;
const EOPNOTSUPP: i32 = 95;
const EAFNOSUPPORT: i32 = 97;
const EMSGSIZE: i32 = 90;

/// `ipvs_strerror(errno)` after a call to `func`.
pub fn ipvs_strerror(func: Func, errno: i32) -> String {
    use Func::*;
    let specific = match (func, errno) {
        (AddService, EEXIST) => Some("Service already exists"),
        (AddService, ENOENT) => Some("Scheduler or persistence engine not found"),
        (UpdateService, ESRCH) => Some("No such service"),
        (UpdateService, ENOENT) => Some("Scheduler or persistence engine not found"),
        (DelService, ESRCH) => Some("No such service"),
        (ZeroService, ESRCH) => Some("No such service"),
        (AddDest, ESRCH) => Some("Service not defined"),
        (AddDest, EEXIST) => Some("Destination already exists"),
        (UpdateDest, ESRCH) => Some("Service not defined"),
        (UpdateDest, ENOENT) => Some("No such destination"),
        (DelDest, ESRCH) => Some("Service not defined"),
        (DelDest, ENOENT) => Some("No such destination"),
        (StartDaemon, EEXIST) => Some("Daemon has already run"),
        (StopDaemon, ESRCH) => Some("No daemon is running"),
        (GetServices, ESRCH) => Some("No such service"),
        (GetDests, ESRCH) => Some("No such service"),
        (GetService, ESRCH) => Some("No such service"),
        _ => None,
    };
    let generic = match errno {
        EPERM => Some("Permission denied (you must be root)"),
        EINVAL => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        ENOPROTOOPT => Some("Protocol not available"),
        ENOMEM => Some("Memory allocation problem"),
        EOPNOTSUPP => Some("Operation not supported with IPv6"),
        EAFNOSUPPORT => Some("Operation not supported with specified address family"),
        EMSGSIZE => Some("Module is wrong version"),
        _ => None,
    };
    specific
        .or(generic)
        .map(str::to_owned)
        .unwrap_or_else(|| netdb::strerror(errno))
}

/// The errno libipvs would have seen for a kipvs error.
pub fn errno_of(e: &Error) -> i32 {
    match e {
        Error::Kernel(k) => k.errno.abs(),
        Error::FamilyNotFound { .. } => ENOPROTOOPT,
        Error::Io { source, .. } | Error::Namespace { source, .. } => {
            source.raw_os_error().unwrap_or(EINVAL)
        }
        // A value the library refuses before sending is one the kernel
        // would have refused as invalid.
        _ => EINVAL,
    }
}

/// `ENOENT`/`EEXIST`/`ESRCH`, for emulating the kernel's answer to a
/// request the library cannot encode (a scheduler name it refuses).
pub mod errno {
    pub const ENOENT: i32 = super::ENOENT;
    pub const EEXIST: i32 = super::EEXIST;
    pub const ESRCH: i32 = super::ESRCH;
    pub const ENODEV: i32 = 19;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_depend_on_the_call() {
        assert_eq!(ipvs_strerror(Func::AddDest, ESRCH), "Service not defined");
        assert_eq!(ipvs_strerror(Func::DelService, ESRCH), "No such service");
        assert_eq!(
            ipvs_strerror(Func::AddDest, EEXIST),
            "Destination already exists"
        );
        assert_eq!(
            ipvs_strerror(Func::UpdateDest, ENOENT),
            "No such destination"
        );
        assert_eq!(
            ipvs_strerror(Func::AddService, ENOMEM),
            "Memory allocation problem"
        );
        assert_eq!(
            ipvs_strerror(Func::Init, ENOPROTOOPT),
            "Protocol not available"
        );
        assert_eq!(ipvs_strerror(Func::Flush, ESRCH), "No such process");
    }
}
