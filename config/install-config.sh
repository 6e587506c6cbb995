#!/bin/sh
# install-config.sh SRC DIR — meson install step: installs SRC as DIR/mnv2d.yaml (under
# $DESTDIR) unless a file is already there, so that re-installing never overwrites an
# operator's configuration. (meson installs the shipped default as
# DATADIR/mnv2d/mnv2d.yaml.default every time, for comparison.)
set -eu
src=$1
dir=${DESTDIR:-}$2
mkdir -p "$dir"
if [ -e "$dir/mnv2d.yaml" ]; then
	echo "install-config: keeping the existing $dir/mnv2d.yaml"
else
	cp "$src" "$dir/mnv2d.yaml"
	chmod 0644 "$dir/mnv2d.yaml"
	echo "install-config: installed $dir/mnv2d.yaml"
fi
