#!/bin/bash
# tests/vm/inside.sh BUILD_DIR — run by scripts/vm-test.sh inside its guest, as root, with
# the host's filesystem read-only and /tmp a tmpfs. Loads the vivid test driver (two
# capture nodes, single- and multi-planar), starts BUILD_DIR's mnv2d with the SSD
# detector, and checks:
#  - examples/camera-loop captures from a single-planar and a multi-planar V4L2 device with
#    MMAP buffers (copied into a sealed memfd) and with DMABUF export (the driver's buffers
#    sent as they are), in NV12, YUYV, and NM12 / YM12 (planes in separate buffers),
#    which give the same detections as NV12 / YU12 on a still scene, and a frame the
#    driver flags as damaged is dropped;
#  - tests/vm/dmabuf_check: a dmabuf frame, one declared larger than its buffer, one past
#    its end, one with a region;
#  - afterwards mnv2d holds no descriptor and no mapping of any frame, and exits 0 on SIGTERM.
# Prints PASS/FAIL lines; exit 0 when all pass, 77 when there is nothing to run with.
set -u
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
model=$src/models/data/mobilenet_ssd_v2_coco_quant_postprocess.tflite
[ -r "$model" ] || model=$src/../shared/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite
if [ ! -r "$model" ]; then
	echo "SKIP: no SSD detector in models/data or ../shared/models (models/fetch.sh)"
	exit 77
fi
failed=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failed=1; }

# two capture-only instances: single-planar (video0) and multi-planar (video1)
modprobe vivid n_devs=2 node_types=0x1,0x1 multiplanar=1,2 ||
	{ echo "FAIL modprobe vivid"; exit 1; }
dev=/dev/video0 mdev=/dev/video1
[ -c "$dev" ] && [ -c "$mdev" ] || { echo "FAIL vivid made no $dev and $mdev"; exit 1; }
echo "vivid: $dev single-planar, $mdev multi-planar"

cat >/tmp/mnv2d.yaml <<EOF
socket: /tmp/mnv2.sock
threads: 1
log_level: info
models:
  - name: ssd
    path: $model
    kind: detector
EOF
"$build/daemon/mnv2d" --config /tmp/mnv2d.yaml 2>/tmp/mnv2d.log &
pid=$!
for _ in $(seq 1 600); do # emulated, loading takes a while
	[ -S /tmp/mnv2.sock ] && "$build/client/mnv2ctl" --socket /tmp/mnv2.sock status \
		>/dev/null 2>&1 && break
	sleep 0.2
done
if ! "$build/client/mnv2ctl" --socket /tmp/mnv2.sock status >/dev/null 2>&1; then
	echo "FAIL mnv2d did not start:"
	cat /tmp/mnv2d.log
	exit 1
fi
base_fds=$(ls /proc/$pid/fd | wc -l)

