#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET...] — builds the libFuzzer harnesses in tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined, sources compiled directly: no meson needed, so it
# works from a clean checkout), generates each target's seed corpus and fuzzes each target
# for MNV2_FUZZ_SECONDS seconds.
#
# Targets (tests/fuzz/fuzz_TARGET.c; default: every one present):
#   load     the model loader and planner (+ one run)      seeds: make_seeds.c
#   image    PNG/JPEG decoding + preprocessing              seeds: fuzz_image.c (libpng, turbojpeg)
#   config   the YAML configuration parser                  seeds: config/*.yaml
#   request  the daemon's request path (daemon/intake.h)    seeds: fuzz_request.c
#   frame    raw frame geometry, one-pass convert+resize   seeds: fuzz_frame.c
#   y4m      the YUV4MPEG2 reader of examples/ (camera-loop) seeds: fuzz_y4m.c
# A harness with a seed mode is also built with -DMNV2_FUZZ_SEEDS (a plain sanitized
# program, `fuzz_TARGET_seeds DIR`) that writes its seeds after checking each one.
#
# Environment:
#   MNV2_FUZZ_SECONDS  seconds per target (default 600; 0: only run the seeds and the kept
#                      corpus once, a quick regression run)
#   MNV2_FUZZ_PARALLEL fuzz N targets at a time (default 1), each logging to logs/TARGET.log
#   MNV2_FUZZ_DIR      work directory (default build-fuzz in the checkout): binaries, corpus/,
#                      seeds/, artifacts/ (crash-*, leak-*, timeout-*, oom-* reproducers)
#   MNV2_FUZZ_MAX_LEN  -max_len (default 65536)
#   MNV2_FUZZ_TIMEOUT  per-input timeout in seconds (default 25)
#   MNV2_FUZZ_FORK     run N fuzzing processes (-fork=N; default: one process)
#   MNV2_FUZZ_JOBS     parallel compiler processes (default: the number of CPUs)
#   CC                 clang (default clang)
#
# Exit status: 0 when no target found anything, 1 on a finding (the reproducer is in
# artifacts/; replay it with `$MNV2_FUZZ_DIR/fuzz_TARGET artifacts/TARGET-crash-...`), 2 on
# a build or usage error.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${MNV2_FUZZ_DIR:-$root/build-fuzz}
seconds=${MNV2_FUZZ_SECONDS:-600}
max_len=${MNV2_FUZZ_MAX_LEN:-65536}
timeout=${MNV2_FUZZ_TIMEOUT:-25}
jobs=${MNV2_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
cc=${CC:-clang}
all_targets="load image config request frame y4m"

case $seconds in ''|*[!0-9]*) echo "fuzz.sh: MNV2_FUZZ_SECONDS must be a number" >&2; exit 2;; esac
case $jobs in ''|0|*[!0-9]*) echo "fuzz.sh: MNV2_FUZZ_JOBS must be a positive number" >&2; exit 2;; esac

if ! "$cc" --version 2>/dev/null | grep -q clang; then
	echo "fuzz.sh: libFuzzer needs clang (CC=$cc)" >&2
	exit 2
fi

mkdir -p "$out/obj" "$out/artifacts" "$out/gen"

common=(-std=c11 -D_GNU_SOURCE -ffp-contract=off -g -O1 '-DMNV2_VERSION="fuzz"'
	'-DMNV2D_VERSION="fuzz"' "-I$root/engine/include" "-I$root/engine/src")
fuzz_flags=('-fsanitize=fuzzer-no-link,address,undefined' -fno-sanitize-recover=undefined
	-fno-omit-frame-pointer)
plain_flags=('-fsanitize=address,undefined' -fno-sanitize-recover=undefined
	-fno-omit-frame-pointer)
link_flags=('-fsanitize=fuzzer,address,undefined')

arch=$(uname -m)
vnni=0
if [ "$arch" = x86_64 ]; then
	common+=(-DMNV2_HAVE_AVX2=1)
	# AVX-VNNI kernels when the compiler knows the instruction set (engine/meson.build)
	if echo 'int x;' | "$cc" -mavx2 -mavxvnni -x c -c - -o /dev/null 2>/dev/null; then
		vnni=1
		common+=(-DMNV2_HAVE_AVXVNNI=1)
	fi
