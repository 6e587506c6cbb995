#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET...] — builds the libFuzzer harnesses in tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined, engine sources compiled directly: no meson needed),
# generates the seed corpus and fuzzes each target for MNV2_FUZZ_SECONDS seconds.
#
# Targets: load (tests/fuzz/fuzz_load.c, always), and image / config when
# tests/fuzz/fuzz_image.c / fuzz_config.c exist. Default: every target present.
#
# Environment:
#   MNV2_FUZZ_SECONDS  seconds per target (default 600)
#   MNV2_FUZZ_DIR      work directory (default build-fuzz in the checkout): binaries, corpus/,
#                      seeds/, artifacts/ (crash-*, leak-*, timeout-*, oom-* reproducers)
#   MNV2_FUZZ_MAX_LEN  -max_len (default 65536)
#   MNV2_FUZZ_TIMEOUT  per-input timeout in seconds (default 25)
#   MNV2_FUZZ_FORK     run N fuzzing processes (-fork=N; default: one process)
#   CC                 clang (default clang)
#
# Exit status: 0 when no target found anything, 1 on a finding (the reproducer is in
# artifacts/; replay it with `$MNV2_FUZZ_DIR/fuzz_load artifacts/crash-...`), 2 on a
# build or usage error.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${MNV2_FUZZ_DIR:-$root/build-fuzz}
seconds=${MNV2_FUZZ_SECONDS:-600}
max_len=${MNV2_FUZZ_MAX_LEN:-65536}
timeout=${MNV2_FUZZ_TIMEOUT:-25}
cc=${CC:-clang}

case $seconds in ''|*[!0-9]*) echo "fuzz.sh: MNV2_FUZZ_SECONDS must be a number" >&2; exit 2;; esac

if ! "$cc" --version 2>/dev/null | grep -q clang; then
	echo "fuzz.sh: libFuzzer needs clang (CC=$cc)" >&2
	exit 2
fi

mkdir -p "$out/obj" "$out/artifacts"

common=(-std=c11 -D_GNU_SOURCE -ffp-contract=off -g -O1 '-DMNV2_VERSION="fuzz"'
	"-I$root/engine/include" "-I$root/engine/src")
fuzz_flags=('-fsanitize=fuzzer-no-link,address,undefined' -fno-sanitize-recover=undefined
	-fno-omit-frame-pointer)
link_flags=('-fsanitize=fuzzer,address,undefined')

