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

use anyhow::{Context, Result};

use crate::{guest, host, image::Image};

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
    let base = guest::base_image(&kernel)?;
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
        libs.extend(guest::shared_libraries(exe)?);
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
