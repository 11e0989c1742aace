#!/bin/bash
# Checks the xl/libxl patch series without booting Xen.
#
#   xen-patches/check.sh [WORKDIR]      (default $GPUVM_XL_WORKDIR, else /tmp/gpuvm-xl)
#
# 1. Builds the patched xl and libxenlight (build-xl.sh WORKDIR; cached).
# 2. Runs "xl -N create CFG" (parse the config, print it as JSON) with
#    check/fake-xen.c preloaded in place of Xen: the vgpu key must land in
#    the domain config, and bad vgpu entries must be refused.
# 3. Drives libxl's gpuvmd client (libxl_gpuvm.c, linked from the patched
#    static libxenlight) against check/fake-gpuvmd.py, which records the
#    request lines, and checks them byte for byte, the xenstore record and
#    the error paths (refusal, no daemon, daemon hanging up, two vGPUs).
# 4. Sends the same requests to the real gpuvmd (build/bin/gpuvmd --backend
#    none): attach and detach must get past gpuvmd's request validation (it
#    then refuses them because that backend has no domains), and the
#    sched-credit request must succeed on a vGPU of that name.
#    Skipped if build/bin/gpuvmd does not exist (REQUIRE_GPUVMD=1: fail).
#
# Exit status 0 if everything checked passed, 1 otherwise.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
W=${1:-${GPUVM_XL_WORKDIR:-/tmp/gpuvm-xl}}
FAILS=0
PASSES=0
PIDS=()

pass() { echo "ok   $*"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

# ---- 1. build ---------------------------------------------------------------
echo "== building the patched xl and libxenlight in $W"
"$HERE/build-xl.sh" "$W" || { echo "FAIL build-xl.sh"; exit 1; }
T=$W/xen
L=$T/tools/libs
C=$W/check
mkdir -p "$C"

gcc -shared -fPIC -O2 -Wall -I"$T/tools/include" -o "$C/fake-xen.so" "$HERE/check/fake-xen.c" ||
	{ echo "FAIL compiling check/fake-xen.c"; exit 1; }
libdirs=()
for d in toollog ctrl guest store hypfs evtchn toolcore call gnttab foreignmemory devicemodel; do
	libdirs+=(-L"$L/$d" -Wl,-rpath-link="$L/$d")
done
gcc -O1 -g -std=gnu99 -Wall -Wno-unused-parameter -D__XEN_TOOLS__ \
	-D_LARGEFILE_SOURCE -D_LARGEFILE64_SOURCE -pthread \
	-include "$T/tools/config.h" -I"$T/tools/include" -I"$L/light" \
	-o "$C/test-gpuvm-client" "$HERE/check/test-gpuvm-client.c" "$HERE/check/fake-xen.c" \
	"$L/light/libxenlight.a" "${libdirs[@]}" \
	-lxenctrl -lxenguest -lxenstore -lxentoollog -lxenevtchn -lxentoolcore \
	-lxenhypfs -lyajl -luuid ||
	{ echo "FAIL compiling check/test-gpuvm-client.c"; exit 1; }

# ---- 2. xl parses the vgpu key ---------------------------------------------
echo "== xl -N create: the vgpu key in the domain config"
xl_dry() {	# CFG-TEXT -> stdout: xl's JSON, stderr: xl's messages; xl's status
	printf '%s\n' 'name = "g1"' 'type = "pvh"' 'kernel = "/boot/vmlinuz"' \
		'memory = 256' "$1" > "$C/guest.cfg"
	LD_LIBRARY_PATH="$W/out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		LD_PRELOAD="$C/fake-xen.so" "$W/out/xl" -N create "$C/guest.cfg"
}
vgpus_json() {	# xl's JSON on stdin -> the vgpus array, compact
	python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin).get("vgpus"), separators=(",",":")))'
}

out=$(xl_dry 'vgpu = [ "mode=pv-naive,vram=512M,channels=4,bdf=00:05.0,weight=512,cap=50,socket=/tmp/g.sock" ]' 2>"$C/xl.err" | vgpus_json)
want='[{"mode":"pv_naive","vram_kb":524288,"channels":4,"bdf":"00:05.0","weight":512,"cap":50,"socket":"/tmp/g.sock"}]'
[ "$out" = "$want" ] && pass "all keys parsed: $out" || fail "all keys: got $out, want $want ($(cat "$C/xl.err"))"

