#!/bin/busybox sh
# dom0 /init for the Xen harness (tests/xen/run-xen-tests.sh boots it under
# qemu).  Starts Xen's tools and gpuvmd (backend xen, gpusim with its audit
# counting), runs the scenario named by xt_scenario= on the kernel command
# line, judges it from the guests' console logs and gpuvmd's checks, prints
# "XT-VERDICT PASS|FAIL ..." and powers the machine off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /run
mount -t tmpfs tmp /tmp
mkdir -p /run/xen /run/xenstored /var/log/xen/console
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "XT $*"; }
FAILS=
fail() { say "FAIL: $*"; FAILS="$FAILS
  $*"; }

SCENARIO=none WAIT=600 GUEST_LOGLEVEL=4
for a in $(cat /proc/cmdline); do
	case $a in
	xt_scenario=*) SCENARIO=${a#xt_scenario=} ;;
	xt_wait=*) WAIT=${a#xt_wait=} ;;
	xt_guest_loglevel=*) GUEST_LOGLEVEL=${a#xt_guest_loglevel=} ;;
	esac
done
say "dom0 up after $(up) s, scenario $SCENARIO"

start_xen_tools() {
	for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs; do
		insmod /lib/modules/$m.ko || fail "insmod $m"
	done
	mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
	xenstored --pid-file=/run/xenstored.pid || fail "xenstored"
	xen-init-dom0 > /tmp/xen-init-dom0.log 2>&1 || fail "xen-init-dom0"
	xenconsoled --log=guest --log-dir=/var/log/xen/console \
		--pid-file=/run/xen/xenconsoled.pid || fail "xenconsoled"
}

start_gpuvmd() {
	gpuvmd -f --backend xen --gpu sim,vram=512M,audit=count --log-level info \
		> /tmp/gpuvmd.log 2>&1 &
	GPUVMD=$!
	for i in $(seq 50); do
		gpuvmctl version > /dev/null 2>&1 && return 0
		kill -0 $GPUVMD 2>/dev/null || break
		sleep 0.2
	done
	fail "gpuvmd did not start"
	cat /tmp/gpuvmd.log
	return 1
}

# write_cfg NAME TYPE(pvh|hvm) GUEST-ARGS [EXTRA-LINE]: the domain's xl config.
write_cfg() {
	name=$1 type=$2 args=$3
	{
		echo "name = \"$name\""
		echo "type = \"$type\""
		echo 'kernel = "/boot/vmlinuz"'
		echo 'ramdisk = "/boot/guest.cpio.gz"'
		echo 'memory = 256'
		echo 'vcpus = 1'
		echo 'cpus = "1"'         # dom0 keeps CPU 0 (see run-xen-tests.sh)
		echo 'on_poweroff = "destroy"'
		echo 'on_crash = "destroy"'
		if [ "$type" = hvm ]; then
			echo "cmdline = \"console=ttyS0 loglevel=$GUEST_LOGLEVEL xg_name=$name $args\""
			echo 'vga = "none"'
			echo 'vnc = 0'
			echo "serial = \"file:/var/log/xen/console/$name-serial.log\""
		else
			echo "cmdline = \"console=hvc0 loglevel=$GUEST_LOGLEVEL pci=noacpi xg_name=$name $args\""
		fi
		[ -z "${4:-}" ] || echo "$4"
	} > "/etc/xen/$name.cfg"
}

# guest NAME TYPE(pvh|hvm) MODE BDF GUEST-ARGS: create paused, attach, unpause.
guest() {
	name=$1 type=$2 mode=$3 bdf=$4 args=$5
	write_cfg "$name" "$type" "$args"
	xl create -p "/etc/xen/$name.cfg" > "/tmp/xl-$name.log" 2>&1 || {
		fail "xl create $name"
		tail -20 "/tmp/xl-$name.log"
		return 1
	}
	if ! gpuvmctl attach "$name" --mode "$mode" --vram 64M --bdf "$bdf" > "/tmp/attach-$name.log" 2>&1; then
		fail "gpuvmctl attach $name: $(cat "/tmp/attach-$name.log")"
		xl destroy "$name"
		return 1
	fi
	say "$name: $type domain $(xl domid "$name"), vGPU in $mode mode at $bdf"
	xl unpause "$name" || fail "xl unpause $name"
}

domains_alive() {
	for n in "$@"; do xl domid "$n" > /dev/null 2>&1 && return 0; done
	return 1
}

# Copy the guests' new console lines to ours, "[NAME] "-prefixed, so the
# serial log shows them live (a guest that hangs shows where).
SEEN=/tmp/seen
stream_consoles() {
	for n in "$@"; do
		f=/var/log/xen/console/guest-$n.log
		[ -e "$f" ] || f=/var/log/xen/console/$n-serial.log
		[ -e "$f" ] || continue
		old=$(cat "$SEEN.$n" 2> /dev/null || echo 0)
		new=$(wc -l < "$f")
		[ "$new" -gt "$old" ] && sed -n "$((old + 1)),${new}p" "$f" | tr -d '\r' | sed "s/^/[$n] /"
		echo "$new" > "$SEEN.$n"
	done
}

# gpuvmctl with a time limit: a hung daemon must show up as a failure with
# the daemon's thread states, not as a silent harness timeout.
ctl() {
	timeout 60 gpuvmctl "$@" && return 0
	rc=$?
	if [ $rc = 124 ] || [ $rc = 143 ]; then
		fail "gpuvmctl $1 did not answer within 60 s"
		dump_gpuvmd
	fi
	return $rc
}

dump_gpuvmd() {
	for t in /proc/$GPUVMD/task/*; do
		echo "XT gpuvmd thread ${t##*/} $(cat "$t/comm") $(cat "$t/wchan" 2> /dev/null)" \
			"$(awk '{print $3}' "$t/stat")"
	done
}

