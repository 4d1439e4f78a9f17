//! kipvs-ipvs against the real kernel: every test runs in a private network
//! namespace of its own and needs IPVS, so it skips on a host kernel
//! without it and runs in the test VM (`cargo xtask vm-test -p kipvs-ipvs`).
//! The real ipvsadm is the oracle where it prints what was set.

mod batch;
mod brief;
mod config;
mod daemons;
mod destinations;
mod missing;
mod services;
mod traffic;

use std::{
    net::IpAddr,
    ops::{Deref, DerefMut},
    sync::{RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use kipvs_ipvs::{Ipvs, Protocol, ServiceKey};

/// The kernel numbers its service-dump position over one table shared by
/// every namespace, so a dump of many services that spans several chunks
/// repeats or skips entries while another namespace adds or deletes
/// services. Tests that dump thousands of services run alone.
static TABLE: RwLock<()> = RwLock::new(());

/// A handle to IPVS in this test's private namespace.
pub struct Kernel {
    ipvs: Ipvs,
    _shared: Option<RwLockReadGuard<'static, ()>>,
    _alone: Option<RwLockWriteGuard<'static, ()>>,
}

impl Deref for Kernel {
    type Target = Ipvs;
    fn deref(&self) -> &Ipvs {
        &self.ipvs
    }
}

impl DerefMut for Kernel {
    fn deref_mut(&mut self) -> &mut Ipvs {
        &mut self.ipvs
    }
}

fn namespace() -> Option<Ipvs> {
    if !kipvs_testutil::private_netns() || !kipvs_testutil::require_ipvs() {
        return None;
    }
    // With no route at all (loopback down) the kernel has no local table
    // yet, and refuses every IPv4 real server but a tunnel with EINVAL
    // (`inet_addr_type` answers RTN_BROADCAST in `ip_vs_new_dest`).
    kipvs_testutil::sh("ip link set lo up");
    Some(Ipvs::new().expect("IPVS handle"))
}

/// A private namespace with IPVS, and a handle to it; `None` = skipped.
#[track_caller]
pub fn setup() -> Option<Kernel> {
    let ipvs = namespace()?;
    Some(Kernel {
        ipvs,
        _shared: Some(TABLE.read().unwrap_or_else(|e| e.into_inner())),
        _alone: None,
    })
}

/// The same, for a test that dumps thousands of services: no other test
/// changes services meanwhile.
#[track_caller]
pub fn setup_alone() -> Option<Kernel> {
    let ipvs = namespace()?;
    Some(Kernel {
        ipvs,
        _shared: None,
        _alone: Some(TABLE.write().unwrap_or_else(|e| e.into_inner())),
    })
}

/// The same, with the real ipvsadm as oracle.
#[track_caller]
pub fn setup_with_ipvsadm() -> Option<Kernel> {
    let ipvs = setup()?;
    if !kipvs_testutil::require_tool("ipvsadm") {
        return None;
    }
    Some(ipvs)
}

/// An address from text.
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A TCP service key.
pub fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip(addr),
        port,
    }
}

/// A UDP service key.
pub fn udp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip(addr),
        port,
    }
}

/// What `ipvsadm ARGS` prints; panics if it fails.
#[track_caller]
pub fn ipvsadm(args: &[&str]) -> String {
    let out = kipvs_testutil::run("ipvsadm", args, "");
    assert_eq!(out.code, 0, "ipvsadm {args:?} failed: {}", out.stderr);
    out.stdout
}
