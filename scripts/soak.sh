#!/usr/bin/env bash
# scripts/soak.sh [--minutes N] [--build DIR] [--clients N] [--no-real] [--report FILE]
#
# Load, soak and fault test of a real mnv2d (tests/soak/README.md): builds the daemon (meson
# build directory, default $MNV2_BUILD_DIR or build/) and the driver tests/soak/ (into
# BUILD/tests/soak/mnv2-soak), then runs it: mnv2d on a temporary socket with synthetic
# models, and the four real models when ../shared/models or models/data holds them; 64
# concurrent clients for N minutes (default 10) mixing valid and invalid requests, clients
# killed mid-request and clients that stop reading, while faults are injected. Prints a
# summary table; exit status 0 only when every check held (1: a check failed, 2: usage or
# build error). Loopback Unix sockets only; everything stops by itself.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MNV2_BUILD_DIR:-$root/build}
minutes=10
pass=()
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=${2:?--minutes needs a value}; shift 2 ;;
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--clients|--report|--real|--images) pass+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
	--no-real) pass+=("$1"); shift ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case $minutes in ''|*[!0-9.]*) echo "soak.sh: --minutes must be a number" >&2; exit 2 ;; esac
case $build in /*) ;; *) build=$PWD/$build ;; esac

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" >/dev/null || { echo "soak.sh: meson setup failed" >&2; exit 2; }
fi
ninja -C "$build" daemon/mnv2d >/dev/null || { echo "soak.sh: building mnv2d failed" >&2; exit 2; }
ninja -C "$build" proto/libmnv2proto.a >/dev/null ||
	{ echo "soak.sh: building the wire code failed" >&2; exit 2; }

out=$build/tests/soak
mkdir -p "$out"
pkgs="libprotobuf-c libpng libturbojpeg zlib"
# shellcheck disable=SC2046,SC2086 # pkg-config's flags are word lists
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wpedantic \
	-I"$root/tests/soak" -I"$root/tests/daemon" -I"$root/tests" -I"$root/tests/gen" \
	-I"$build/proto" $(pkg-config --cflags $pkgs) \
	"$root"/tests/soak/*.c "$root/tests/daemon/harness.c" "$root/tests/daemon/test_models.c" \
	"$root/tests/tflite_writer.c" "$root/tests/gen/synth_models.c" "$root/tests/gen/synth_ref.c" \
	"$build/proto/libmnv2proto.a" $(pkg-config --libs $pkgs) -lm -lpthread \
	-o "$out/mnv2-soak" || { echo "soak.sh: building the driver failed" >&2; exit 2; }

real=()
for d in "$root/../shared/models" "$root/models/data"; do
	if [ -f "$d/mobilenet_v2_1.0_224_quant.tflite" ]; then real=(--real "$(cd "$d" && pwd)"); break; fi
done
for d in "$root/../shared/images" "$root/models/data"; do
	if [ -f "$d/hot_dog.jpg" ]; then real+=(--images "$(cd "$d" && pwd)"); break; fi
done
for a in "${pass[@]}"; do [ "$a" != --no-real ] || real=(); done

echo "soak.sh: $minutes min, mnv2d from $build${real[*]:+, real models: ${real[1]}}"
exec env MNV2_BUILD_DIR="$build" "$out/mnv2-soak" --minutes "$minutes" "${real[@]}" "${pass[@]}"
