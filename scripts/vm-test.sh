#!/usr/bin/env bash
# scripts/vm-test.sh [BUILD_DIR] — the tests that need kernel drivers a build machine or
# container rarely has: a V4L2 camera (the vivid test driver) captured with MMAP and with
# DMABUF export, and its dmabufs passed to mnv2d. They run inside a small QEMU guest that
# boots a distribution kernel (which ships vivid as a module) with this machine's own
# filesystem mounted read-only over 9p, so the guest runs the binaries of BUILD_DIR
# (default build) as they are. The guest's script is tests/vm/inside.sh.
#
# Needs qemu-system-x86_64, a kernel in /boot with its modules in /lib/modules, a static
# busybox, cpio and kmod; on Debian 12 (scripts/install-deps.sh installs them):
#   apt-get install --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static
# A missing piece is reported and the script exits 77 (skipped), like the test suite's skips.
# The guest is emulated (TCG) with QEMU's "max" CPU, which has AVX2, so the engine's AVX2
# paths run in it: about 30 s here (60 s with the default qemu64 CPU and portable loops).
# KVM is faster where nested virtualisation works (MNV2_VM_ACCEL="-enable-kvm -cpu host");
# inside the Firecracker VM this was written on, the guest kernel hung at boot under KVM.
#
# Environment: MNV2_VM_KERNEL (a version in /boot, default the newest), MNV2_VM_ACCEL (qemu
# accelerator options, default "-accel tcg -cpu max"), MNV2_VM_TIMEOUT (seconds, default 600),
# MNV2_VM_MEM (MiB, default 2048), MNV2_VM_QUIET (kernel log options, default "quiet";
# empty shows the boot).
# Exit status: the guest script's (0: all passed), 77 skipped, anything else a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
skip() {
	echo "vm-test: skipped: $*" >&2
	exit 77
}
[ -d "${1:-build}" ] || skip "no build directory ${1:-build} (build first)"
build=$(cd "${1:-build}" && pwd)

qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 is missing"
busybox=$(command -v busybox) || skip "busybox is missing"
! ldd "$busybox" >/dev/null 2>&1 || skip "$busybox is not static (busybox-static)"
command -v cpio >/dev/null || skip "cpio is missing"
command -v modprobe >/dev/null || skip "modprobe (kmod) is missing"
kver=${MNV2_VM_KERNEL:-$( (ls /boot/vmlinuz-* 2>/dev/null || true) | sed 's|^/boot/vmlinuz-||' |
	sort -V | tail -1)}
[ -n "$kver" ] && [ -r "/boot/vmlinuz-$kver" ] || skip "no kernel in /boot"
[ -d "/lib/modules/$kver" ] || skip "no modules for $kver in /lib/modules"
modprobe -S "$kver" --show-depends vivid >/dev/null 2>&1 || skip "kernel $kver has no vivid"
[ -x "$build/examples/camera-loop" ] && [ -x "$build/daemon/mnv2d" ] ||
	skip "$build has no camera-loop or mnv2d (build first)"
read -r -a accel <<<"${MNV2_VM_ACCEL:--accel tcg -cpu max}"

work=$(mktemp -d /tmp/mnv2-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,mods,dev,proc,sys,host}
cp "$busybox" "$root/bin/busybox"
# the modules that mount the host's filesystem, in dependency order
for m in virtio_pci 9pnet_virtio 9p; do modprobe -S "$kver" --show-depends "$m"; done |
	awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$work/mods.txt"
while read -r m; do # busybox insmod takes plain .ko files: compressed ones are unpacked
	name=$(basename "$m")
	case "$m" in
	*.ko.xz) unpack=(xz -dc) ;;
	*.ko.zst) unpack=(zstd -dcq) ;;
	*.ko.gz) unpack=(gzip -dc) ;;
	*) unpack=(cat) ;;
	esac
	command -v "${unpack[0]}" >/dev/null || skip "${unpack[0]} is missing to unpack $name"
	"${unpack[@]}" "$m" >"$root/mods/${name%.ko*}.ko"
	echo "${name%.ko*}.ko" >>"$root/mods/order"
done <"$work/mods.txt"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod "/mods/$m" || echo "init: insmod $m failed"; done
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
status=1
mounted=0
for i in 1 2 3 4 5 6 7 8 9 10; do # the virtio device may still be probing
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host 2>/dev/null &&
		{ mounted=1; break; }
	sleep 1
done
if [ "$mounted" = 1 ]; then
	mount -t proc proc /host/proc
	mount -t sysfs sys /host/sys
	mount -t devtmpfs dev /host/dev
	mount -t tmpfs tmp /host/tmp
	mount -t tmpfs run /host/run
	chroot /host /bin/bash "$(arg mnv2.src)/tests/vm/inside.sh" "$(arg mnv2.build)"
	status=$?
else
	echo "init: cannot mount the host's filesystem; virtio devices:"
	ls /sys/bus/virtio/devices/ 2>&1
	lsmod 2>&1 | head -20
fi
echo "MNV2_VM_STATUS=$status"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

echo "vm-test: kernel $kver, ${accel[*]}; guest output follows" >&2
timeout "${MNV2_VM_TIMEOUT:-600}" "$qemu" "${accel[@]}" -m "${MNV2_VM_MEM:-2048}" -smp 2 \
	-kernel "/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 ${MNV2_VM_QUIET-quiet} panic=-1 mnv2.src=$src mnv2.build=$build" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-nographic -no-reboot -nic none 2>&1 | tee "$work/console.log" || true
status=$(sed -n 's/^MNV2_VM_STATUS=\([0-9]*\).*/\1/p' "$work/console.log" | tail -1)
if [ -z "$status" ]; then
	echo "vm-test: the guest did not finish (timeout or crash)" >&2
	exit 1
fi
exit "$status"
