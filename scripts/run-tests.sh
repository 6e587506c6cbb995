#!/usr/bin/env bash
# The whole default test suite (the README's test command; .ci/run runs it too):
#  1. gcc build with -Werror, every unit/golden/robustness test;
#  2. clang build with -Werror under AddressSanitizer + UndefinedBehaviorSanitizer
#     (any UB aborts), the same tests;
#  3. the model fetch script's offline tests.
# Prints one closing line: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0 skipped=0
tally() { # reads meson's summary from its log
	local log=$1 ok fail skip to
	ok=$(grep -E '^Ok:' "$log" | awk '{print $2}')
	fail=$(grep -E '^Fail:' "$log" | awk '{print $2}')
	to=$(grep -E '^Timeout:' "$log" | awk '{print $2}')
	skip=$(grep -E '^Skipped:' "$log" | awk '{print $2}')
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0} + ${to:-0}))
	skipped=$((skipped + ${skip:-0}))
}

run_build() { # name, compiler, extra meson options...
	local dir=$1 compiler=$2
	shift 2
	echo "== $dir ($compiler $*)"
	if ! { [ -d "$dir" ] || CC=$compiler meson setup "$dir" -Dwerror=true "$@" >/dev/null; } ||
		! ninja -C "$dir" >"$dir/ninja-output.log" 2>&1; then
		cat "$dir/ninja-output.log" 2>/dev/null | tail -40
		echo "$dir: build failed"
		failed=$((failed + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 2>&1 | tee "$dir/test-summary.log" |
		grep -vE '^(Full log|$)'
	tally "$dir/test-summary.log"
}

run_build build-test gcc --buildtype=debugoptimized
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_build build-asan clang --buildtype=debugoptimized -Db_sanitize=address,undefined \
	-Db_lundef=false -Dc_args=-fno-sanitize-recover=all

echo "== models/test-fetch-models.sh"
if out=$(bash models/test-fetch-models.sh 2>&1); then
	echo "$out" | tail -3
else
	echo "$out" | tail -30
fi
line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
passed=$((passed + $(echo "$line" | awk '{print $1}')))
failed=$((failed + $(echo "$line" | awk '{print $3}')))
[ -n "$line" ] || failed=$((failed + 1))

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
