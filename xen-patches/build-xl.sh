#!/bin/bash
# Build Xen 4.17's xl and libxenlight with the gpuvm patch series applied.
#
#   xen-patches/build-xl.sh WORKDIR
#
# Fetches Debian's xen source package (bookworm main, cached in WORKDIR/src;
# the host's apt configuration is not touched), unpacks it with Debian's own
# patches, applies xen-patches/series, configures the tools with Debian's
# paths and as little else as possible, builds only the libraries xl needs
# and xl, and leaves in WORKDIR/out/:
#
#   xl, xen-init-dom0                         -> /usr/lib/xen-4.17/bin/
#   libxenlight.so.4.17.0, libxenlight.so.4.17 -> /usr/lib/x86_64-linux-gnu/
#   libxlutil.so.4.17.0,   libxlutil.so.4.17   -> /usr/lib/x86_64-linux-gnu/
#
# xl, xen-init-dom0 and libxenlight must be shipped together (the domain
# configuration structure has a new field, and both programs keep one).  The other libraries (libxenctrl, ...) are
# Debian's 4.17.x ones.
#
# Environment: JOBS (make -j, default 2), XEN_VERSION (the Debian source
# version, default 4.17.5+72-g01140da4e8-1), NO_APT=1 (never run apt-get;
# fail if a build dependency is missing).  Everything runs under nice -n 19.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
XEN_VERSION=${XEN_VERSION:-4.17.5+72-g01140da4e8-1}
JOBS=${JOBS:-2}

# Build dependencies (Debian 12 package names).  iasl is needed because
# libxenlight embeds the PVH guests' ACPI tables (tools/libacpi).
BUILD_DEPS="gcc make python3 python3-dev autoconf autotools-dev pkg-config
            uuid-dev libyajl-dev zlib1g-dev liblzma-dev libncurses-dev
            acpica-tools dpkg-dev xz-utils patch"

die() { echo "build-xl.sh: error: $*" >&2; exit 1; }
step() { echo "build-xl.sh: $*"; }

[ $# -eq 1 ] || die "usage: $0 WORKDIR"
mkdir -p "$1" || die "cannot create $1"
W=$(cd "$1" && pwd)
NICE="nice -n 19"

# ---- build dependencies --------------------------------------------------
missing=
for p in $BUILD_DEPS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "${NO_APT:-0}" = 1 ] && die "missing build dependencies:$missing (NO_APT=1)"
	step "installing build dependencies:$missing"
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing ||
		die "apt-get install failed for:$missing (try: apt-get update)"
fi
for c in gcc make python3 autoconf iasl dpkg-source apt-get patch; do
	command -v "$c" >/dev/null || die "'$c' not found after installing the build dependencies"
done
[ -f /usr/include/yajl/yajl_gen.h ] || die "libyajl-dev is missing (yajl/yajl_gen.h)"
[ -f /usr/include/uuid/uuid.h ] || die "uuid-dev is missing (uuid/uuid.h)"