loop() { # camera-loop through a device; $1 names the case, $2 the device, then options
	local name=$1 d=$2
	shift 2
	local out
	if out=$("$build/examples/camera-loop" --device "$d" --socket /tmp/mnv2.sock \
		--size 640x360 --frames 3 "$@" 2>&1) && grep -q "fps" <<<"$out"; then
		pass "camera-loop $name: $(grep -E '^camera-loop: (/dev|[0-9]+ frames)' <<<"$out" |
			tr '\n' ' ')"
	else
		fail "camera-loop $name"
		echo "$out" | tail -20
	fi
}
loop "V4L2 MMAP" "$dev"
loop "V4L2 DMABUF export" "$dev" --dmabuf
loop "V4L2 DMABUF export, bilinear, 3 in flight" "$dev" --dmabuf --filter bilinear --inflight 3
loop "V4L2 YUYV" "$dev" --fourcc YUYV
loop "multi-planar V4L2 MMAP" "$mdev"
loop "multi-planar V4L2 DMABUF export" "$mdev" --dmabuf
loop "multi-planar V4L2, NM12 = NV12M (planes in two buffers), MMAP" "$mdev" --fourcc NM12
loop "multi-planar V4L2, YM12 = YUV420M (three buffers), MMAP" "$mdev" --fourcc YM12
# The same scene in formats with the planes in one buffer and in separate ones must give
# the same detections, line for line: the planes were copied and described right. vivid's
# on-screen text (frame counter, time) is turned off so that frames repeat exactly.
detections() { # device, then camera-loop options: the per-detection lines
	"$build/examples/camera-loop" --device "$1" --socket /tmp/mnv2.sock --size 640x360 \
		--frames 2 --threshold 0.01 "${@:2}" 2>/dev/null | grep -E '^frame [0-9]+: .* score'
}
if "$build/tests/vm/vivid_ctl" "$mdev" "OSD Text Mode=None"; then
	for pair in "NV12 NM12" "YU12 YM12"; do
		set -- $pair
		one=$(detections "$mdev" --fourcc "$1") sep=$(detections "$mdev" --fourcc "$2")
		if [ -n "$one" ] && [ "$one" = "$sep" ]; then
			pass "$1 and $2 give the same $(wc -l <<<"$one") detections"
		else
			fail "$1 and $2 differ:"
			diff <(echo "$one") <(echo "$sep") | head -10
		fi
	done
else
	fail "vivid_ctl $mdev OSD Text Mode=None"
fi
# A frame the driver flags as damaged is dropped and the loop goes on (vivid marks the next
# frame it fills after the button is pressed: here the first of the stream).
"$build/tests/vm/vivid_ctl" "$dev" "Inject V4L2_BUF_FLAG_ERROR"
"$build/examples/camera-loop" --device "$dev" --socket /tmp/mnv2.sock --size 640x360 \
	--frames 4 >/tmp/damaged.out 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^camera-loop: 1 damaged frames dropped" /tmp/damaged.out &&
	grep -q "4 frames, 4 answered, 0 failed" /tmp/damaged.out; then
	pass "a damaged frame (V4L2_BUF_FLAG_ERROR) is dropped: $(grep -E 'dropped|fps' \
		/tmp/damaged.out | tr '\n' ' ')"
else
	fail "camera-loop with a damaged frame (exit $rc):"
	tail -5 /tmp/damaged.out
fi
if out=$("$build/examples/camera-loop" --device "$mdev" --socket /tmp/mnv2.sock --dmabuf \
	--fourcc NM12 --frames 1 2>&1); then
	fail "camera-loop --dmabuf --fourcc NM12 should be refused"
elif grep -q "in one buffer" <<<"$out"; then
	pass "camera-loop refuses --dmabuf with NM12: $(tail -1 <<<"$out")"
else
	fail "camera-loop --dmabuf --fourcc NM12: $out"
fi

"$build/tests/vm/dmabuf_check" /tmp/mnv2.sock "$dev"
rc=$? # vivid offers YUYV 640x360: a skip (77) here is a failure too
[ $rc -eq 0 ] || fail "dmabuf_check exited $rc"

settled=0
for _ in $(seq 1 50); do # the worker unmaps right after its last answer
	fds=$(ls /proc/$pid/fd | wc -l)
	maps=$(grep -c -E "dmabuf|memfd:|/dev/video" /proc/$pid/maps)
	[ "$fds" -le "$base_fds" ] && [ "$maps" -eq 0 ] && { settled=1; break; }
	sleep 0.1
done
if [ $settled = 1 ]; then
	pass "mnv2d holds no frame: $fds descriptors (as at the start), no frame mapped"
else
	fail "mnv2d still holds frames: $fds descriptors (start: $base_fds), $maps mappings"
	grep -E "dmabuf|memfd:|/dev/video" /proc/$pid/maps
fi
kill -TERM $pid
wait $pid
st=$?
[ $st -eq 0 ] && pass "mnv2d exits 0 on SIGTERM" || fail "mnv2d exited $st on SIGTERM"
if [ $failed != 0 ]; then
	echo "--- mnv2d log"
	tail -30 /tmp/mnv2d.log
fi
exit $failed
