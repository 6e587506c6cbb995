#!/usr/bin/env bash
# Runs the Python client from docs/protocol.md against fake-mnv2d, so that the documented
# example keeps working. Skips (77) when protoc or Python's protobuf module is missing.
# usage: test_doc_example.sh SOURCE_ROOT FAKE_MNV2D
set -euo pipefail
src=$1 fake=$2
py=$(command -v python3 || true)
for p in /usr/bin/python3 "$py"; do # the system python has Debian's python3-protobuf
	if [ -n "$p" ] && "$p" -c 'import google.protobuf' 2>/dev/null; then py=$p; break; fi
	py=
done
if ! command -v protoc >/dev/null || [ -z "$py" ]; then
	echo "SKIP: needs protoc and python3 with the protobuf module"
	exit 77
fi
tmp=$(mktemp -d)
trap 'kill "$fake_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
fake_pid=
protoc --proto_path="$src/proto" --python_out="$tmp" "$src/proto/mnv2.proto"
# the first ```python block after the example's heading
awk '/^## A complete client in Python/ {s=1} s && /^```python/ {p=1; next} p && /^```/ {exit} p' \
	"$src/docs/protocol.md" >"$tmp/client.py"
test -s "$tmp/client.py"
printf 'first image' >"$tmp/a.jpg"
printf 'second' >"$tmp/b.png"
"$fake" 1 >"$tmp/fake.out" &
fake_pid=$!
for _ in $(seq 100); do [ -s "$tmp/fake.out" ] && break; sleep 0.05; done
sock=$(head -1 "$tmp/fake.out")
out=$(cd "$tmp" && MNV2_SOCKET=$sock "$py" client.py a.jpg b.png)
echo "$out"
wait "$fake_pid"
fake_pid=
expect() {
	grep -qF -- "$1" <<<"$out" || { echo "FAIL: missing '$1'"; exit 1; }
}
expect "a.jpg: len=11 sum="
expect "top_k=3 thr=0 max=0 resize=3 filter=0 0.333"
expect "b.png: len=6 sum="
expect "mnv2d 0.1.0-test, up 42 s, queue 1/64, models: mobilenet_v2, ssd_mobilenet_v2"
echo "doc example: ok"