# ---- source (cached) -----------------------------------------------------
SRC=$W/src
DSC=$SRC/xen_$XEN_VERSION.dsc
if [ ! -f "$DSC" ]; then
	step "fetching Debian's xen $XEN_VERSION source"
	mkdir -p "$SRC/lists/partial"
	printf 'deb-src http://deb.debian.org/debian bookworm main\n' > "$SRC/sources.list"
	APTO=(-o "Dir::Etc::SourceList=$SRC/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	      -o "Dir::State::Lists=$SRC/lists")
	apt-get "${APTO[@]}" update >"$SRC/apt-update.log" 2>&1 ||
		die "apt-get update for the deb-src list failed (see $SRC/apt-update.log)"
	(cd "$SRC" && apt-get "${APTO[@]}" source --download-only "xen=$XEN_VERSION") ||
		die "cannot download the xen=$XEN_VERSION source package"
fi
[ -f "$DSC" ] || die "$DSC missing after download"

# ---- unpack and patch (again whenever the series changes) ----------------
T=$W/xen
sum=$( (echo "$XEN_VERSION"; cd "$HERE" && cat series $(cat series)) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$T/.gpuvm-series" 2>/dev/null)" != "$sum" ]; then
	step "unpacking the source with Debian's patches into $T"
	rm -rf "$T"
	dpkg-source -x "$DSC" "$T" >"$W/unpack.log" 2>&1 ||
		die "dpkg-source -x failed (see $W/unpack.log)"
	while read -r p; do
		[ -n "$p" ] || continue
		step "applying $p"
		patch -d "$T" -p1 --forward --no-backup-if-mismatch -s < "$HERE/$p" ||
			die "$p does not apply to xen $XEN_VERSION"
	done < "$HERE/series"
	echo "$sum" > "$T/.gpuvm-series"
fi

# ---- configure -------------------------------------------------------------
# Debian's paths (debian/rules), so that libxenlight looks for hvmloader,
# qemu, seabios and OVMF where Debian's packages put them; everything not
# needed for xl and libxenlight is off.
if [ ! -f "$T/config/Tools.mk" ] || [ ! -f "$T/.gpuvm-configured" ]; then
	step "configuring (log: $W/configure.log)"
	(
		cd "$T"
		cp /usr/share/misc/config.sub /usr/share/misc/config.guess .
		$NICE ./autogen.sh
		$NICE ./configure --prefix=/usr --includedir=/usr/include \
			--libdir=/usr/lib/x86_64-linux-gnu \
			--with-libexec-libdir-suffix=/x86_64-linux-gnu \
			--with-libexec-leaf-dir=xen-4.17 \
			--mandir=/usr/share/man --sysconfdir=/etc --localstatedir=/var \
			--disable-xen --disable-stubdom --disable-docs \
			--disable-ocamltools --disable-golang --disable-monitors \
			--disable-xsmpolicy --disable-pvshim \
			--disable-qemu-traditional --disable-rombios --disable-ipxe \
			--disable-seabios \
			--with-system-seabios=/usr/share/seabios/bios-256k.bin \
			--enable-ovmf --with-system-ovmf=/usr/share/ovmf/OVMF.fd \
			--with-system-qemu=/usr/libexec/xen-qemu-system-i386
	) >"$W/configure.log" 2>&1 || die "configure failed (see $W/configure.log)"
	touch "$T/.gpuvm-configured"
fi

# ---- build -----------------------------------------------------------------
step "building libxenlight, libxlutil and xl with make -j$JOBS under nice (log: $W/build.log)"
start=$(date +%s)
(
	cd "$T"
	# The build must not download anything.
	export WGET=/bin/false GIT=/bin/false
	$NICE make -C tools/include -j"$JOBS"
	for d in toolcore toollog evtchn gnttab call foreignmemory devicemodel \
		 ctrl guest hypfs store light util; do
		$NICE make -C "tools/libs/$d" -j"$JOBS"
	done
	$NICE make -C tools/xl -j"$JOBS"
	# xen-init-dom0 links libxenlight and keeps a libxl_domain_config on its
	# stack: Debian's binary would be too small for the patched structure.
	$NICE make -C tools/helpers xen-init-dom0 -j"$JOBS"
) >"$W/build.log" 2>&1 || { tail -25 "$W/build.log" >&2; die "build failed (see $W/build.log)"; }
step "built in $(( $(date +%s) - start )) s"

# ---- out/ ------------------------------------------------------------------
O=$W/out
rm -rf "$O"; mkdir -p "$O"
cp "$T/tools/xl/xl" "$T/tools/helpers/xen-init-dom0" "$O/"
cp -P "$T"/tools/libs/light/libxenlight.so.4.17* "$O/"
cp -P "$T"/tools/libs/util/libxlutil.so.4.17* "$O/"
for f in xl xen-init-dom0 libxenlight.so.4.17.0 libxlutil.so.4.17.0 libxenlight.so.4.17 libxlutil.so.4.17; do
	[ -e "$O/$f" ] || die "$O/$f was not built"
done
syms=$(nm -D --defined-only "$O/libxenlight.so.4.17.0")
grep -qE ' libxl_gpuvm_vgpu_init(@|$)' <<<"$syms" ||
	die "$O/libxenlight.so.4.17.0 lacks libxl_gpuvm_vgpu_init: the series was not applied"
ls -l "$O"
step "done: ship $O/xl and $O/xen-init-dom0 in /usr/lib/xen-4.17/bin/ and $O/lib*.so* in /usr/lib/x86_64-linux-gnu/"