elif [ "$arch" = aarch64 ]; then
	# NEON kernels, and the dot-product GEMM when the compiler knows it (engine/meson.build)
	common+=(-DMNV2_HAVE_NEON=1)
	if echo 'int x;' | "$cc" -march=armv8.2-a+dotprod -x c -c - -o /dev/null 2>/dev/null; then
		common+=(-DMNV2_HAVE_NEONDOT=1)
	fi
fi

# An object is rebuilt when its source, or any header of the tree, is newer than it.
newest_header=$(find "$root/engine" "$root/image" "$root/config" "$root/daemon" "$root/tools" \
	"$root/tests" "$out/gen" -name '*.h' -printf '%T@\n' 2>/dev/null | sort -n | tail -1)
touch -d "@${newest_header:-0}" "$out/headers.stamp"

# compile TAG FLAGS... -- SOURCES...: compiles each source into $out/obj/TAG/ ($jobs at a
# time) and prints the objects. SIMD kernels (*_avx2.c, *_vnni.c, *_neon.c) only for their
# architecture and with their instruction set, as engine/meson.build builds them.
compile() {
	local tag=$1 flags=() objs="" pids=() src isa rel obj
	shift
	while [ "$1" != -- ]; do flags+=("$1"); shift; done
	shift
	mkdir -p "$out/obj/$tag"
	for src in "$@"; do
		isa=()
		case $src in
		*_avx2.c) [ "$arch" = x86_64 ] || continue; isa=(-mavx2) ;;
		*_vnni.c) [ "$vnni" = 1 ] || continue; isa=(-mavx2 -mavxvnni) ;;
		*_neon.c) [ "$arch" = aarch64 ] || continue ;;
		*_neondot.c)
			[ "$arch" = aarch64 ] && [[ " ${common[*]} " == *" -DMNV2_HAVE_NEONDOT=1 "* ]] ||
				continue
			isa=(-march=armv8.2-a+dotprod) ;;
		esac
		rel=${src#"$root"/}
		obj="$out/obj/$tag/$(echo "$rel" | tr / _ | sed 's/\.c$/.o/')"
		if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$out/headers.stamp" -nt "$obj" ]; then
			while [ "${#pids[@]}" -ge "$jobs" ]; do
				wait "${pids[0]}" || return 1
				pids=("${pids[@]:1}")
			done
			"$cc" "${common[@]}" "${isa[@]}" "${flags[@]}" -c "$src" -o "$obj" >&2 &
			pids+=($!)
		fi
		objs="$objs $obj"
	done
	for p in "${pids[@]}"; do
		wait "$p" || return 1
	done
	echo "$objs"
}

# The wire contract's C code, as proto/meson.build generates it.
proto_c() {
	if [ ! -f "$out/gen/mnv2.pb-c.c" ] || [ "$root/proto/mnv2.proto" -nt "$out/gen/mnv2.pb-c.c" ]; then
		command -v protoc-c >/dev/null || { echo "fuzz.sh: protoc-c is missing" >&2; return 1; }
		protoc-c --proto_path="$root/proto" --c_out="$out/gen" "$root/proto/mnv2.proto" >&2 ||
			return 1
	fi
}

