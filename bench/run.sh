#!/usr/bin/env bash
# Runs `mnv2-model bench --json` on the four reference models, one JSON object per line.
#
# usage: bench/run.sh [extra bench options, e.g. --path portable --iterations 50]
# env:   BUILD_DIR (default build), MODELS_DIR (default models/data, else ../shared/models)
# Benchmarks are measurements, not tests: nothing here passes or fails on a time.
set -euo pipefail
cd "$(dirname "$0")/.."
tool="${BUILD_DIR:-build}/tools/mnv2-model"
dir="${MODELS_DIR:-}"
if [ -z "$dir" ]; then
	dir=models/data
	[ -f "$dir/mobilenet_v2_1.0_224_quant.tflite" ] || dir=../shared/models
fi
[ -x "$tool" ] || { echo "bench/run.sh: $tool not built (meson setup build && ninja -C build)" >&2; exit 1; }
for m in mobilenet_v2_1.0_224_quant tf2_mobilenet_v2_1.0_224_ptq \
	mobilenet_ssd_v2_coco_quant_postprocess ssd_mobilenet_v1_1_default_1; do
	f="$dir/$m.tflite"
	if [ ! -f "$f" ]; then
		echo "bench/run.sh: $f missing (models/fetch-models.sh fetches it); skipped" >&2
		continue
	fi
	"$tool" bench "$f" --json "$@"
done
