//! The test VM: Debian's 6.1 kernel under qemu (TCG), an initramfs with
//! busybox, the real ipvsadm/ipset/ip/iptables/nft and the netfilter, IPVS,
//! ipset, dummy, veth and 9p modules, and the repository shared read-only
//! over 9p at its host path.
//!
//! The image is two cpio archives concatenated (the kernel unpacks both):
//! a base built from the host's tools and cached by fingerprint, and a small
//! per-run overlay with the payload script, the mounts, and any shared
//! library a payload executable needs that the base lacks.

use std::{
    collections::BTreeSet,
    fs,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
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

/// Options for one VM run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The bash script run as root (in `cwd`).
    pub script: String,
    /// The directory the script starts in.
    pub cwd: PathBuf,
    /// Environment for the script.
    pub env: Vec<(String, String)>,
    /// Host directories shared read-only at the same guest paths.
    pub shares: Vec<PathBuf>,
    /// Guest directories to cover with a writable tmpfs (inside shares).
    pub scratch: Vec<PathBuf>,
    /// Host executables the script runs: shared libraries they need are
    /// added to the image.
    pub executables: Vec<PathBuf>,
    /// Files to pin for the run: each is hard-linked into `pin_dir` before
    /// boot and bind-mounted over its own path in the VM, so a rebuild on
    /// the host while the VM runs (cargo replaces binaries in place of the
    /// old ones) cannot pull a file from under a running test.
    pub pin: Vec<PathBuf>,
    /// A directory inside a share, on the same filesystem as the pinned
    /// files (the target directory).
    pub pin_dir: Option<PathBuf>,
    /// Extra files put in the image (guest path, contents).
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// Guest memory in MiB.
    pub memory_mib: u32,
    /// Virtual CPUs.
    pub cpus: u32,
    /// Kill the VM after this long.
    pub timeout: Duration,
}

impl Run {
    /// A run of `script` with the workspace shared, 2 vCPUs and 2 GiB.
    pub fn new(script: impl Into<String>, workspace: &Path) -> Self {
        Run {
            script: script.into(),
            cwd: workspace.to_owned(),
            env: Vec::new(),
            shares: vec![workspace.to_owned()],
            scratch: Vec::new(),
            executables: Vec::new(),
            pin: Vec::new(),
            pin_dir: None,
            files: Vec::new(),
            memory_mib: 2048,
            cpus: 2,
            timeout: timeout_from_env(Duration::from_secs(1800)),
        }
    }
}

/// `KIPVS_VM_TIMEOUT` (seconds) or the default.
pub fn timeout_from_env(default: Duration) -> Duration {
    std::env::var("KIPVS_VM_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(default)
}

/// How a VM run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The script ran and exited with this status.
    Exited(i32),
    /// The kernel panicked.
    Panic,
    /// The VM did not finish in time and was killed.
    Timeout,
    /// The VM stopped without reporting the script's status.
    Lost,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Exited(c) => write!(f, "the script exited with status {c}"),
            Outcome::Panic => write!(f, "the VM kernel panicked"),
            Outcome::Timeout => write!(f, "the VM did not finish in time (KIPVS_VM_TIMEOUT)"),
            Outcome::Lost => write!(f, "the VM stopped without reporting a status"),
        }
    }
}