# The engine's sources as engine/meson.build builds them: SIMD kernels (*_avx2.c) only for
# their architecture and with their instruction set, the rest for any CPU of the family.
arch=$(uname -m)
engine_src=$(ls "$root"/engine/src/*.c "$root"/engine/src/kernels/*.c)
if [ "$arch" = x86_64 ]; then
	common+=(-DMNV2_HAVE_AVX2=1)
fi

# Compiles the engine once per flag set into $out/obj/<tag>/ and prints the objects.
build_engine() {
	tag=$1
	shift
	mkdir -p "$out/obj/$tag"
	objs=""
	for src in $engine_src; do
		isa=()
		case $src in
		*_avx2.c) [ "$arch" = x86_64 ] || continue; isa=(-mavx2) ;;
		*_neon.c) [ "$arch" = aarch64 ] || continue ;;
		esac
		rel=${src#"$root"/engine/src/}
		obj="$out/obj/$tag/$(echo "$rel" | tr / _ | sed 's/\.c$/.o/')"
		if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
			[ -n "$(find "$root/engine" -name '*.h' -newer "$obj" 2>/dev/null | head -1)" ]; then
			"$cc" "${common[@]}" "${isa[@]}" "$@" -c "$src" -o "$obj" >&2 || return 1
		fi
		objs="$objs $obj"
	done
	echo "$objs"
}

echo "fuzz.sh: building the engine with $cc (${fuzz_flags[*]})"
fuzz_objs=$(build_engine fuzz "${fuzz_flags[@]}") || { echo "fuzz.sh: engine build failed" >&2; exit 2; }

# Seed generator: an ordinary (sanitized, uninstrumented) program.
plain_objs=$(build_engine plain -fsanitize=address,undefined) || exit 2
# shellcheck disable=SC2086 # $plain_objs: a list of object paths without spaces
"$cc" "${common[@]}" -fsanitize=address,undefined -I"$root/tests" -I"$root/tests/gen" \
	"$root/tests/fuzz/make_seeds.c" "$root/tests/tflite_writer.c" \
	"$root/tests/gen/synth_models.c" "$root/tests/gen/synth_ref.c" "$root/tests/test_util.c" \
	$plain_objs -lm -lpthread -o "$out/make_seeds" || { echo "fuzz.sh: make_seeds build failed" >&2; exit 2; }
rm -rf "$out/seeds/load"
mkdir -p "$out/seeds/load" "$out/corpus/load"
"$out/make_seeds" "$out/seeds/load" || { echo "fuzz.sh: make_seeds failed" >&2; exit 2; }

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

# build_target NAME EXTRA_SOURCES EXTRA_FLAGS: builds $out/fuzz_NAME; returns 1 on failure.
build_target() {
	name=$1
	extra_src=$2
	extra_flags=$3
	# shellcheck disable=SC2086,SC2046 # word lists: paths without spaces, pkg-config flags
	"$cc" "${common[@]}" "${fuzz_flags[@]}" "${link_flags[@]}" $extra_flags \
		"$root/tests/fuzz/fuzz_$name.c" $extra_src $fuzz_objs $(pkgconf_libs "$name") \
		-lm -lpthread -o "$out/fuzz_$name"
}

pkgconf_libs() {
	case $1 in
	image) pkg-config --cflags --libs libpng libturbojpeg 2>/dev/null || true ;;
	config) pkg-config --cflags --libs yaml-0.1 2>/dev/null || true ;;
	esac
}

targets=${*:-}
if [ -z "$targets" ]; then
	targets=load
	for t in image config; do
		[ -f "$root/tests/fuzz/fuzz_$t.c" ] && targets="$targets $t"
	done
fi

status=0
for t in $targets; do
	case $t in
	load) build_target load "" "" || { echo "fuzz.sh: fuzz_load build failed" >&2; exit 2; } ;;
	image|config)
		if [ ! -f "$root/tests/fuzz/fuzz_$t.c" ]; then
			echo "fuzz.sh: tests/fuzz/fuzz_$t.c does not exist" >&2
			exit 2
		fi
		srcs=$(ls "$root/$t"/src/*.c 2>/dev/null || true)
		if ! build_target "$t" "$srcs" "-I$root/$t/include -I$root/$t/src"; then
			echo "fuzz.sh: fuzz_$t build failed" >&2
			exit 2
		fi
		mkdir -p "$out/corpus/$t"
		if [ "$t" = config ]; then # the shipped configurations are good seeds
			rm -rf "$out/seeds/config"
			mkdir -p "$out/seeds/config"
			cp "$root"/config/*.yaml "$out/seeds/config/" 2>/dev/null || true
		fi
		;;
	*) echo "fuzz.sh: unknown target $t (load, image, config)" >&2; exit 2 ;;
	esac
	seeds=""
	[ -d "$out/seeds/$t" ] && seeds="$out/seeds/$t"
	[ -d "$root/tests/fuzz/corpus_$t" ] && seeds="$seeds $root/tests/fuzz/corpus_$t"
	dict=""
	[ -f "$out/$t.dict" ] && dict="-dict=$out/$t.dict"
	fork=""
	[ -n "${MNV2_FUZZ_FORK:-}" ] && fork="-fork=$MNV2_FUZZ_FORK -ignore_crashes=0"
	echo "fuzz.sh: fuzzing $t for $seconds s (corpus $out/corpus/$t)"
	before=$(find "$out/artifacts" -type f | wc -l)
	# shellcheck disable=SC2086
	if ! "$out/fuzz_$t" -max_len="$max_len" -max_total_time="$seconds" -timeout="$timeout" \
		-rss_limit_mb=2048 -print_final_stats=1 $dict $fork \
		-artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" $seeds; then
		status=1
	fi
	after=$(find "$out/artifacts" -type f | wc -l)
	if [ "$after" -gt "$before" ]; then
		status=1
	fi
	if [ "$status" -ne 0 ]; then
		echo "fuzz.sh: $t: FINDING — reproducers in $out/artifacts:" >&2
		ls -l "$out/artifacts" >&2
	else
		echo "fuzz.sh: $t: no finding in $seconds s"
	fi
done
exit $status
