#!/usr/bin/env bash
# check_config — `mnv2d --check-config FILE` on good and bad configurations: exit 0 with
# "OK" for a good one; exit 1 and the exact "FILE:LINE:COLUMN: message" for each bad one.
set -u
B=${MNV2_BUILD_DIR:?}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
expect() { # name, yaml, exit code, expected stderr fragment
	printf '%b' "$2" >"$tmp/$1.yaml"
	out=$("$B/daemon/mnv2d" --check-config "$tmp/$1.yaml" 2>&1)
	rc=$?
	if [ "$rc" -eq "$3" ] && [[ $out == *"$4"* ]]; then
		echo "ok - $1"
		passed=$((passed + 1))
	else
		echo "not ok - $1: exit $rc, output: $out"
		failed=$((failed + 1))
	fi
}
expect bad_type 'threads: two\nmodels: []\n' 1 "bad_type.yaml:1:10: expected an integer for 'threads', got 'two'"
expect unknown_key 'models:\n  - name: m\n    path: x.tflite\n    top_kk: 3\n' 1 \
	"unknown_key.yaml:4:5: unknown key 'top_kk' in a model (did you mean 'top_k'?)"
expect out_of_range 'queue_depth: 0\n' 1 "out_of_range.yaml:1:14: 'queue_depth' must be between 1 and 65536, got '0'"
expect syntax 'models:\n  - name: m\n    path: [\n' 1 "syntax.yaml:4:1: YAML syntax error"
expect missing_model_file 'models:\n  - name: m\n    path: no-such.tflite\n' 1 "no-such.tflite"
# The developer configuration checks out when the models have been fetched.
if [ -f "$SRC/models/data/mobilenet_v2_1.0_224_quant.tflite" ]; then
	out=$("$B/daemon/mnv2d" --check-config "$SRC/config/dev.yaml" 2>&1)
	if [ $? -eq 0 ] && [[ $out == *"OK, 4 models"* ]]; then
		echo "ok - config/dev.yaml"
		passed=$((passed + 1))
	else
		echo "not ok - config/dev.yaml: $out"
		failed=$((failed + 1))
	fi
else
	echo "skip - config/dev.yaml: models/data not fetched"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