out=$(xl_dry 'vgpu = [ "mode=full,vram=256M,weight=256" ]' 2>"$C/xl.err" | vgpus_json)
want='[{"mode":"full","vram_kb":262144,"weight":256}]'
[ "$out" = "$want" ] && pass "the README example: $out" || fail "README example: got $out, want $want"

out=$(xl_dry 'vgpu = [ "" ]' 2>"$C/xl.err" | vgpus_json)
[ "$out" = '[{}]' ] && pass "an empty entry is a vGPU with gpuvmd's defaults: $out" ||
	fail "empty entry: got $out"

out=$(xl_dry '' 2>"$C/xl.err" | vgpus_json)
[ "$out" = 'null' ] && pass "no vgpu key, no vGPU" || fail "no vgpu key: got $out"

bad() {	# CFG-LINE EXPECTED-MESSAGE
	if xl_dry "$1" >/dev/null 2>"$C/xl.err"; then
		fail "xl accepted: $1"
	elif grep -qF "$2" "$C/xl.err"; then
		pass "xl refuses $1: $2"
	else
		fail "xl refused $1 without '$2': $(cat "$C/xl.err")"
	fi
}
bad 'vgpu = [ "mode=turbo" ]' 'Unknown mode "turbo" in vgpu spec (expected full, pv-naive or pv)'
bad 'vgpu = [ "vram=lots" ]' 'Invalid vram "lots" in vgpu spec'
bad 'vgpu = [ "chanels=4" ]' 'Unknown string "chanels=4" in vgpu spec'
bad 'vgpu = [ "weight=-5" ]' 'Invalid weight "-5" in vgpu spec'
bad 'vgpu = [ "cap=x" ]' 'failed to convert "x" to number'
bad 'vgpu = [ "mode=full", "mode=pv" ]' 'Only one vgpu per domain is supported'

# ---- 3. libxl's client against a recording fake gpuvmd --------------------------
echo "== libxl's gpuvmd client against a recording fake gpuvmd"
start_fake() {	# SOCKET RECORD [ARGS...]
	rm -f "$1" "$2"
	python3 "$HERE/check/fake-gpuvmd.py" "$@" > "$C/fake.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	fail "fake gpuvmd did not start: $(cat "$C/fake.out")"
	return 1
}
stop_fake() { kill "${PIDS[-1]}" 2>/dev/null; wait "${PIDS[-1]}" 2>/dev/null; }
client() { "$C/test-gpuvm-client" "$@" > "$C/client.out" 2> "$C/client.log"; }
expect_log() {	# TEXT DESCRIPTION
	grep -qF "$1" "$C/client.log" && pass "$2" || fail "$2: no '$1' in libxl's log: $(cat "$C/client.log")"
}

S=$C/fake.sock R=$C/requests
start_fake "$S" "$R"
if client attach "$S" 7 mode=pv_naive vram_kb=262144 channels=4 bdf=00:05.0 weight=512 cap=50; then
	pass "attach with every key: rc 0"
else
	fail "attach with every key: $(cat "$C/client.out" "$C/client.log")"
fi
want='{"op":"attach","domain":"7","mode":"pv-naive","vram":"262144K","channels":4,"bdf":"00:05.0"}
{"op":"sched-credit","name":"guest-7","weight":512,"cap":50}'
[ "$(cat "$R" 2>/dev/null)" = "$want" ] &&
	pass "requests sent: attach (by domain id), then sched-credit on the vGPU gpuvmd named" ||
	fail "requests: got '$(cat "$R" 2>/dev/null)', want '$want'"
cp "$R" "$R.first" 2>/dev/null
grep -qxF "xenstore /libxl/7/gpuvm-socket=$S" "$C/client.out" &&
	pass "xenstore records the socket for destroy: /libxl/7/gpuvm-socket" ||
	fail "xenstore record missing: $(cat "$C/client.out")"

rm -f "$R"
client attach "$S" 8 || fail "attach with defaults: $(cat "$C/client.log")"
[ "$(cat "$R" 2>/dev/null)" = '{"op":"attach","domain":"8"}' ] &&
	pass "defaults: only the domain is sent, and no sched-credit" ||
	fail "defaults: got '$(cat "$R" 2>/dev/null)'"

rm -f "$R"
client detach "$S" 7 || fail "detach: $(cat "$C/client.log")"
[ "$(cat "$R" 2>/dev/null)" = '{"op":"detach","domain":"7"}' ] &&
	pass "destroy sends detach for the domain" || fail "detach: got '$(cat "$R" 2>/dev/null)'"
