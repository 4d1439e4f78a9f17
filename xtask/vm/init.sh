#!/bin/bash
# PID 1 of the kipvs test VM (written by `cargo xtask`, see xtask/src/vm.rs).
# bash, not busybox sh: busybox sh runs its own applets (ip, modprobe, ...)
# before the real tools on the PATH.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox
export HOME=/root LC_ALL=C TERM=dumb
nonce=$(</kipvs/nonce)
die() {
    echo "kipvs-vm: $*"
    echo "KIPVS-VM-EXIT $nonce 125"
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# devtmpfs has no /dev/fd: bash process substitution <(...) needs it.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /var/run /root
# `ip netns` bind-mounts namespaces under /run/netns: it needs a shared mount.
mount --make-shared /run 2>/dev/null || true

# crc32c_generic first: ip_vs needs nf_conntrack, which needs libcrc32c,
# whose init fails unless a crc32c implementation is already registered.
modprobe crc32c_generic || die "modprobe crc32c_generic failed"
if ! modprobe -a $(</kipvs/modules); then
    for m in $(</kipvs/modules); do
        grep -q "^${m//-/_} " /proc/modules || [ -d "/sys/module/${m//-/_}" ] || echo "kipvs-vm: module $m did not load"
    done
    die "loading modules failed"
fi

# The repository (and the target directory, when it lives elsewhere) at the
# same absolute paths as on the host: test binaries have them baked in.
while read -r tag mode path; do
    [ -n "$tag" ] || continue
    mkdir -p "$path" || die "mkdir $path failed"
    mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,cache=loose,$mode" "$tag" "$path" ||
        die "mounting the $tag share at $path failed"
done </kipvs/mounts
# Binaries pinned for this run (hard links taken at build time) over their
# own paths: a rebuild on the host during the run cannot change them.
while read -r pinned path; do
    [ -n "$pinned" ] || continue
    mount --bind "$pinned" "$path" || die "pinning $path failed (rebuilt or removed since the build?)"
done </kipvs/binds
# Writable scratch directories over the read-only shares (target/tmp is
# CARGO_TARGET_TMPDIR for integration tests).
while read -r path; do
    [ -d "$path" ] && mount -t tmpfs tmpfs "$path"
done </kipvs/tmpfs

ip link set lo up
source /kipvs/env
cd "$(</kipvs/cwd)" || die "no such directory: $(</kipvs/cwd)"
echo "KIPVS-VM-START $nonce"
bash /kipvs/run.sh
status=$?
sync
echo "KIPVS-VM-EXIT $nonce $status"
poweroff -f
