#!/usr/bin/env bash
# The whole default test suite (the README's test command; .ci/run runs it too):
#  1. gcc build with -Werror, every unit/golden/robustness test;
#  2. clang build with -Werror under AddressSanitizer + UndefinedBehaviorSanitizer
#     (any UB aborts), the same tests;
#  3. the model fetch script's offline tests;
#  3b. the engine cross-built for aarch64 (cross/aarch64-linux-gnu.ini, gcc -Werror) and
#     its tests under qemu-aarch64 -cpu max: both NEON paths against the portable kernels,
#     LiteRT's golden outputs on the neondot path (all four models) and on the neon path
#     (the classifiers), and the kernel comparisons on a CPU without asimddp (cortex-a53:
#     the neon path); skipped only when the cross compiler or qemu-aarch64 is missing;
#  4. every libFuzzer harness for MNV2_FUZZ_SECONDS (default 60) seconds, two at a time
#     (scripts/fuzz.sh; each target counts as a test);
#  5. the daemon integration tests (daemon, zerocopy) once more with every mnv2d under
#     valgrind memcheck (MNV2D_WRAP): zero errors and zero definite leaks in every daemon;
#  6. a MNV2_SOAK_MINUTES (default 2) minute load/soak/fault run (scripts/soak.sh);
#  7. V4L2 capture (MMAP, DMABUF export) and dmabuf frames into mnv2d, in a QEMU guest with
#     the vivid driver (scripts/vm-test.sh); skipped when qemu or a kernel is missing.
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

step_start() { echo "== $*"; step_t0=$SECONDS; }
step_end() { echo "   ($((SECONDS - step_t0)) s)"; }

# 3b. aarch64: the engine and its tests only (-Dengine_only=true), run by meson through the
# cross file's exe_wrapper (qemu-aarch64 -cpu max: its CPU has asimddp, so the CPU's path
# must be neondot — MNV2_TEST_EXPECT_PATH makes test_simd check that).
step_start "aarch64 cross build + engine tests under qemu-aarch64 (build-aarch64)"
a64=build-aarch64
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
	echo "aarch64-linux-gnu-gcc or qemu-aarch64 is missing (scripts/install-deps.sh installs" \
		"them): aarch64 build and tests skipped"
	skipped=$((skipped + 1))
elif ! { [ -d "$a64" ] || meson setup "$a64" --cross-file cross/aarch64-linux-gnu.ini \
	-Dengine_only=true -Dwerror=true >"/tmp/mnv2-$a64-setup.$$.log" 2>&1; } ||
	! ninja -C "$a64" >"$a64/ninja-output.log" 2>&1; then
	tail -40 "/tmp/mnv2-$a64-setup.$$.log" "$a64/ninja-output.log" 2>/dev/null
	echo "$a64: build failed"
	failed=$((failed + 1))
else
	# whole-model comparisons (simd, fused) on one real model (inference under qemu is ~50x
	# slower); every operator of the four is still compared alone, and golden runs all four
	# in two of its variants: the default plan and the fused plan in 1-row tiles on 2 threads
	MNV2_TEST_EXPECT_PATH=neondot MNV2_TEST_REAL_MODELS=mobilenet_v2_1.0_224_quant \
		MNV2_GOLDEN_VARIANTS=0,3 meson test -C "$a64" --print-errorlogs --num-processes 2 2>&1 |
		tee "$a64/test-summary.log" | grep -vE '^(Full log|$)'
	tally "$a64/test-summary.log"
	echo "-- golden outputs again on the neon path (classifiers)"
	MNV2_TEST_PATH=neon MNV2_GOLDEN_SKIP_DETECT=1 MNV2_GOLDEN_VARIANTS=0 \
		meson test -C "$a64" golden --print-errorlogs \
		2>&1 | tee "$a64/test-golden-neon.log" | grep -E '^ *[0-9]+/[0-9]+ '
	tally "$a64/test-golden-neon.log"
	# a CPU without the dot-product extension (Cortex-A53, as on a Raspberry Pi 3) must
	# choose neon; the kernel and synthetic-model comparisons run on it there
	echo "-- simd on qemu -cpu cortex-a53 (no asimddp: the neon path)"
	if MNV2_TEST_EXPECT_PATH=neon MNV2_SHARED_DIR=/nonexistent CK_RUN_SUITE=simd \
		qemu-aarch64 -cpu cortex-a53 "$a64/tests/test_simd" >"$a64/test-simd-a53.log" 2>&1; then
		tail -1 "$a64/test-simd-a53.log"
		passed=$((passed + 1))
	else
		tail -20 "$a64/test-simd-a53.log"
		failed=$((failed + 1))
	fi
fi
rm -f "/tmp/mnv2-$a64-setup.$$.log"
step_end

