#!/bin/bash
# Build the two initramfs images the Xen harness boots:
#   $W/guest.cpio.gz  busybox, the static guest tools (gpuvm-run, gpuvm-hostile)
#                     and tests/xen/guest-init.sh as /init;
#   $W/dom0.cpio.gz   busybox, Xen's tools (xl, xenstored, xenconsoled, ...),
#                     gpuvmd and gpuvmctl with their shared libraries, the Xen
#                     kernel modules, qemu-xen + hvmloader + SeaBIOS for HVM
#                     guests, the guest kernel and image, and
#                     tests/xen/dom0-init.sh as /init.
# Also copies the hypervisor (as the ELF qemu -kernel boots) and the kernel.
# With XLDIR (xen-patches/build-xl.sh's out/), dom0's xl, libxenlight and
# libxlutil are the patched ones that understand "vgpu = [...]".
#   usage: mk-images.sh WORKDIR BINDIR STATICDIR [XLDIR]
set -euo pipefail
W=${1:?usage: mk-images.sh WORKDIR BINDIR STATICDIR}
BIN=${2:?}
STATIC=${3:?}
XLDIR=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
R=$W/root
KVER=$(cat "$R/.kver")
die() { echo "mk-images: $*" >&2; exit 1; }

for f in "$BIN/gpuvmd" "$BIN/gpuvmctl" "$STATIC/gpuvm-run" "$STATIC/gpuvm-hostile" \
	 /bin/busybox /usr/libexec/xen-qemu-system-i386 /usr/share/seabios/bios-256k.bin; do
	[ -e "$f" ] || die "missing $f"
done
zcat "$R/boot/xen-4.17-amd64.gz" > "$W/xen"
cp "$R/boot/vmlinuz-$KVER" "$W/vmlinuz"

# Copy binaries' shared libraries (resolved on the host, whose libxen-dev
# carries the same 4.17 runtime libraries) into a root.
copy_libs() {
	local root=$1; shift
	ldd "$@" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\/lib64/{print $1}' | sort -u |
	while read -r l; do
		mkdir -p "$root$(dirname "$l")"
		cp -L "$l" "$root$l"
	done
}

# ---- guest ----
G=$W/guest-rootfs
rm -rf "$G"
mkdir -p "$G"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$G/bin/busybox"
cp "$STATIC/gpuvm-run" "$STATIC/gpuvm-hostile" "$G/bin/"
cp "$HERE/guest-init.sh" "$G/init"
chmod +x "$G/init"
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -6) > "$W/guest.cpio.gz"

# ---- dom0 ----
D=$W/dom0-rootfs
rm -rf "$D"
mkdir -p "$D"/{bin,sbin,proc,sys,dev,run,tmp,etc/xen,boot,lib/modules,lib64} \
	 "$D"/{usr/lib/xen-4.17/bin,var/lib/xen,var/lib/xenstored,var/log/xen/console,var/lock}
ln -s ../run "$D/var/run"
cp /bin/busybox "$D/bin/busybox"
XB=$R/usr/lib/xen-4.17/bin
for b in xl xenstored xenconsoled xen-init-dom0; do cp "$XB/$b" "$D/usr/lib/xen-4.17/bin/"; done
cp "$BIN/gpuvmd" "$BIN/gpuvmctl" "$D/bin/"
copy_libs "$D" "$D"/usr/lib/xen-4.17/bin/* "$D/bin/gpuvmd" "$D/bin/gpuvmctl"
if [ -n "$XLDIR" ]; then       # after copy_libs, so the patched libraries win
	for f in xl xen-init-dom0 libxenlight.so.4.17 libxlutil.so.4.17; do
		[ -e "$XLDIR/$f" ] || die "missing $XLDIR/$f (run xen-patches/build-xl.sh)"
	done
	# Every user of libxenlight comes from the patched build (its domain
	# config structure is larger).
	cp "$XLDIR/xl" "$XLDIR/xen-init-dom0" "$D/usr/lib/xen-4.17/bin/"
	cp -L "$XLDIR/libxenlight.so.4.17" "$XLDIR/libxlutil.so.4.17" "$D/lib/x86_64-linux-gnu/"
fi
cp -L /lib64/ld-linux-x86-64.so.2 "$D/lib64/"
mkdir -p "$D/lib/x86_64-linux-gnu"
cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$D/lib/x86_64-linux-gnu/"  # xl dlopen()s it
for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs/xenfs; do
	cp "$R/lib/modules/$KVER/kernel/drivers/xen/$m.ko" "$D/lib/modules/"
done
# HVM guests: hvmloader, qemu-xen (the device model beside gpuvmd), SeaBIOS.
mkdir -p "$D/usr/lib/xen-4.17/boot" "$D/usr/libexec" "$D/usr/share/seabios" "$D/usr/share/qemu"
cp "$R/usr/lib/xen-4.17/boot/hvmloader" "$D/usr/lib/xen-4.17/boot/"
cp /usr/libexec/xen-qemu-system-i386 "$D/usr/libexec/"
cp /usr/share/seabios/bios-256k.bin "$D/usr/share/seabios/"
cp -L /usr/share/qemu/{linuxboot_dma.bin,linuxboot.bin,kvmvapic.bin} "$D/usr/share/qemu/"
cp -rL /usr/share/qemu/keymaps "$D/usr/share/qemu/"     # qemu-xen aborts without them
copy_libs "$D" /usr/libexec/xen-qemu-system-i386
cp "$W/vmlinuz" "$D/boot/vmlinuz"
cp "$W/guest.cpio.gz" "$D/boot/guest.cpio.gz"
cp "$HERE/dom0-init.sh" "$D/init"
chmod +x "$D/init"
(cd "$D" && find . | cpio -o -H newc --quiet | gzip -1) > "$W/dom0.cpio.gz"
echo "mk-images: $(du -h "$W/dom0.cpio.gz" | cut -f1) dom0 image, $(du -h "$W/guest.cpio.gz" | cut -f1) guest image"
