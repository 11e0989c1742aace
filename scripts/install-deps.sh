#!/bin/sh
# Install what gpuvm needs to build, test and plot on Debian 12, with apt-get only.
set -eu
# qemu-system-x86, qemu-system-xen, busybox-static and cpio: the end-to-end tests on
# real Xen under qemu (tests/xen/, make check-xen).
pkgs="build-essential pkg-config libcmocka-dev libjson-c-dev gnuplot-nox valgrind libxen-dev
	qemu-system-x86 qemu-system-xen busybox-static cpio file"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
else
	echo "install-deps: all packages present"
fi
