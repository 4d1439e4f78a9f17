//! An initramfs built in memory and written as a `newc` cpio archive.
//!
//! Host files are added at their host paths, symlinks and all: adding
//! `/usr/sbin/iptables` records `/usr/sbin/iptables -> /etc/alternatives/iptables
//! -> /usr/sbin/iptables-nft -> xtables-nft-multi` and the final file, so a
//! tool behaves in the VM exactly as `update-alternatives` set it up on the
//! host, and `/bin -> usr/bin` (Debian's merged /usr) holds in the VM too.
//! No external `cpio`: the kernel's unpacker reads `newc`, which is a few
//! dozen lines, and an uncompressed archive boots faster under TCG than a
//! gzip'ed one (the guest decompresses at emulated speed).

use std::{
    collections::BTreeMap,
    fs,
    io::{self, BufWriter, Write},
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Component, Path, PathBuf},
};

use anyhow::{bail, Context, Result};

/// One entry of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory.
    Dir,
    /// A symbolic link with this target text.
    Symlink(PathBuf),
    /// A regular file copied from the host, with its mode bits.
    HostFile(PathBuf, u32),
    /// A regular file with these contents and mode bits.
    Data(Vec<u8>, u32),
}

/// The archive's entries by absolute guest path (sorted: parents first).
#[derive(Debug, Default, Clone)]
pub struct Image {
    entries: BTreeMap<PathBuf, Entry>,
}

impl Image {
    /// Adds a directory and its parents.
    pub fn dir(&mut self, path: impl AsRef<Path>) {
        let path = self.resolve_parent(path.as_ref());
        self.parents(&path);
        self.entries.entry(path).or_insert(Entry::Dir);
    }

    /// Adds a symbolic link `path -> target`.
    pub fn symlink(&mut self, path: impl AsRef<Path>, target: impl AsRef<Path>) {
        let path = self.resolve_parent(path.as_ref());
        self.parents(&path);
        self.entries
            .insert(path, Entry::Symlink(target.as_ref().to_owned()));
    }

    /// Adds a file with the given contents.
    pub fn data(&mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>, mode: u32) {
        let path = self.resolve_parent(path.as_ref());
        self.parents(&path);
        self.entries
            .insert(path, Entry::Data(contents.into(), mode));
    }

    /// Adds the host file at `guest` (a copy of `host`'s contents, following
    /// symlinks at `host`).
    pub fn host_file_at(&mut self, guest: impl AsRef<Path>, host: impl AsRef<Path>) -> Result<()> {
        let host = host.as_ref();
        let meta = fs::metadata(host).with_context(|| format!("reading {}", host.display()))?;
        let guest = self.resolve_parent(guest.as_ref());
        self.parents(&guest);
        self.entries.insert(
            guest,
            Entry::HostFile(host.to_owned(), meta.permissions().mode() & 0o7777),
        );
        Ok(())
    }

    /// Adds the host path `path` at the same guest path, recreating every
    /// symlink met on the way (in any component) and what it points to.
    pub fn host_path(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.host_path_depth(path.as_ref(), 0)
    }

