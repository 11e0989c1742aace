#!/bin/bash
# gpuvm's end-to-end tests on real Xen 4.17, booted under qemu's software
# emulation (no KVM needed).  For each scenario: boot Xen with a Debian dom0
# whose /init (dom0-init.sh) starts gpuvmd --backend xen, creates PVH/HVM
# domUs, attaches vGPUs and judges the guests' verified results, gpuvmd's
# isolation checker and gpusim's audit; this script reads its verdict from
# the serial log.  See docs/xen-backend.md, "Testing on real Xen".
#
#   usage: run-xen-tests.sh --work DIR --bin DIR --static DIR [--xl DIR] [SCENARIO...]
#   scenarios: pvh-full two-pvh hostile hvm xl-vgpu (default: all; xl-vgpu
#   needs --xl, the out/ folder of xen-patches/build-xl.sh)
#   env: XT_TIMEOUT (seconds per boot, default 900), XT_QEMU_MEM (MiB, 1536),
#        XT_DOM0_ARGS (more dom0-init.sh options: xt_wait=SECONDS for the
#        guests, xt_guest_loglevel=N for the guests' kernels)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ALL="pvh-full two-pvh hostile hvm xl-vgpu"
W= BIN= STATIC= XL=
while [ $# -gt 0 ]; do
	case $1 in
	--work) W=$2; shift 2 ;;
	--bin) BIN=$2; shift 2 ;;
	--static) STATIC=$2; shift 2 ;;
	--xl) XL=$2; shift 2 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	-*) echo "run-xen-tests: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ -n "$W" ] && [ -n "$BIN" ] && [ -n "$STATIC" ] || { sed -n '9,14p' "$0" >&2; exit 2; }
SCENARIOS=${*:-$ALL}
for s in $SCENARIOS; do
	case " $ALL " in *" $s "*) ;; *) echo "run-xen-tests: unknown scenario '$s'" >&2; exit 2 ;; esac
done
die() { echo "run-xen-tests: FAILED: $*" >&2; exit 1; }
case " $SCENARIOS " in
*" xl-vgpu "*) [ -n "$XL" ] || die "scenario xl-vgpu needs --xl DIR (the patched xl: xen-patches/build-xl.sh)" ;;
esac

# Say why we cannot run rather than skip: a missing tool is a failure.
for tool in qemu-system-x86_64 cpio gzip apt-get dpkg-deb; do
	command -v $tool > /dev/null || die "$tool not found (scripts/install-deps.sh installs it)"
done
for f in /bin/busybox /usr/libexec/xen-qemu-system-i386; do
	[ -x $f ] || die "$f not found (packages busybox-static and qemu-system-xen)"
done
file /bin/busybox 2> /dev/null | grep -q dynamic && die "/bin/busybox is dynamic: install busybox-static"
mkdir -p "$W/logs"
W=$(cd "$W" && pwd)
exec 9> "$W/.lock"
flock -n 9 || die "another run is using $W"
"$HERE/fetch-xen.sh" "$W" || die "cannot fetch Xen and the kernel"
"$HERE/mk-images.sh" "$W" "$BIN" "$STATIC" $XL || die "cannot build the boot images"

# boot SCENARIO LOG: one Xen boot; returns qemu's status.
boot() {
	# dom0 gets one vCPU pinned to CPU 0 and the guests CPU 1: an ioreq
	# round trip then never waits for Xen to switch vCPUs on one CPU.
	local xen_cmd="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all"
	xen_cmd="$xen_cmd dom0_mem=512M,max:512M dom0_max_vcpus=1 dom0_vcpus_pin"
	local dom0_cmd="console=hvc0 earlyprintk=xen loglevel=4 xt_scenario=$1 ${XT_DOM0_ARGS:-}"
	timeout "${XT_TIMEOUT:-900}" qemu-system-x86_64 -machine q35 -accel tcg \
		-cpu qemu64,+svm,+npt -smp 2 -m "${XT_QEMU_MEM:-1536}" \
		-nographic -no-reboot -monitor none -serial stdio -net none \
		-kernel "$W/xen" -append "$xen_cmd" \
		-initrd "$W/vmlinuz $dom0_cmd,$W/dom0.cpio.gz" < /dev/null > "$2" 2>&1
}

pass=0 failed=
for s in $SCENARIOS; do
	log=$W/logs/$s.log
	t0=$(date +%s)
	boot "$s" "$log"
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
	grep -E '^(XT |XG-RESULT )' "$log" | sed "s/^/  [$s] /"
	verdict=$(grep -a '^XT-VERDICT ' "$log" | tail -1)
	if [ "${verdict#XT-VERDICT PASS}" != "$verdict" ]; then
		echo "xen scenario $s: PASS (${secs} s)"
		pass=$((pass + 1))
		continue
	fi
	if [ -n "$verdict" ]; then
		sed -n '/^XT-VERDICT /,$p' "$log" | sed "s/^/  [$s] /"
		why="dom0 reported failures"
	elif [ $rc = 124 ]; then
		why="timed out after ${XT_TIMEOUT:-900} s"
	else
		why="no verdict (qemu exit $rc; Xen or dom0 did not come up?)"
	fi
	tail -40 "$log" | sed "s/^/  [$s] /"
	echo "xen scenario $s: FAIL: $why (${secs} s; log $log)"
	failed="$failed $s"
done
echo "check-xen: $pass passed${failed:+, failed:$failed}"
[ -z "$failed" ]