# Per target: its sources beyond the harness and the engine, include flags, pkg-config
# packages, and whether the harness has a seed mode.
target_src() {
	case $1 in
	image|frame) ls "$root"/image/src/*.c ;;
	config) ls "$root"/config/src/*.c ;;
	y4m) echo "$root/examples/y4m.c" ;;
	request)
		for f in "$root"/daemon/*.c; do [ "${f##*/}" = main.c ] || echo "$f"; done
		ls "$root"/config/src/*.c "$root"/image/src/*.c
		echo "$root/tools/labels.c" "$out/gen/mnv2.pb-c.c" "$root/tests/tflite_writer.c" \
			"$root/tests/gen/synth_models.c" "$root/tests/gen/synth_ref.c" \
			"$root/tests/daemon/test_models.c"
		;;
	esac
}
target_inc() {
	case $1 in
	image|frame) echo "-I$root/image/include -I$root/image/src" ;;
	config) echo "-I$root/config/include -I$root/config/src" ;;
	y4m) echo "-I$root/examples" ;;
	request) echo "-I$root/daemon -I$root/tools -I$root/config/include -I$root/image/include" \
		"-I$out/gen -I$root/tests -I$root/tests/gen -I$root/tests/daemon" ;;
	esac
}
target_pkgs() {
	case $1 in
	image|frame) echo "libpng libturbojpeg" ;;
	config) echo "yaml-0.1" ;;
	request) echo "libprotobuf-c libevent yaml-0.1 libpng libturbojpeg" ;;
	esac
}
has_seed_mode() { case $1 in image|request|frame|y4m) return 0 ;; *) return 1 ;; esac; }

targets=${*:-}
if [ -z "$targets" ]; then
	for t in $all_targets; do
		[ -f "$root/tests/fuzz/fuzz_$t.c" ] && targets="$targets $t"
	done
fi
for t in $targets; do
	case " $all_targets " in
	*" $t "*) [ -f "$root/tests/fuzz/fuzz_$t.c" ] ||
		{ echo "fuzz.sh: tests/fuzz/fuzz_$t.c does not exist" >&2; exit 2; } ;;
	*) echo "fuzz.sh: unknown target $t ($all_targets)" >&2; exit 2 ;;
	esac
done

engine_src=$(ls "$root"/engine/src/*.c "$root"/engine/src/kernels/*.c)
echo "fuzz.sh: building the engine with $cc (${fuzz_flags[*]})"
# shellcheck disable=SC2086 # $engine_src: paths without spaces
fuzz_objs=$(compile fuzz "${fuzz_flags[@]}" -- $engine_src) ||
	{ echo "fuzz.sh: engine build failed" >&2; exit 2; }
# shellcheck disable=SC2086
plain_objs=$(compile plain "${plain_flags[@]}" -- $engine_src) ||
	{ echo "fuzz.sh: engine build failed" >&2; exit 2; }

# Tokens the loader looks for, so mutations can splice them in.
cat > "$out/load.dict" <<'EOF'
"TFL3"
"M001"
"TFLITE_METADATA"
"TFLite_Detection_PostProcess"
"labels.txt"
"PK\x03\x04"
"PK\x01\x02"
"PK\x05\x06"
"max_detections"
"max_classes_per_detection"
"detections_per_class"
"use_regular_nms"
"nms_score_threshold"
"nms_iou_threshold"
"num_classes"
"y_scale"
"x_scale"
"h_scale"
"w_scale"
"\xff\xff\xff\x7f"
"\x00\x00\x00\x80"
"\xff\xff\xff\xff"
EOF
# Model names and values the request path compares against.
cat > "$out/request.dict" <<'EOF'
"cls"
"det"
"cls8"
"a-classifier-with-a-name-of-exactly-sixty-four-characters-000064"
"\x08\x01"
"\x00\x00\x00\x00"
"\xff\xff\xff\xff"
"\x00\x00\x80\x3f"
"\x00\x00\xc0\x7f"
EOF

# build TARGET: the fuzzer $out/fuzz_TARGET and, with a seed mode, $out/fuzz_TARGET_seeds.
build() {
	local t=$1 src inc cflags="" libs="" fobjs pobjs pkgs
	[ "$t" != request ] || proto_c || return 1
	src=$(target_src "$t")
	inc=$(target_inc "$t")
	pkgs=$(target_pkgs "$t")
	if [ -n "$pkgs" ]; then
		# shellcheck disable=SC2086
		if ! cflags=$(pkg-config --cflags $pkgs) || ! libs=$(pkg-config --libs $pkgs); then
			echo "fuzz.sh: pkg-config: $pkgs missing" >&2
			return 1
		fi
	fi
	# shellcheck disable=SC2086 # word lists: paths without spaces, pkg-config flags
	fobjs=$(compile "fuzz-$t" "${fuzz_flags[@]}" $inc $cflags -- $src) || return 1
	# shellcheck disable=SC2086
	"$cc" "${common[@]}" "${fuzz_flags[@]}" "${link_flags[@]}" $inc $cflags \
		"$root/tests/fuzz/fuzz_$t.c" $fobjs $fuzz_objs $libs -lm -lpthread \
		-o "$out/fuzz_$t" || return 1
	has_seed_mode "$t" || return 0
	# shellcheck disable=SC2086
	pobjs=$(compile "plain-$t" "${plain_flags[@]}" $inc $cflags -- $src) || return 1
	# shellcheck disable=SC2086
	"$cc" "${common[@]}" "${plain_flags[@]}" -DMNV2_FUZZ_SEEDS $inc $cflags \
		"$root/tests/fuzz/fuzz_$t.c" $pobjs $plain_objs $libs -lm -lpthread \
		-o "$out/fuzz_${t}_seeds"
}

# seeds TARGET: (re)writes $out/seeds/TARGET.
seeds() {
	local t=$1
	rm -rf "$out/seeds/$t"
	mkdir -p "$out/seeds/$t"
	case $t in
	load)
		# shellcheck disable=SC2086 # $plain_objs: a list of object paths without spaces
		"$cc" "${common[@]}" "${plain_flags[@]}" -I"$root/tests" -I"$root/tests/gen" \
			"$root/tests/fuzz/make_seeds.c" "$root/tests/tflite_writer.c" \
			"$root/tests/gen/synth_models.c" "$root/tests/gen/synth_ref.c" \
			"$root/tests/test_util.c" $plain_objs -lm -lpthread -o "$out/make_seeds" &&
			"$out/make_seeds" "$out/seeds/load" ;;
	config) cp "$root"/config/*.yaml "$out/seeds/config/" ;;
	*) ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_${t}_seeds" "$out/seeds/$t" ;;
	esac
}

# fuzz TARGET: runs it; its output goes to stdout, or to $out/logs/TARGET.log when fuzzing in
# parallel. Prints the verdict line; returns 1 on a finding.
fuzz() {
	local t=$1 seeds_dirs dict="" fork="" before after found=0 limit
	seeds_dirs="$out/seeds/$t"
	[ -d "$root/tests/fuzz/corpus_$t" ] && seeds_dirs="$seeds_dirs $root/tests/fuzz/corpus_$t"
	[ -f "$out/$t.dict" ] && dict="-dict=$out/$t.dict"
	[ -n "${MNV2_FUZZ_FORK:-}" ] && fork="-fork=$MNV2_FUZZ_FORK -ignore_crashes=0"
	# 0 seconds: run the seeds and the kept corpus once, no fuzzing
	limit="-max_total_time=$seconds"
	[ "$seconds" -ne 0 ] || limit="-runs=0"
	before=$(find "$out/artifacts" -type f -name "$t-*" | wc -l)
	# shellcheck disable=SC2086
	if ! "$out/fuzz_$t" -max_len="$max_len" $limit -timeout="$timeout" \
		-rss_limit_mb=2048 -print_final_stats=1 $dict $fork \
		-artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" $seeds_dirs; then
		found=1
	fi
	after=$(find "$out/artifacts" -type f -name "$t-*" | wc -l)
	[ "$after" -le "$before" ] || found=1
	if [ "$found" -ne 0 ]; then
		echo "fuzz.sh: $t: FINDING — reproducers in $out/artifacts:"
		ls -l "$out/artifacts"
		return 1
	fi
	echo "fuzz.sh: $t: no finding in $seconds s"
}

# Every target is built (and seeded) before any is fuzzed.
for t in $targets; do
	build "$t" || { echo "fuzz.sh: fuzz_$t build failed" >&2; exit 2; }
	seeds "$t" || { echo "fuzz.sh: $t: seed generation failed" >&2; exit 2; }
	mkdir -p "$out/corpus/$t"
done

status=0
parallel=${MNV2_FUZZ_PARALLEL:-1}
case $parallel in ''|0|*[!0-9]*) echo "fuzz.sh: MNV2_FUZZ_PARALLEL must be a positive number" >&2; exit 2 ;; esac
if [ "$parallel" -eq 1 ]; then
	for t in $targets; do
		echo "fuzz.sh: fuzzing $t for $seconds s (corpus $out/corpus/$t)"
		fuzz "$t" || status=1
	done
	exit $status
fi
# MNV2_FUZZ_PARALLEL=N: N targets at a time, each logging to $out/logs/TARGET.log; the
# verdicts are printed in the targets' order.
mkdir -p "$out/logs"
pids=() names=()
for t in $targets; do
	while [ "${#pids[@]}" -ge "$parallel" ]; do
		wait "${pids[0]}" || status=1
		grep -E '^(fuzz\.sh|stat::)' "$out/logs/${names[0]}.log" | sed 's/^stat::/    /'
		pids=("${pids[@]:1}")
		names=("${names[@]:1}")
	done
	echo "fuzz.sh: fuzzing $t for $seconds s (corpus $out/corpus/$t, log $out/logs/$t.log)"
	fuzz "$t" > "$out/logs/$t.log" 2>&1 &
	pids+=($!)
	names+=("$t")
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || status=1
	grep -E '^(fuzz\.sh|stat::)' "$out/logs/${names[$i]}.log" | sed 's/^stat::/    /'
done
exit $status
