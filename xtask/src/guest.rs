//! What goes into the VM's base image: Debian's kernel modules (IPVS,
//! ipset, netfilter, dummy, veth, 9p), the host's real tools at their host
//! paths with every shared library they load, busybox for the rest, and
//! `/init`. The archive is cached by fingerprint next to the kernel.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};

use crate::{
    host::{self, Kernel},
    image::{Entry, Image},
};

const INIT: &str = include_str!("../vm/init.sh");

/// Bumped when the image layout changes, so cached base images are rebuilt.
const IMAGE_FORMAT: &str = "kipvs-vm-image-3";

/// Modules loaded at boot (with their dependencies), after crc32c_generic.
/// Every IPVS scheduler, every ipset type, and the iptables/nftables pieces
/// kube-proxy and docker rules use; the rest of the netfilter modules are in
/// the image and load on demand.
const LOAD: &[&str] = &[
    "virtio_pci",
    "9pnet_virtio",
    "9p",
    "dummy",
    "veth",
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_lc",
    "ip_vs_wlc",
    "ip_vs_lblc",
    "ip_vs_lblcr",
    "ip_vs_dh",
    "ip_vs_sh",
    "ip_vs_sed",
    "ip_vs_nq",
    "ip_vs_fo",
    "ip_vs_ovf",
    "ip_vs_mh",
    "ip_set",
    "ip_set_hash_ip",
    "ip_set_hash_ipmac",
    "ip_set_hash_ipmark",
    "ip_set_hash_ipport",
    "ip_set_hash_ipportip",
    "ip_set_hash_ipportnet",
    "ip_set_hash_mac",
    "ip_set_hash_net",
    "ip_set_hash_netiface",
    "ip_set_hash_netnet",
    "ip_set_hash_netport",
    "ip_set_hash_netportnet",
    "ip_set_bitmap_ip",
    "ip_set_bitmap_ipmac",
    "ip_set_bitmap_port",
    "ip_set_list_set",
    "xt_set",
    "ip_tables",
    "iptable_nat",
    "iptable_filter",
    "iptable_mangle",
    "iptable_raw",
    "ip6_tables",
    "ip6table_nat",
    "ip6table_filter",
    "ip6table_mangle",
    "ip6table_raw",
    "nf_tables",
    "nft_compat",
    "nft_chain_nat",
    "nft_ct",
    "nft_nat",
    "nft_masq",
    "nft_reject_inet",
    "nft_fib_inet",
    "nft_numgen",
    "xt_comment",
    "xt_mark",
    "xt_MASQUERADE",
    "xt_conntrack",
    "xt_addrtype",
    "xt_multiport",
    "xt_statistic",
    "xt_recent",
    "xt_physdev",
    "xt_nat",
    "xt_tcpudp",
    "ipt_REJECT",
    "ip6t_REJECT",
];

/// Module directories copied whole (then closed over modules.dep).
const MODULE_DIRS: &[&str] = &[
    "kernel/net/netfilter",
    "kernel/net/ipv4/netfilter",
    "kernel/net/ipv6/netfilter",
    "kernel/net/bridge",
    "kernel/net/9p",
    "kernel/fs/9p",
];

/// Extra modules (with their dependencies).
const MODULE_FILES: &[&str] = &[
    "kernel/crypto/crc32c_generic.ko",
    "kernel/drivers/net/dummy.ko",
    "kernel/drivers/net/veth.ko",
    "kernel/drivers/virtio/virtio_pci.ko",
];

/// Tools from the host, at their host paths. Each must exist.
const TOOLS: &[&str] = &[
    "bash",
    "ipvsadm",
    "ipset",
    "ip",
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ip6tables",
    "ip6tables-save",
    "ip6tables-restore",
    "iptables-legacy",
    "iptables-legacy-save",
    "iptables-legacy-restore",
    "ip6tables-legacy",
    "ip6tables-legacy-save",
    "ip6tables-legacy-restore",
    "iptables-nft",
    "iptables-nft-save",
    "iptables-nft-restore",
    "ip6tables-nft",
    "ip6tables-nft-save",
    "ip6tables-nft-restore",
    "kmod",
    "modprobe",
    "lsmod",
    "insmod",
    "unshare",
    "nsenter",
    // GNU date: busybox's has no %N (nanoseconds), which benchmarks use.
    "date",
    "diff",
];

/// Tools copied when the host has them.
const OPTIONAL_TOOLS: &[&str] = &["nft", "ss", "bridge", "tc", "strace", "timeout", "cmp"];

