//! What the host must provide for the VM: Debian packages (installed when
//! missing), the test kernel (downloaded once into a cache keyed by its
//! version), and small process helpers.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Once,
};

use anyhow::{bail, Context, Result};

/// The kernel the VM boots: Debian 12's 6.1, which has IPVS, every ipset
/// type, dummy, and both iptables back ends as modules.
pub const KERNEL_VERSION: &str = "6.1.0-56-amd64";

/// Debian packages the VM image is made from.
pub const VM_PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "busybox-static",
    "ipvsadm",
    "ipset",
    "iptables",
    "nftables",
    "kmod",
    "cpio",
    "iproute2",
];

/// Where downloaded kernels and built images live between runs.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("KIPVS_VM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/kipvs-vm"))
}

/// True when the Debian package is installed.
pub fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

static APT_UPDATE: Once = Once::new();

fn apt_update() {
    APT_UPDATE.call_once(|| {
        eprintln!("xtask: apt-get update");
        let _ = apt().arg("update").arg("-qq").status();
    });
}

fn apt() -> Command {
    let mut cmd = Command::new("apt-get");
    // Another helper's apt-get may hold the lock: wait instead of failing.
    cmd.args(["-o", "DPkg::Lock::Timeout=300"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    cmd
}

/// Installs the packages that are missing (one `apt-get update` first).
pub fn ensure_packages(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_update();
    eprintln!("xtask: installing {}", missing.join(" "));
    let status = apt()
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("apt-get install {} failed ({status})", missing.join(" "));
    }
    Ok(())
}

/// The test kernel, unpacked and `depmod`ed.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// The version string (`uname -r` in the VM).
    pub version: String,
    /// The bzImage.
    pub image: PathBuf,
    /// `lib/modules/<version>` of the unpacked package.
    pub modules: PathBuf,
}

/// Downloads and unpacks the kernel package into the cache when missing.
pub fn kernel() -> Result<Kernel> {
    let version = std::env::var("KIPVS_VM_KERNEL").unwrap_or_else(|_| KERNEL_VERSION.into());
    let dir = cache_dir().join(&version);
    let root = dir.join("kern");
    let kernel = Kernel {
        image: root.join(format!("boot/vmlinuz-{version}")),
        modules: root.join(format!("lib/modules/{version}")),
        version: version.clone(),
    };
    if kernel.image.is_file() && kernel.modules.join("modules.dep").is_file() {
        return Ok(kernel);
    }
    ensure_packages(&["kmod"])?;
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let package = format!("linux-image-{version}");
    eprintln!("xtask: fetching {package} into {} (once)", dir.display());
    let deb = find_deb(&dir, &package);
    let deb = match deb {
        Some(deb) => deb,
        None => {
            // apt-get download drops privileges to _apt, which cannot write
            // a root-owned cache directory: download in a scratch directory
            // it can write, then move the file.
            let scratch = tempdir(&dir, "download")?;
            set_mode(&scratch, 0o777)?;
            let mut status = apt()
                .arg("download")
                .arg(&package)
                .current_dir(&scratch)
                .status()?;
            if !status.success() {
                apt_update();
                status = apt()
                    .arg("download")
                    .arg(&package)
                    .current_dir(&scratch)
                    .status()?;
            }
            if !status.success() {
                bail!("apt-get download {package} failed: is a Debian 12 mirror configured?");
            }
            let got = find_deb(&scratch, &package)
                .with_context(|| format!("apt-get download left no {package} .deb"))?;
            let dest = dir.join(got.file_name().expect("a file name"));
            fs::rename(&got, &dest)?;
            let _ = fs::remove_dir_all(&scratch);
            dest
        }
    };
    // Unpack next to the final place and rename, so a concurrent run never
    // sees a half-unpacked tree.
    let scratch = tempdir(&dir, "unpack")?;
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&scratch))?;
    run(Command::new("depmod").arg("-b").arg(&scratch).arg(&version))?;
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    fs::rename(&scratch, &root)?;
    Ok(kernel)
}

fn find_deb(dir: &Path, package: &str) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{package}_")) && n.ends_with(".deb"))
        })
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// A fresh directory under `parent`, unique to this process.
pub fn tempdir(parent: &Path, what: &str) -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = parent.join(format!(".{what}-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Runs a command, failing with its name when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// The full path of `program` on the PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