grep -q '^xenstore ' "$C/client.out" && fail "detach left xenstore: $(cat "$C/client.out")" ||
	pass "detach removes the xenstore record"

rm -f "$R"
if client attach "$S" 9 count=2; then
	fail "two vGPUs accepted"
else
	expect_log "gpuvmd gives a domain one vGPU, not 2" "two vGPUs are refused by libxl"
	[ ! -s "$R" ] && pass "... before anything is sent" || fail "two vGPUs: sent $(cat "$R")"
fi
stop_fake

msg="not enough free VRAM for vGPU 'g1': 1024 MiB requested, largest free range 384 MiB (384 MiB free in all)"
start_fake "$S" "$R" --refuse "$msg"
if client attach "$S" 7 weight=100; then
	fail "attach succeeded although gpuvmd refused"
else
	expect_log "gpuvmd refused attach: $msg" "gpuvmd's refusal fails the attach with gpuvmd's message"
	grep -q '^xenstore ' "$C/client.out" && fail "refused attach left a xenstore record" ||
		pass "... and records nothing (no detach at destroy)"
	[ "$(wc -l < "$R")" = 1 ] && pass "... and sends no sched-credit" || fail "sent after refusal: $(cat "$R")"
fi
stop_fake

start_fake "$S" "$R" --silent
client attach "$S" 7 && fail "attach succeeded although gpuvmd hung up" ||
	expect_log "closed the connection before answering the attach request" "gpuvmd hanging up fails the attach"
stop_fake

client attach "$C/nobody.sock" 7 && fail "attach succeeded without gpuvmd" ||
	expect_log "cannot connect to gpuvmd at $C/nobody.sock (is it running?)" "no gpuvmd: attach fails, saying so"
client detach "$C/nobody.sock" 7 && expect_log "vGPU not detached; gpuvmd frees it when the domain is gone" \
	"no gpuvmd at destroy: only a warning, destroy goes on" || fail "detach without gpuvmd failed"

# ---- 4. the real gpuvmd -----------------------------------------------------------
echo "== the same requests to the real gpuvmd (--backend none)"
BIN=${GPUVM_BIN:-$REPO/build/bin}
G=$BIN/gpuvmd
if [ ! -x "$G" ]; then
	if [ "${REQUIRE_GPUVMD:-0}" = 1 ]; then
		fail "$G not built"
	else
		echo "SKIP $G not built (make it first; REQUIRE_GPUVMD=1 makes this a failure)"
	fi
else
	GS=$C/gpuvmd.sock
	rm -f "$GS"
	"$G" --gpu sim,vram=1G --backend none --socket "$GS" --pidfile "$C/gpuvmd.pid" --foreground \
		> "$C/gpuvmd.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do [ -S "$GS" ] && break; sleep 0.1; done
	send() {	# one request line -> gpuvmd's reply line
		python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d: break
    buf += d
print(buf.decode().strip())' "$GS"
	}
	backend_msg="attach needs a backend whose guests are domains"
	client attach "$GS" 7 mode=pv_naive vram_kb=262144 channels=4 bdf=00:05.0 weight=512 cap=50
	expect_log "gpuvmd refused attach: $backend_msg" \
		"gpuvmd accepts libxl's attach request (validated, then refused: no Xen backend here)"
	# gpuvmd checks every field before the backend: a bad one is named instead.
	reply=$(echo '{"op":"attach","domain":"7","chanels":4}' | send)
	case $reply in *"unknown field 'chanels'"*) pass "(gpuvmd validates fields first: $reply)";;
		*) fail "gpuvmd did not validate before the backend check: $reply";; esac
	client detach "$GS" 7
	expect_log "gpuvmd refused detach: detach needs a backend" "gpuvmd accepts libxl's detach request"
	"$BIN/gpuvmctl" --socket "$GS" create guest-7 --vram 64M >/dev/null ||
		fail "gpuvmctl create guest-7"
	reply=$(sed -n 2p "$R.first" 2>/dev/null | send)
	case $reply in *'"name":"guest-7","id":1,"weight":512,"cap":50'*)
		pass "gpuvmd applies libxl's sched-credit request: $reply";;
		*) fail "sched-credit request: $reply";; esac
fi

echo "== $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