/// Host files and trees copied when present.
const HOST_EXTRAS: &[&str] = &[
    "/etc/protocols",
    "/etc/services",
    "/etc/ethertypes",
    "/etc/nsswitch.conf",
    "/etc/iproute2",
    "/usr/share/iproute2",
    "/usr/lib/x86_64-linux-gnu/xtables",
];

/// The cached base image.
pub struct Base {
    /// What it holds.
    pub image: Image,
    /// The archive.
    pub path: PathBuf,
}

/// Builds the base image description and writes it unless an archive with
/// the same fingerprint is cached.
pub fn base_image(kernel: &Kernel) -> Result<Base> {
    let image = describe_base(kernel)?;
    let key = image.fingerprint()?;
    let dir = host::cache_dir().join(&kernel.version);
    let path = dir.join(format!("initrd-{key:016x}.cpio"));
    if !path.is_file() {
        eprintln!("xtask: building the VM image {}", path.display());
        let tmp = dir.join(format!(".initrd-{}.tmp", std::process::id()));
        image.write_cpio(fs::File::create(&tmp)?)?;
        fs::rename(&tmp, &path)?;
        // Older images (tools upgraded, layout changed) are dead weight.
        for e in fs::read_dir(&dir)?.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p != path && name.starts_with("initrd-") && name.ends_with(".cpio") {
                let _ = fs::remove_file(&p);
            }
        }
    }
    Ok(Base { image, path })
}

