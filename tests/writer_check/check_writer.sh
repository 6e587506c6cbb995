#!/bin/sh
# Dev check of tests/tflite_writer.c and tests/gen (not part of the default test suite).
#
# Builds gen-models and writer_selftest with $CC (default cc; warnings are errors, ASan+UBSan
# unless CHECK_SANITIZE is set to ""), then in a temporary directory:
#   1. writer_selftest: API behaviour, error handling; writes all_ops.tflite and
#      lenient.tflite (bad references on purpose: checked by check_models.py only)
#   2. gen-models: the synthetic models
#   3. the independent reader (../shared/peers/tflite_reader.py) dumps every model
#   4. fb_verify.py: strict FlatBuffers structure (bounds, alignment, vtables) of every model
#   5. check_models.py: content, cross-checked between fb_verify and the peer reader
#   6. gen-models again: the same bytes; with another seed: other weights
#   7. when LiteRT is installed (../shared/peers/setup.sh), Google's runtime runs each
#      synthetic model on a random input and every output must use more than one value
# Fails on any error. Exit status 77 (skip) when the reader or its Python packages are
# missing. Environment: CC, CHECK_SANITIZE, MNV2_TFLITE_READER (path of the reader),
# MNV2_PEERS_NODE_MODULES (LiteRT's node_modules), KEEP=1 keeps the temporary directory.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tests=$(dirname "$here")
shared=$(cd "$tests/../.." && pwd)/shared
reader=${MNV2_TFLITE_READER:-$shared/peers/tflite_reader.py}
py=/usr/bin/python3
cc=${CC:-cc}
san=${CHECK_SANITIZE-address,undefined}

if [ ! -f "$reader" ]; then
    echo "check_writer: SKIP: reader not found at $reader (set MNV2_TFLITE_READER)"; exit 77
fi
if ! "$py" -c 'import flatbuffers, numpy' 2>/dev/null; then
    echo "check_writer: SKIP: $py lacks flatbuffers/numpy" \
         "(apt-get install -y python3-flatbuffers python3-numpy)"; exit 77
fi

tmp=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "check_writer: keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror -O1 -g -ffp-contract=off"
[ -n "$san" ] && cflags="$cflags -fsanitize=$san -fno-sanitize-recover=all"
echo "check_writer: building with $cc $cflags"
# shellcheck disable=SC2086 # cflags is a word list
$cc $cflags -o "$tmp/gen-models" "$tests/gen/gen_models.c" "$tests/gen/synth_models.c" \
    "$tests/gen/synth_ref.c" "$tests/tflite_writer.c" -lm
# shellcheck disable=SC2086
$cc $cflags -o "$tmp/writer_selftest" "$here/writer_selftest.c" "$tests/tflite_writer.c"

mkdir "$tmp/models" "$tmp/again" "$tmp/seed2"
"$tmp/writer_selftest" "$tmp/models"
"$tmp/gen-models" "$tmp/models"

for f in "$tmp/models"/*.tflite; do
    [ "$(basename "$f")" = lenient.tflite ] && continue # deliberately bad references
    if ! "$py" "$reader" "$f" >"$f.txt" 2>"$f.err" || [ -s "$f.err" ]; then
        echo "check_writer: FAIL: the reader rejected $(basename "$f"):"; cat "$f.err"; exit 1
    fi
    echo "check_writer: reader ok: $(basename "$f"): $(head -n 1 "$f.txt")"
done

"$py" "$here/fb_verify.py" "$tmp/models"/synth_*.tflite "$tmp/models/all_ops.tflite"
"$py" "$here/check_models.py" "$reader" "$tmp/models"

"$tmp/gen-models" "$tmp/again" >/dev/null
"$tmp/gen-models" --seed 2 "$tmp/seed2" >/dev/null
for f in "$tmp/again"/*.tflite; do
    b=$(basename "$f")
    cmp -s "$f" "$tmp/models/$b" || { echo "check_writer: FAIL: $b differs between runs"; exit 1; }
done
# the weights, not just the description naming the seed, must change with the seed
"$py" -c 'import sys, glob, os
sys.path.insert(0, sys.argv[1])
import fb_verify
for f in glob.glob(sys.argv[2] + "/synth_*.tflite"):
    a = fb_verify.decode(f)["buffers"]
    b = fb_verify.decode(os.path.join(sys.argv[3], os.path.basename(f)))["buffers"]
    assert len(a) == len(b) and a != b, os.path.basename(f) + ": same weights for seeds 1 and 2"
' "$here" "$tmp/again" "$tmp/seed2" || { echo "check_writer: FAIL: seed has no effect"; exit 1; }
echo "check_writer: gen-models output is repeatable and depends on the seed"

nm=${MNV2_PEERS_NODE_MODULES:-${MNV2_PEERS_HOME:-$HOME/.cache/mnv2-peers}/node_modules}
if [ -d "$nm/@litertjs/core" ] && command -v node >/dev/null 2>&1; then
    mkdir "$tmp/litert"
    "$py" -c 'import random, sys
r = random.Random(7)
for name, s in (("in16", 16), ("in32", 32)):
    open(sys.argv[1] + "/" + name + ".u8", "wb").write(bytes(r.randrange(256) for _ in range(s * s * 3)))' "$tmp/litert"
    for m in synth_mnv2_uint8:in16 synth_mnv2_int8pc:in16 synth_ssdlite_head:in32; do
        model=${m%%:*} input=${m##*:}
        mkdir "$tmp/litert/$model"
        MNV2_PEERS_NODE_MODULES=$nm node "$shared/peers/litert_run.mjs" --outdir \
            "$tmp/litert/$model" "$tmp/models/$model.tflite" "$tmp/litert/$input.u8" \
            >"$tmp/litert/$model.log" 2>&1 ||
            { echo "check_writer: FAIL: LiteRT could not run $model"; cat "$tmp/litert/$model.log"; exit 1; }
        "$py" -c 'import sys
outs = sys.argv[1:]
assert outs, "no outputs"
for o in outs:
    b = open(o, "rb").read()
    assert len(set(b)) > 1, o + ": a single value everywhere"' "$tmp/litert/$model"/*.out* ||
            { echo "check_writer: FAIL: degenerate LiteRT output for $model"; exit 1; }
        set -- "$tmp/litert/$model"/*
        echo "check_writer: LiteRT ran $model: $# output file(s), none constant"
    done
else
    echo "check_writer: LiteRT not installed ($nm), run-time check skipped"
fi
echo "check_writer: PASS"
