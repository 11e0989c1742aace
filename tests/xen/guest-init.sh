#!/bin/busybox sh
# domU /init for the Xen harness.  Finds the vGPU (vendor 0x10de) on the PCI
# bus and runs what the kernel command line asks for, reporting each result
# on the console for dom0-init.sh to judge:
#   xg_name=NAME                 name used in the report lines
#   xg_run=WL:SIZE[,WL:SIZE...]  gpuvm-run workloads, e.g. vadd:4096,mmul:64
#   xg_hostile=1                 gpuvm-hostile first (pokes the vGPU where it must not)
# Report lines: "XG name PCI ...", "XG-RESULT name WL rc=N", "XG-DONE name".
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
NAME=guest RUN= HOSTILE=0
for a in $(cat /proc/cmdline); do
	case $a in
	xg_name=*) NAME=${a#xg_name=} ;;
	xg_run=*) RUN=${a#xg_run=} ;;
	xg_hostile=*) HOSTILE=${a#xg_hostile=} ;;
	esac
done
up() { cut -d' ' -f1 /proc/uptime; }
echo "XG $NAME up after $(up) s"
SBDF=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/vendor" ] || continue
	echo "XG $NAME PCI ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") class=$(cat "$d/class")"
	if [ "$(cat "$d/vendor")" = 0x10de ]; then
		SBDF=${d##*/}
		sed -n '1,6p' "$d/resource" | sed "s/^/XG $NAME BAR /"
	fi
done
if [ -z "$SBDF" ]; then
	echo "XG-RESULT $NAME pci rc=1 (no NVIDIA device on the PCI bus)"
else
	export GPUVM_DEVICE=pci:$SBDF
	if [ "$HOSTILE" = 1 ]; then
		# Pokes just past each BAR's end: nobody's device, they must vanish.
		sed -n '1p;2p;4p' "/sys/bus/pci/devices/$SBDF/resource" | while read -r start end flags; do
			past=$(printf '0x%x' $((end + 1)))
			devmem "$past" 32 0x0badf00d 2> /dev/null
			echo "XG $NAME poke past BAR end $past reads $(devmem "$past" 32 2> /dev/null)"
		done
		{ gpuvm-hostile --device "pci:$SBDF"; echo $? > /tmp/rc; } 2>&1 | sed "s/^/XG $NAME /"
		echo "XG-RESULT $NAME hostile rc=$(cat /tmp/rc)"
		sleep 10        # dom0 samples the vGPUs' counters every 5 s: let it see the denials
	fi
	for job in $(echo "$RUN" | tr ',' ' '); do
		wl=${job%%:*} size=${job#*:}
		t0=$(up)
		echo "XG $NAME running gpuvm-run $wl --size $size"
		{ gpuvm-run "$wl" --size "$size" --timing; echo $? > /tmp/rc; } 2>&1 | sed "s/^/XG $NAME /"
		echo "XG-RESULT $NAME $wl rc=$(cat /tmp/rc) ($(echo "$(up) $t0" | awk '{printf "%.1f", $1-$2}') s)"
	done
fi
echo "XG-DONE $NAME"
sleep 6         # dom0 samples the vGPU's counters every 5 s: let it see the last ones
sync
poweroff -f