/// Boots the VM, runs `run.script`, and passes each console line the
/// script printed to `on_line`.
pub fn run(run: &Run, mut on_line: impl FnMut(&str)) -> Result<Outcome> {
    host::ensure_packages(host::VM_PACKAGES)?;
    let kernel = host::kernel()?;
    let base = base_image(&kernel)?;
    let work = host::tempdir(&host::cache_dir(), "run")?;
    let _cleanup = RemoveOnDrop(work.clone());

    let nonce = format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let mut overlay = Image::default();
    overlay.data("/kipvs/nonce", nonce.clone(), 0o644);
    overlay.data("/kipvs/run.sh", run.script.clone(), 0o755);
    overlay.data("/kipvs/cwd", run.cwd.to_string_lossy().into_owned(), 0o644);
    let mut env = String::new();
    for (k, v) in &run.env {
        env.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    overlay.data("/kipvs/env", env, 0o644);
    let mut mounts = String::new();
    let mut qemu_shares = Vec::new();
    for (i, share) in dedup_shares(&run.shares).iter().enumerate() {
        let tag = format!("share{i}");
        mounts.push_str(&format!("{tag} ro {}\n", share.display()));
        qemu_shares.push((tag, share.clone()));
    }
    overlay.data("/kipvs/mounts", mounts, 0o644);
    let scratch: String = run
        .scratch
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    overlay.data("/kipvs/tmpfs", scratch, 0o644);
    let mut binds = String::new();
    let _pins = match (&run.pin_dir, run.pin.is_empty()) {
        (Some(dir), false) => {
            let dir = dir.join(format!("pin-{nonce}"));
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let guard = RemoveOnDrop(dir.clone());
            for (i, file) in run.pin.iter().enumerate() {
                let pinned = dir.join(i.to_string());
                if fs::hard_link(file, &pinned).is_err() {
                    fs::copy(file, &pinned)
                        .with_context(|| format!("pinning {}", file.display()))?;
                }
                binds.push_str(&format!("{} {}\n", pinned.display(), file.display()));
            }
            Some(guard)
        }
        _ => None,
    };
    overlay.data("/kipvs/binds", binds, 0o644);
    for (path, contents) in &run.files {
        overlay.data(path, contents.clone(), 0o644);
    }
    // Libraries the payload's executables need that the base lacks (the
    // base already has libc and libgcc_s, which is all a Rust binary needs).
    let mut libs = BTreeSet::new();
    for exe in &run.executables {
        libs.extend(shared_libraries(exe)?);
    }
    for lib in libs {
        if !base.image.contains(&lib) {
            overlay.host_path(&lib)?;
        }
    }
    let initrd = work.join("initrd.cpio");
    {
        let mut f = fs::File::create(&initrd)?;
        std::io::copy(&mut fs::File::open(&base.path)?, &mut f)?;
        overlay.write_cpio(&mut f)?;
    }

    let mut cmd = Command::new("qemu-system-x86_64");
    // TCG: /dev/kvm does not work on these machines (-enable-kvm hangs).
    cmd.args(["-machine", "pc,accel=tcg", "-nodefaults", "-no-reboot"])
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .args(["-m", &run.memory_mib.to_string()])
        .args(["-smp", &run.cpus.to_string()])
        .arg("-kernel")
        .arg(&kernel.image)
        .arg("-initrd")
        .arg(&initrd)
        .args([
            "-append",
            // quiet + loglevel=1: only the script's output on the console
            // (a panic still prints, at KERN_EMERG); panic=-1 + -no-reboot
            // turn a panic into qemu exiting; mitigations=off saves TCG time.
            "console=ttyS0 quiet loglevel=1 panic=-1 mitigations=off rdinit=/init",
        ]);
    for (tag, path) in &qemu_shares {
        cmd.arg("-virtfs").arg(format!(
            "local,path={},mount_tag={tag},security_model=none,readonly=on,multidevs=remap",
            path.display()
        ));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().context("starting qemu-system-x86_64")?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).replace('\r', "");
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let start_marker = format!("KIPVS-VM-START {nonce}");
    let exit_marker = format!("KIPVS-VM-EXIT {nonce} ");
    let deadline = Instant::now() + run.timeout;
    let mut started = false;
    let mut boot_log: Vec<String> = Vec::new();
    let mut outcome = None;
    let mut panicked = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if line.contains("Kernel panic") {
                    panicked = true;
                }
                if let Some(code) = line.find(&exit_marker) {
                    let code = line[code + exit_marker.len()..].trim();
                    outcome = Some(Outcome::Exited(code.parse().unwrap_or(125)));
                    if !started {
                        boot_log.iter().for_each(|l| on_line(l));
                    }
                    continue;
                }
                if line.contains(&start_marker) {
                    started = true;
                    continue;
                }
                if panicked || (started && outcome.is_none()) {
                    on_line(&line);
                } else {
                    boot_log.push(line);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                if !started {
                    boot_log.iter().for_each(|l| on_line(l));
                }
                outcome = Some(Outcome::Timeout);
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = child.wait();
    let _ = reader.join();
    if panicked {
        return Ok(Outcome::Panic);
    }
    if outcome.is_none() && !started {
        boot_log.iter().for_each(|l| on_line(l));
    }
    Ok(outcome.unwrap_or(Outcome::Lost))
}

/// Drops shares inside other shares (one 9p mount covers them).
fn dedup_shares(shares: &[PathBuf]) -> Vec<PathBuf> {
    let mut sorted: Vec<PathBuf> = shares.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<PathBuf> = Vec::new();
    for s in sorted {
        if !out.iter().any(|o| s.starts_with(o)) {
            out.push(s);
        }
    }
    out
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The cached base image.
struct Base {
    image: Image,
    path: PathBuf,
}

/// Builds the base image description and writes it unless an archive with
/// the same fingerprint is cached.
fn base_image(kernel: &Kernel) -> Result<Base> {
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

/// Writes `text` to stdout and flushes (console lines arrive one by one).
pub fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
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

    #[test]
    fn nested_shares_collapse() {
        let got = dedup_shares(&[
            "/work/main/target".into(),
            "/work/main".into(),
            "/tmp/t".into(),
            "/work/main".into(),
        ]);
        assert_eq!(got, [PathBuf::from("/tmp/t"), PathBuf::from("/work/main")]);
    }
}