# 4. Fuzzing: each harness present is one test.
fuzz_secs=${MNV2_FUZZ_SECONDS:-60}
step_start "fuzzing: every harness for $fuzz_secs s, two at a time (scripts/fuzz.sh)"
mkdir -p build-fuzz
fuzz_log=build-fuzz/ci.log
MNV2_FUZZ_DIR=$PWD/build-fuzz MNV2_FUZZ_SECONDS=$fuzz_secs MNV2_FUZZ_PARALLEL=2 \
	bash scripts/fuzz.sh >"$fuzz_log" 2>&1
grep -E '^(fuzz\.sh: [a-z]+: |fuzz\.sh: .*(failed|missing|needs))' "$fuzz_log"
for src in tests/fuzz/fuzz_*.c; do
	t=${src#tests/fuzz/fuzz_}
	t=${t%.c}
	if grep -q "^fuzz.sh: $t: no finding" "$fuzz_log"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "fuzz $t: FAILED (build-fuzz/logs/$t.log, $fuzz_log)"
		tail -30 "build-fuzz/logs/$t.log" 2>/dev/null
	fi
done
step_end

# 5. The daemon tests with every mnv2d they start under memcheck.
step_start "daemon integration tests under valgrind memcheck"
vg_dir=$PWD/build-test/valgrind
if [ ! -x build-test/daemon/mnv2d ]; then
	echo "build-test has no mnv2d: not run"
	failed=$((failed + 1))
elif ! command -v valgrind >/dev/null; then
	echo "valgrind is missing (scripts/install-deps.sh installs it): skipped"
	skipped=$((skipped + 1))
else
	rm -rf "$vg_dir"
	mkdir -p "$vg_dir"
	# the integration tests that start mnv2d through tests/daemon/harness.c
	vg_tests=$(meson test -C build-test --list 2>/dev/null | sed 's/.* \/ //' |
		grep -xE 'daemon|zerocopy' | tr '\n' ' ')
	# JSIMD_FORCENONE: libjpeg-turbo's SIMD code trips memcheck with false positives
	# shellcheck disable=SC2086 # $vg_tests: a list of test names
	JSIMD_FORCENONE=1 MNV2D_WRAP="valgrind --error-exitcode=1 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite --trace-children=yes \
--log-file=$vg_dir/mnv2d.%p.log" \
		meson test -C build-test $vg_tests --print-errorlogs >"$vg_dir/meson.log" 2>&1
	vg_rc=$?
	vg_logs=$(find "$vg_dir" -name 'mnv2d.*.log' | wc -l)
	vg_bad=$(find "$vg_dir" -name 'mnv2d.*.log' -exec grep -L 'ERROR SUMMARY: 0 errors' {} + |
		wc -l)
	if [ "$vg_rc" -eq 0 ] && [ "$vg_logs" -gt 0 ] && [ "$vg_bad" -eq 0 ]; then
		echo "$vg_logs mnv2d processes ($vg_tests) under memcheck: 0 errors, 0 definite leaks"
		passed=$((passed + 1))
	else
		echo "memcheck: meson test exit $vg_rc; $vg_bad of $vg_logs daemon logs without" \
			"'ERROR SUMMARY: 0 errors' (a killed daemon has no summary):"
		find "$vg_dir" -name 'mnv2d.*.log' -exec grep -L 'ERROR SUMMARY: 0 errors' {} + |
			head -3 | xargs -r tail -40
		tail -30 "$vg_dir/meson.log"
		failed=$((failed + 1))
	fi
fi
step_end

# 6. Load, soak and faults.
soak_min=${MNV2_SOAK_MINUTES:-2}
step_start "soak: $soak_min minutes (scripts/soak.sh)"
if [ -x build-test/daemon/mnv2d ] &&
	bash scripts/soak.sh --build build-test --minutes "$soak_min" \
		--report build-test/soak-report.md >build-test/soak.log 2>&1; then
	sed -n '/^| check/,$p' build-test/soak.log
	passed=$((passed + 1))
else
	grep -E 'FAIL|soak.sh' build-test/soak.log | head -40
	sed -n '/^| check/,$p' build-test/soak.log
	failed=$((failed + 1))
fi
step_end

# 7. Drivers this machine lacks: V4L2 capture and dmabufs, in a guest.
step_start "V4L2 capture and dmabuf frames in a QEMU guest (scripts/vm-test.sh)"
bash scripts/vm-test.sh build-test >build-test/vm-test.log 2>&1
vm_rc=$?
grep -E '^(PASS|FAIL|SKIP)|vm-test:' build-test/vm-test.log
if [ $vm_rc -eq 0 ]; then
	passed=$((passed + 1))
elif [ $vm_rc -eq 77 ]; then
	skipped=$((skipped + 1))
else
	tail -40 build-test/vm-test.log
	failed=$((failed + 1))
fi
step_end

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