    fn host_path_depth(&mut self, path: &Path, depth: usize) -> Result<()> {
        if depth > 40 {
            bail!("too many levels of symbolic links at {}", path.display());
        }
        if !path.is_absolute() {
            bail!("not an absolute path: {}", path.display());
        }
        let mut so_far = PathBuf::from("/");
        let components: Vec<Component> = path.components().skip(1).collect();
        for (i, component) in components.iter().enumerate() {
            so_far.push(component);
            let meta = fs::symlink_metadata(&so_far)
                .with_context(|| format!("reading {}", so_far.display()))?;
            let last = i + 1 == components.len();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&so_far)?;
                self.entries
                    .insert(so_far.clone(), Entry::Symlink(target.clone()));
                let resolved = so_far.parent().unwrap_or(Path::new("/")).join(&target);
                let resolved = normalize(&resolved);
                let rest: PathBuf = components[i + 1..].iter().collect();
                return self.host_path_depth(&resolved.join(rest), depth + 1);
            }
            if last {
                if meta.is_dir() {
                    self.entries.entry(so_far.clone()).or_insert(Entry::Dir);
                } else {
                    self.entries.insert(
                        so_far.clone(),
                        Entry::HostFile(so_far.clone(), meta.permissions().mode() & 0o7777),
                    );
                }
            } else {
                self.entries.entry(so_far.clone()).or_insert(Entry::Dir);
            }
        }
        Ok(())
    }

    /// Adds every file under the host directory `dir` (recursively).
    pub fn host_tree(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        self.host_path(dir)?;
        for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if fs::symlink_metadata(&path)?.is_dir() {
                self.host_tree(&path)?;
            } else {
                self.host_path(&path)?;
            }
        }
        Ok(())
    }

    /// True when `path` (after the image's own symlinks) is in the image.
    pub fn contains(&self, path: impl AsRef<Path>) -> bool {
        self.entries
            .contains_key(&self.resolve_parent(path.as_ref()))
    }

    /// The entries, parents before children.
    pub fn entries(&self) -> impl Iterator<Item = (&PathBuf, &Entry)> {
        self.entries.iter()
    }

    /// Resolves symlinks the image already holds in the parent components of
    /// `path`, so `/lib/modules/x` lands in `/usr/lib/modules/x` when the
    /// image has `/lib -> usr/lib` (the kernel's unpacker does not follow
    /// symlinks when it creates a file).
    fn resolve_parent(&self, path: &Path) -> PathBuf {
        let mut out = PathBuf::from("/");
        let components: Vec<Component> = path.components().skip(1).collect();
        for (i, component) in components.iter().enumerate() {
            out.push(component);
            if i + 1 == components.len() {
                break;
            }
            let mut hops = 0;
            while let Some(Entry::Symlink(target)) = self.entries.get(&out) {
                out = normalize(&out.parent().unwrap_or(Path::new("/")).join(target));
                hops += 1;
                if hops > 40 {
                    break;
                }
            }
        }
        out
    }

    fn parents(&mut self, path: &Path) {
        let mut p = path.parent();
        while let Some(dir) = p {
            if dir == Path::new("/") {
                break;
            }
            self.entries.entry(dir.to_owned()).or_insert(Entry::Dir);
            p = dir.parent();
        }
    }

    /// A cheap fingerprint of the image (paths, kinds, host file sizes and
    /// modification times, inline contents): equal fingerprints mean an
    /// archive written earlier can be reused.
    pub fn fingerprint(&self) -> Result<u64> {
        let mut h = Fnv::default();
        for (path, entry) in &self.entries {
            h.write(path.as_os_str().as_encoded_bytes());
            match entry {
                Entry::Dir => h.write(b"d"),
                Entry::Symlink(t) => {
                    h.write(b"l");
                    h.write(t.as_os_str().as_encoded_bytes());
                }
                Entry::HostFile(src, mode) => {
                    let meta = fs::metadata(src)?;
                    h.write(b"f");
                    h.write(src.as_os_str().as_encoded_bytes());
                    h.write(&meta.len().to_le_bytes());
                    h.write(&meta.mtime().to_le_bytes());
                    h.write(&meta.mtime_nsec().to_le_bytes());
                    h.write(&mode.to_le_bytes());
                }
                Entry::Data(data, mode) => {
                    h.write(b"D");
                    h.write(data);
                    h.write(&mode.to_le_bytes());
                }
            }
        }
        Ok(h.0)
    }

    /// Writes the archive as `newc` cpio.
    pub fn write_cpio(&self, out: impl Write) -> Result<()> {
        let mut w = Cpio::new(BufWriter::with_capacity(1 << 20, out));
        for (path, entry) in &self.entries {
            let name = path.strip_prefix("/").unwrap_or(path);
            if name.as_os_str().is_empty() {
                continue;
            }
            match entry {
                Entry::Dir => w.entry(name, 0o040_755, &[])?,
                Entry::Symlink(target) => {
                    w.entry(name, 0o120_777, target.as_os_str().as_encoded_bytes())?
                }
                Entry::HostFile(src, mode) => {
                    let data =
                        fs::read(src).with_context(|| format!("reading {}", src.display()))?;
                    w.entry(name, 0o100_000 | mode, &data)?
                }
                Entry::Data(data, mode) => w.entry(name, 0o100_000 | mode, data)?,
            }
        }
        w.finish()?;
        Ok(())
    }
}