# Wait for the guests to power off; run the isolation checker meanwhile and
# show each vGPU's progress every 30 s.
wait_guests() {
	t0=$(up)
	last=0
	while domains_alive "$@"; do
		stream_consoles "$@"
		now=$(up)
		elapsed=$(echo "$now $t0" | awk '{printf "%d", $1-$2}')
		if [ "$elapsed" -ge "$WAIT" ]; then
			fail "guests still running after $WAIT s"
			dump_gpuvmd
			for n in "$@"; do xl destroy "$n" 2> /dev/null; done
			break
		fi
		# Every vGPU's counters each round, kept for the scenarios' checks.
		ctl list > /tmp/list.last 2>&1 && cat /tmp/list.last >> /tmp/list.all
		for n in "$@"; do
			ctl info "$n" > "/tmp/info.$n.new" 2>&1 && mv "/tmp/info.$n.new" "/tmp/info.$n"
		done
		if [ $((elapsed - last)) -ge 30 ]; then
			last=$elapsed
			awk -v t="$elapsed" 'NR > 1 && $1 != "Host" {
				print "XT progress at " t " s: " $1 " traps " $8 " denied " $9 " faults " $10 }' /tmp/list.last
			ctl check > /tmp/check.log 2>&1 ||
				fail "isolation check while guests run: $(cat /tmp/check.log)"
			top -b -n 1 | sed -n '2,3p;5,10p' | sed 's/^/XT top: /'
		fi
		# Seldom: each xl and busybox process here costs dom0 CPU the
		# ioreq server needs (everything runs under software emulation).
		sleep 5
	done
	stream_consoles "$@"
	say "guests gone after $(echo "$(up) $t0" | awk '{printf "%.0f", $1-$2}') s"
}

console_log() {
	cat "/var/log/xen/console/guest-$1.log" "/var/log/xen/console/$1-serial.log" 2> /dev/null
}

# expect NAME WL...: each workload reported rc=0, and the guest finished.
expect_ok() {
	name=$1
	shift
	log=$(console_log "$name")
	echo "$log" | grep -q "XG-DONE $name" || fail "$name did not finish"
	for wl in "$@"; do
		line=$(echo "$log" | grep "XG-RESULT $name $wl " | head -1)
		case $line in
		*" rc=0"*) say "$name $wl verified: $line" ;;
		"") fail "$name ran no $wl" ;;
		*) fail "$name $wl: $line" ;;
		esac
	done
}

# After the guests: gpuvmd noticed their deaths, isolation and audit hold.
final_checks() {
	for i in $(seq 20); do
		[ -z "$(ctl list 2> /dev/null | awk 'NR > 1 && $1 != "Host"')" ] && break
		sleep 0.5
	done
	ctl list > /tmp/list.log 2>&1
	if awk 'NR > 1 && $1 != "Host"' /tmp/list.log | grep -q .; then
		fail "vGPUs left after their domains died: $(cat /tmp/list.log)"
	else
		say "every vGPU was destroyed when its domain died"
	fi
	if ctl check > /tmp/check.log 2>&1; then
		say "isolation check and gpusim audit clean: $(tr '\n' ' ' < /tmp/check.log)"
	else
		fail "isolation check: $(cat /tmp/check.log)"
	fi
	kill -0 $GPUVMD 2> /dev/null || fail "gpuvmd died"
}

# ---- scenarios ------------------------------------------------------------
# gpuvmd dies (SIGKILL) with a domain attached: the next gpuvmd destroys the
# ioreq server the dead one left (xenstore record), so none stays behind.
daemon_restart_leaves_no_stale_server() {
	write_cfg s1 pvh ""
	xl create -p /etc/xen/s1.cfg > /tmp/xl-s1.log 2>&1 || { fail "xl create s1"; return; }
	ctl attach s1 --vram 64M > /dev/null 2>&1 || fail "gpuvmctl attach s1"
	kill -9 $GPUVMD
	wait $GPUVMD 2> /dev/null
	mv /tmp/gpuvmd.log /tmp/gpuvmd-killed.log
	start_gpuvmd || return
	if grep -q "destroyed ioreq server .* left on dom$(xl domid s1)" /tmp/gpuvmd.log; then
		say "a restarted gpuvmd destroyed the ioreq server its killed predecessor left on s1"
	else
		fail "no stale ioreq server cleanup after a gpuvmd restart"
	fi
	xl destroy s1
}

