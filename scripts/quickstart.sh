#!/usr/bin/env bash
# Quickstart on a fresh Debian 12 machine: install what is needed, build, fetch the models,
# start mnv2d, and detect objects in (and classify) a sample photo with mnv2ctl.
#
#   sudo scripts/quickstart.sh        (root is needed only for apt-get)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=release
ninja -C build
bash models/fetch-models.sh

run=$(mktemp -d /tmp/mnv2d-quickstart.XXXXXX)
sock=$run/mnv2d.sock
echo "== starting mnv2d (config/dev.yaml, socket $sock)"
build/daemon/mnv2d -c config/dev.yaml --socket "$sock" 2>"$run/mnv2d.log" &
pid=$!
stop() {
	kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$run"
}
trap stop EXIT
for _ in $(seq 100); do # the daemon loads every model before it listens
	[ -S "$sock" ] && build/client/mnv2ctl -s "$sock" status >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { cat "$run/mnv2d.log"; exit 1; }
	sleep 0.1
done

echo "== mnv2ctl detect models/data/kite_and_cold.jpg"
build/client/mnv2ctl -s "$sock" detect models/data/kite_and_cold.jpg
echo "== mnv2ctl classify models/data/hot_dog.jpg"
build/client/mnv2ctl -s "$sock" classify models/data/hot_dog.jpg
echo "== mnv2ctl models"
build/client/mnv2ctl -s "$sock" models
