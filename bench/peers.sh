#!/usr/bin/env bash
# Side by side, interleaved: our engine, ONNX Runtime (onnxruntime-node, native CPU kernels,
# on an ONNX conversion of the same .tflite) and Google's LiteRT (its WebAssembly build, one
# thread), on the same model and input bytes, using the peer tools in ../shared/peers.
#
# usage: bench/peers.sh [--json] [MODEL.tflite [INPUT.u8]]
#   default: models/data/mobilenet_v2_1.0_224_quant.tflite and the golden bird.u8
# env:   ROUNDS=3 RUNS=200 WARMUP=20 THREADS="1 2" BUILD_DIR=build
#        PEERS=../shared/peers MNV2_PEERS_HOME (see ../shared/peers/setup.sh)
#
# Each round runs every runtime once per thread count, back to back (1-thread runs pinned to
# CPU 0); the table gives each runtime's minimum median over the rounds and our ratio to it.
# This machine's speed drifts over minutes: only ratios from one run mean anything. ONNX
# Runtime is left out (with a note) for a model tflite2onnx.py cannot convert (the SSD
# post-processing op); LiteRT runs one thread only. Measurements, never a test.
set -euo pipefail
cd "$(dirname "$0")/.."
json=0
if [ "${1:-}" = --json ]; then json=1; shift; fi
model=${1:-models/data/mobilenet_v2_1.0_224_quant.tflite}
peers=${PEERS:-../shared/peers}
input=${2:-../shared/golden/classify/mobilenet_v2_1.0_224_quant/bird.u8}
tool=${BUILD_DIR:-build}/tools/mnv2-model
rounds=${ROUNDS:-3} runs=${RUNS:-200} warmup=${WARMUP:-20} threads=${THREADS:-1 2}

die() { echo "bench/peers.sh: $*" >&2; exit 1; }
[ -d "$peers" ] || die "$peers not found (the peer runtimes live beside the checkout)"
[ -x "$tool" ] || die "$tool not built (meson setup build && ninja -C build)"
[ -f "$model" ] || die "$model missing (models/fetch-models.sh)"
[ -f "$input" ] || die "$input missing"
export MNV2_PEERS_NODE_MODULES="${MNV2_PEERS_HOME:-$HOME/.cache/mnv2-peers}/node_modules"
[ -d "$MNV2_PEERS_NODE_MODULES/onnxruntime-node" ] || bash "$peers/setup.sh" >&2
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
have_ort=1
if ! /usr/bin/python3 "$peers/tflite2onnx.py" "$model" "$work/m.onnx" >"$work/convert.log" 2>&1; then
	have_ort=0
	echo "# ONNX Runtime left out: tflite2onnx.py cannot convert this model ($(tail -1 "$work/convert.log"))" >&2
fi

median_of() { grep -o 'median_ms=[0-9.]*' | head -1 | cut -d= -f2; }
ours() { # threads
	"$tool" bench "$model" --input "$input" --threads "$1" --iterations "$runs" \
		--warmup "$warmup" --json | /usr/bin/python3 -c \
		'import json,sys; print(json.loads(sys.stdin.readline())["latency_ms"]["median"])'
}
pin() { if [ "$1" = 1 ]; then echo "taskset -c 0"; fi; }

: >"$work/rows"
for r in $(seq "$rounds"); do
	for t in $threads; do
		p=$(pin "$t")
		if [ "$have_ort" = 1 ]; then
			o=$($p node "$peers/ort_run.js" --bench --runs "$runs" --warmup "$warmup" \
				--threads-list "$t" "$work/m.onnx" "$input" 2>"$work/ort.err" | median_of) || o=""
			[ -n "$o" ] && echo "ort $t $o" >>"$work/rows" ||
				echo "# onnxruntime failed: $(tail -1 "$work/ort.err")" >&2
		fi
		if [ "$t" = 1 ]; then
			l=$($p node "$peers/litert_run.mjs" --bench --runs "$runs" --warmup "$warmup" \
				"$model" "$input" 2>"$work/litert.err" | median_of) || l=""
			[ -n "$l" ] && echo "litert $t $l" >>"$work/rows" ||
				echo "# litert failed: $(grep -v '^ *at ' "$work/litert.err" | tail -1)" >&2
		fi
		e=$($p bash -c "$(declare -f ours); tool='$tool' model='$model' input='$input' runs=$runs warmup=$warmup ours $t")
		echo "mnv2 $t $e" >>"$work/rows"
		[ "$json" = 1 ] || echo "round $r, $t thread(s): mnv2 $e ms${o:+, onnxruntime $o ms}${l:+, litert $l ms}" >&2
		o="" l=""
	done
done

/usr/bin/python3 - "$work/rows" "$json" "$model" "$(date -u +%Y-%m-%d)" \
	"$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)" <<'PY'
import collections, json, sys
rows, as_json, model, day, cpu, ncpu = sys.argv[1:7]
best = collections.defaultdict(lambda: float("inf"))
for line in open(rows):
    rt, t, ms = line.split()
    best[(rt, int(t))] = min(best[(rt, int(t))], float(ms))
out = {"model": model, "date": day, "cpu": cpu, "cpus": int(ncpu), "results": []}
for (rt, t), ms in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    ours = best.get(("mnv2", t))
    out["results"].append({"runtime": rt, "threads": t, "median_ms": ms,
                           "mnv2_ratio": round(ours / ms, 3) if ours else None})
if as_json == "1":
    print(json.dumps(out))
    sys.exit()
print(f"{model}\n{day}, {cpu}, {ncpu} CPUs; min of the per-round medians")
print(f"{'runtime':<12} {'threads':>7} {'median ms':>10} {'mnv2 / it':>10}")
for r in out["results"]:
    ratio = f"{r['mnv2_ratio']:.2f}" if r["mnv2_ratio"] is not None else "-"
    print(f"{r['runtime']:<12} {r['threads']:>7} {r['median_ms']:>10.2f} {ratio:>10}")
PY