scenario_pvh_full() {
	daemon_restart_leaves_no_stale_server
	guest g1 pvh full 00:03.0 "xg_run=vadd:1024,mmul:32" || return
	wait_guests g1
	expect_ok g1 vadd mmul
	# mmul's process found the vGPU used by vadd's and had it reset (PV
	# RESET) instead of zero-filling its tables over thousands of ioreqs.
	resets=$(awk '$1 == "guest_resets:" { print $2 }' /tmp/info.g1 2> /dev/null)
	[ "${resets:-0}" -ge 1 ] && say "g1 asked for $resets vGPU reset(s) at bring-up" ||
		fail "g1's second process did not reset its vGPU (guest_resets ${resets:-?})"
}

scenario_two_pvh() {
	guest g1 pvh full 00:03.0 "xg_run=vadd:1024,memcpy:16384" || return
	guest g2 pvh pv 00:03.0 "xg_run=mmul:32,madd:16" || return
	wait_guests g1 g2
	expect_ok g1 vadd memcpy
	expect_ok g2 mmul madd
}

scenario_hostile() {
	guest victim pvh full 00:03.0 "xg_run=mmul:32,vadd:1024" || return
	guest rogue pvh full 00:03.0 "xg_hostile=1 xg_run=vadd:1024" || return
	wait_guests victim rogue
	expect_ok victim mmul vadd
	expect_ok rogue hostile vadd
	# The rogue's denied accesses are its own: the victim saw none, nor a
	# fault, in any of the rounds' snapshots.
	awk '$1 == "victim" && ($9 != 0 || $10 != 0) { bad = 1 } END { exit bad }' /tmp/list.all ||
		fail "the victim was touched: $(grep '^victim' /tmp/list.all | tail -1)"
	awk '$1 == "rogue" && $9 > 0 { seen = 1 } END { exit !seen }' /tmp/list.all ||
		fail "the rogue's attacks were never seen denied: $(grep '^rogue' /tmp/list.all | tail -1)"
}

# The patched xl (xen-patches/): the vgpu key attaches at domain build, with
# its weight, before the guest first runs; a vgpu gpuvmd refuses fails the
# creation with gpuvmd's message and leaves no domain behind.
scenario_xl_vgpu() {
	write_cfg g1 pvh "xg_run=vadd:1024" 'vgpu = [ "mode=full,vram=64M,weight=512" ]'
	if ! xl create /etc/xen/g1.cfg > /tmp/xl-g1.log 2>&1; then
		fail "xl create with vgpu=: $(tail -5 /tmp/xl-g1.log)"
		return
	fi
	ctl sched-credit -d g1 > /tmp/sc.log 2>&1
	grep -q 512 /tmp/sc.log && say "xl attached g1's vGPU with weight 512" ||
		fail "g1's vGPU after xl create: $(cat /tmp/sc.log)"
	write_cfg bad pvh "" 'vgpu = [ "mode=full,vram=4096M" ]'
	if xl create /etc/xen/bad.cfg > /tmp/xl-bad.log 2>&1; then
		fail "xl created a domain whose vGPU gpuvmd cannot give"
	elif ! grep -qi "vram\|memory\|space" /tmp/xl-bad.log; then
		fail "xl's error does not carry gpuvmd's reason: $(tail -3 /tmp/xl-bad.log)"
	else
		say "xl create refused: $(grep -i "gpuvmd" /tmp/xl-bad.log | head -1)"
	fi
	xl domid bad > /dev/null 2>&1 && fail "the refused domain was left behind"
	wait_guests g1
	expect_ok g1 vadd
}

scenario_hvm() {
	guest g1 hvm full 00:05.0 "xg_run=vadd:1024" || return
	wait_guests g1
	expect_ok g1 vadd
}

start_xen_tools
say "Xen tools up after $(up) s"
if start_gpuvmd; then
	case $SCENARIO in
	pvh-full) scenario_pvh_full ;;
	two-pvh) scenario_two_pvh ;;
	hostile) scenario_hostile ;;
	hvm) scenario_hvm ;;
	xl-vgpu) scenario_xl_vgpu ;;
	*) fail "unknown scenario '$SCENARIO'" ;;
	esac
	final_checks
fi
for f in /tmp/gpuvmd-killed.log /tmp/gpuvmd.log; do
	[ -e "$f" ] && { echo "----- $f"; cat "$f"; }
done
for f in /tmp/xl-*.log /var/log/xen/qemu-dm-*.log; do
	[ -e "$f" ] && { echo "----- $f"; tail -30 "$f"; }
done
echo "----- xl dmesg"
xl dmesg | tail -30
if [ -z "$FAILS" ]; then
	echo "XT-VERDICT PASS $SCENARIO after $(up) s"
else
	echo "XT-VERDICT FAIL $SCENARIO:$FAILS"
fi
kill $GPUVMD 2> /dev/null
sleep 1
reboot -f
