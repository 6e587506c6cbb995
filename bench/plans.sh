#!/usr/bin/env bash
# A/B of the engine's memory plans: `mnv2-model bench --ab` (layer-by-layer and fused plans
# of one file, run back to back in one process) on the reference models, every kernel path
# this CPU has and 1 and 2 intra-op threads, ROUNDS times over. One JSON object per run
# (ratio_paired_median: the median of the per-iteration fused/layers ratios), then one
# summary line per configuration: the median of its rounds' paired ratios.
#
# usage: bench/plans.sh [extra bench options]
# env:   BUILD_DIR (default build), MODELS_DIR (default models/data, else ../shared/models),
#        MODELS (default: the four reference models' names), ROUNDS (default 3), PATHS (default "avxvnni avx2 portable", on aarch64 "neondot neon portable"), THREADS (default "1 2"),
#        ITERATIONS (default 200; portable runs use a tenth)
# Benchmarks are measurements, not tests: nothing here passes or fails on a time.
set -euo pipefail
cd "$(dirname "$0")/.."
tool="${BUILD_DIR:-build}/tools/mnv2-model"
dir="${MODELS_DIR:-}"
if [ -z "$dir" ]; then
	dir=models/data
	[ -f "$dir/mobilenet_v2_1.0_224_quant.tflite" ] || dir=../shared/models
fi
[ -x "$tool" ] || { echo "bench/plans.sh: $tool not built" >&2; exit 1; }
rounds=${ROUNDS:-3} iters=${ITERATIONS:-200}
paths="avxvnni avx2 portable"
[ "$(uname -m)" = aarch64 ] && paths="neondot neon portable"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= rounds; r++)); do
	for m in ${MODELS:-mobilenet_v2_1.0_224_quant tf2_mobilenet_v2_1.0_224_ptq \
		mobilenet_ssd_v2_coco_quant_postprocess ssd_mobilenet_v1_1_default_1}; do
		f="$dir/$m.tflite"
		[ -f "$f" ] || { echo "bench/plans.sh: $f missing; skipped" >&2; continue; }
		for p in ${PATHS:-$paths}; do
			n=$iters
			[ "$p" = portable ] && n=$(( iters / 10 > 2 ? iters / 10 : 2 ))
			for t in ${THREADS:-1 2}; do
				"$tool" bench "$f" --ab --path "$p" --threads "$t" --iterations "$n" \
					--warmup 5 --json "$@" 2>/dev/null | tee -a "$out" || true
			done
		done
	done
done
echo "# model path threads: layers_arena fused_arena median_of_rounds(paired fused/layers)"
sed -E 's/.*"model":"([^"]*)","path":"([^"]*)","threads":([0-9]+).*"layers":\{"arena_bytes":([0-9]+).*"fused":\{"arena_bytes":([0-9]+).*"ratio_paired_median":([0-9.]+).*/\1 \2 \3 \4 \5 \6/' "$out" |
	sort -k1,1 -k2,2 -k3,3n -k6,6n |
	awk '{ k = $1 " " $2 " " $3; v[k] = v[k] " " $6; a[k] = $4 " " $5; n[k]++ }
	     END { for (k in v) { split(substr(v[k], 2), x, " "); printf "%s: %s %.3f\n", k, a[k], x[int((n[k] + 1) / 2)] } }' |
	sed 's|^[^ ]*/||' | sort
