#!/bin/bash
# Download Debian's Xen 4.17 hypervisor, tools and a kernel with apt-get
# download, and unpack them with dpkg-deb -x into $XT_WORK/root.  Nothing is
# installed on the host: the files only go into the images the harness boots.
# Cached: a second run with the same package versions does nothing.
#   usage: fetch-xen.sh WORKDIR
set -euo pipefail
W=${1:?usage: fetch-xen.sh WORKDIR}
die() { echo "fetch-xen: $*" >&2; exit 1; }

command -v apt-get >/dev/null || die "apt-get not found (the harness needs Debian 12)"
kernel_version() {
	apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -1
}
KVER=${XT_KVER:-$(kernel_version)}
if [ -z "$KVER" ]; then         # a fresh machine may not have package lists yet
	apt-get update -qq || die "apt-get update failed"
	KVER=$(kernel_version)
fi
[ -n "$KVER" ] || die "cannot find Debian's kernel package linux-image-amd64"
PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
	libxenmisc4.17 libxenstore4 libxentoolcore1 libxentoollog1 libxencall1
	libxenevtchn1 libxenforeignmemory1 libxendevicemodel1 libxengnttab1
	libxenhypfs1 libyajl2 linux-image-$KVER"

stamp=$(apt-cache policy $PKGS 2>/dev/null | awk '/Candidate:/{print $2}' | tr '\n' ' ')
mkdir -p "$W/debs"
if [ -e "$W/root/.stamp" ] && [ "$(cat "$W/root/.stamp")" = "$stamp $KVER" ]; then
	echo "fetch-xen: cached ($W/root)"
	exit 0
fi
rm -rf "$W/root" "$W/debs"/*.deb
(cd "$W/debs" && apt-get download $PKGS) || die "apt-get download failed"
mkdir -p "$W/root"
for f in "$W"/debs/*.deb; do dpkg-deb -x "$f" "$W/root" || die "cannot unpack $f"; done
[ -e "$W/root/boot/xen-4.17-amd64.gz" ] || die "no boot/xen-4.17-amd64.gz in the packages"
[ -e "$W/root/boot/vmlinuz-$KVER" ] || die "no kernel vmlinuz-$KVER in the packages"
echo "$KVER" > "$W/root/.kver"
echo "$stamp $KVER" > "$W/root/.stamp"
echo "fetch-xen: unpacked Xen 4.17 and linux $KVER into $W/root"