fn describe_base(kernel: &Kernel) -> Result<Image> {
    let mut img = Image::default();
    // Debian's merged /usr: /bin, /sbin, /lib, /lib64 are symlinks into
    // /usr on the host, and become so in the image.
    for p in ["/bin", "/sbin", "/lib", "/lib64"] {
        img.host_path(p)?;
    }
    for d in [
        "/proc", "/sys", "/dev", "/tmp", "/run", "/root", "/etc", "/var",
    ] {
        img.dir(d);
    }
    img.symlink("/var/run", "../run");
    img.data("/init", INIT, 0o755);
    img.data("/kipvs/format", IMAGE_FORMAT, 0o644);
    img.data("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644);
    img.data("/etc/group", "root:x:0:\n", 0o644);
    img.data("/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", 0o644);
    img.data("/etc/hostname", "kipvs-vm\n", 0o644);

    let mut tools = Vec::new();
    for t in TOOLS {
        let path = host::which(t).with_context(|| {
            format!("{t} is not installed on the host (apt-get install it; the VM image copies it)")
        })?;
        tools.push(path);
    }
    tools.extend(OPTIONAL_TOOLS.iter().filter_map(|t| host::which(t)));
    for t in &tools {
        img.host_path(t)?;
    }
    for extra in HOST_EXTRAS {
        let p = Path::new(extra);
        if p.is_dir() {
            img.host_tree(p)?;
        } else if p.exists() {
            img.host_path(p)?;
        }
    }
    // A Rust binary needs libgcc_s for unwinding; no tool above may.
    for lib in [
        "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/lib/x86_64-linux-gnu/libm.so.6",
    ] {
        if Path::new(lib).exists() {
            img.host_path(lib)?;
        }
    }
    // Shared libraries of every ELF file in the image so far (tools and
    // xtables plugins).
    let elves: Vec<PathBuf> = img
        .entries()
        .filter_map(|(_, e)| match e {
            Entry::HostFile(src, mode) if mode & 0o111 != 0 || is_shared_object(src) => {
                Some(src.clone())
            }
            _ => None,
        })
        .collect();
    let mut libs = BTreeSet::new();
    for elf in elves.iter().filter(|p| is_elf(p)) {
        libs.extend(shared_libraries(elf)?);
    }
    for lib in libs {
        img.host_path(&lib)?;
    }

    // busybox for everything else (mount, poweroff, sleep, ...), last on
    // the PATH and never under a real tool's name.
    let busybox = host::which("busybox").context("busybox-static is not installed")?;
    img.host_file_at("/busybox/busybox", &busybox)?;
    let applets = Command::new(&busybox).arg("--list").output()?;
    let mut real: BTreeSet<String> = TOOLS.iter().map(|s| s.to_string()).collect();
    real.extend(OPTIONAL_TOOLS.iter().map(|s| s.to_string()));
    for applet in String::from_utf8_lossy(&applets.stdout).lines() {
        if !real.contains(applet) && applet != "busybox" {
            img.symlink(format!("/busybox/{applet}"), "busybox");
        }
    }

    add_modules(&mut img, kernel)?;
    Ok(img)
}

fn add_modules(img: &mut Image, kernel: &Kernel) -> Result<()> {
    let dep =
        fs::read_to_string(kernel.modules.join("modules.dep")).context("reading modules.dep")?;
    let deps = parse_modules_dep(&dep);
    let mut wanted: BTreeSet<String> = MODULE_FILES.iter().map(|s| s.to_string()).collect();
    for (module, _) in &deps {
        if MODULE_DIRS
            .iter()
            .any(|d| module.starts_with(&format!("{d}/")))
        {
            wanted.insert(module.clone());
        }
    }
    let closure = module_closure(&deps, &wanted);
    let guest = PathBuf::from("/lib/modules").join(&kernel.version);
    for m in &closure {
        img.host_file_at(guest.join(m), kernel.modules.join(m))?;
    }
    // The index files list modules the image lacks; modprobe only reads the
    // entries it is asked for, so the full indexes are fine.
    for f in fs::read_dir(&kernel.modules)?.flatten() {
        let name = f.file_name();
        if name.to_string_lossy().starts_with("modules.") {
            img.host_file_at(guest.join(&name), f.path())?;
        }
    }
    let names: BTreeSet<String> = closure.iter().map(|m| module_name(m)).collect();
    for m in LOAD {
        if !names.contains(&m.replace('-', "_")) && !is_builtin(kernel, m) {
            bail!("module {m} is not in the kernel package {}", kernel.version);
        }
    }
    img.data("/kipvs/modules", LOAD.join(" ") + "\n", 0o644);
    Ok(())
}

fn is_builtin(kernel: &Kernel, module: &str) -> bool {
    fs::read_to_string(kernel.modules.join("modules.builtin")).is_ok_and(|s| {
        s.lines()
            .any(|l| module_name(l) == module.replace('-', "_"))
    })
}

/// `kernel/net/netfilter/xt_MARK.ko` -> `xt_MARK` (`-` read as `_`, as the
/// kernel does).
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

/// modules.dep lines: `path: dep dep ...`.
pub fn parse_modules_dep(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .filter_map(|l| {
            let (m, deps) = l.split_once(':')?;
            Some((
                m.trim().to_owned(),
                deps.split_whitespace().map(str::to_owned).collect(),
            ))
        })
        .collect()
}

/// `wanted` and everything it depends on.
pub fn module_closure(
    deps: &[(String, Vec<String>)],
    wanted: &BTreeSet<String>,
) -> BTreeSet<String> {
    let map: std::collections::HashMap<&str, &Vec<String>> =
        deps.iter().map(|(m, d)| (m.as_str(), d)).collect();
    let mut out = BTreeSet::new();
    let mut stack: Vec<String> = wanted.iter().cloned().collect();
    while let Some(m) = stack.pop() {
        if !out.insert(m.clone()) {
            continue;
        }
        if let Some(d) = map.get(m.as_str()) {
            stack.extend(d.iter().cloned());
        }
    }
    out
}

fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

fn is_shared_object(path: &Path) -> bool {
    path.to_string_lossy().contains(".so")
}

/// The shared libraries `elf` loads (absolute paths, as `ldd` resolves them
/// on the host, plus the dynamic loader).
pub fn shared_libraries(elf: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd")
        .arg(elf)
        .stderr(Stdio::null())
        .output()
        .context("running ldd")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(parse_ldd(&text))
}

/// Parses `ldd` output: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`
/// and `/lib64/ld-linux-x86-64.so.2 (0x...)`.
pub fn parse_ldd(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rhs)) => rhs.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_lines() {
        let text = "\tlinux-vdso.so.1 (0x00007ffc)\n\
                    \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
                    \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n\
                    \tlibmissing.so => not found\n";
        assert_eq!(
            parse_ldd(text),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
    }

    #[test]
    fn modules_dep_closure() {
        let deps = parse_modules_dep(
            "kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko kernel/lib/libcrc32c.ko\n\
             kernel/net/netfilter/ipvs/ip_vs.ko: kernel/lib/libcrc32c.ko\n\
             kernel/lib/libcrc32c.ko:\n\
             kernel/drivers/net/dummy.ko:\n",
        );
        let wanted = ["kernel/net/netfilter/ipvs/ip_vs_rr.ko".to_string()].into();
        let got: Vec<String> = module_closure(&deps, &wanted).into_iter().collect();
        assert_eq!(
            got,
            [
                "kernel/lib/libcrc32c.ko",
                "kernel/net/netfilter/ipvs/ip_vs.ko",
                "kernel/net/netfilter/ipvs/ip_vs_rr.ko"
            ]
        );
        assert_eq!(
            module_name("kernel/drivers/char/hw_random/virtio-rng.ko"),
            "virtio_rng"
        );
    }
}