/// Lexically normalizes `.` and `..` (no filesystem access).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// A `newc` ("070701") cpio writer: the format the kernel's initramfs
/// unpacker reads (see the kernel's Documentation/driver-api/early-userspace).
pub struct Cpio<W: Write> {
    out: W,
    ino: u32,
    offset: usize,
}

impl<W: Write> Cpio<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        Cpio {
            out,
            ino: 1,
            offset: 0,
        }
    }

    /// Writes one entry: `name` relative to the root, the full `st_mode`,
    /// and the contents (the link target for a symlink).
    pub fn entry(&mut self, name: &Path, mode: u32, data: &[u8]) -> io::Result<()> {
        let name = name.as_os_str().as_encoded_bytes();
        self.header(name, mode, data.len())?;
        self.write(data)?;
        self.pad()
    }

    fn header(&mut self, name: &[u8], mode: u32, size: usize) -> io::Result<()> {
        let nlink = if mode & 0o170_000 == 0o040_000 { 2 } else { 1 };
        // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
        // devminor, rdevmajor, rdevminor, namesize (with its NUL), check.
        let header = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.ino,
            mode,
            0,
            0,
            nlink,
            0,
            size,
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        self.ino += 1;
        self.write(header.as_bytes())?;
        self.write(name)?;
        self.write(&[0])?;
        self.pad()
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len();
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - self.offset % 4) % 4;
        self.write(&[0; 3][..n])
    }

    /// Writes the trailer and flushes.
    pub fn finish(mut self) -> io::Result<W> {
        self.header(b"TRAILER!!!", 0, 0)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// FNV-1a, 64 bit: stable across Rust releases, unlike `DefaultHasher`, so
/// cache keys survive a toolchain upgrade.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_header_and_padding() {
        let mut buf = Vec::new();
        let mut w = Cpio::new(&mut buf);
        w.entry(Path::new("init"), 0o100_755, b"hi\n").unwrap();
        w.finish().unwrap();
        // 110-byte header, "init\0" padded to 116, 3 data bytes padded to 120.
        assert_eq!(&buf[..6], b"070701");
        assert_eq!(&buf[6..14], b"00000001"); // ino
        assert_eq!(&buf[14..22], b"000081ed"); // S_IFREG | 0755
        assert_eq!(&buf[54..62], b"00000003"); // filesize
        assert_eq!(&buf[94..102], b"00000005"); // namesize with NUL
        assert_eq!(&buf[110..115], b"init\0");
        assert_eq!(&buf[116..119], b"hi\n");
        assert_eq!(buf[119], 0);
        assert_eq!(&buf[120..126], b"070701");
        assert_eq!(&buf[230..241], b"TRAILER!!!\0");
        assert_eq!(buf.len() % 4, 0);
    }

    #[test]
    fn files_land_behind_image_symlinks() {
        let mut img = Image::default();
        img.symlink("/lib", "usr/lib");
        img.data("/lib/modules/x/a.ko", b"ko".to_vec(), 0o644);
        assert!(img
            .entries()
            .any(|(p, _)| p == Path::new("/usr/lib/modules/x/a.ko")));
        assert!(img.contains("/lib/modules/x/a.ko"));
        assert!(!img
            .entries()
            .any(|(p, _)| p.starts_with("/lib") && p != Path::new("/lib")));
    }

    #[test]
    fn host_symlinks_are_recreated() {
        let dir = std::env::temp_dir().join(format!("xtask-image-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("real")).unwrap();
        fs::write(dir.join("real/tool"), b"x").unwrap();
        std::os::unix::fs::symlink("real", dir.join("link")).unwrap();
        std::os::unix::fs::symlink("tool", dir.join("real/alias")).unwrap();
        let mut img = Image::default();
        img.host_path(dir.join("link/alias")).unwrap();
        let got: BTreeMap<_, _> = img.entries().collect();
        assert_eq!(
            got.get(&dir.join("link")),
            Some(&&Entry::Symlink("real".into()))
        );
        assert_eq!(
            got.get(&dir.join("real/alias")),
            Some(&&Entry::Symlink("tool".into()))
        );
        assert!(matches!(
            got.get(&dir.join("real/tool")),
            Some(Entry::HostFile(..))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn normalize_resolves_dot_dot() {
        assert_eq!(
            normalize(Path::new("/usr/lib64/../lib/x86_64-linux-gnu/ld.so")),
            Path::new("/usr/lib/x86_64-linux-gnu/ld.so")
        );
    }
}
