//! kipvs integration tests: the `kipvs` binary against the real tools
//! (`ipvsadm`, `ipset`, `ip`, `iptables`), each test in a private network
//! namespace. IPVS tests run inside the test VM (`cargo xtask vm-test`) and
//! skip on a host kernel without IPVS.

mod cleanup;
mod doctor;
mod ipset;
mod ipvsadm;
mod link;
mod sync;
mod util;
