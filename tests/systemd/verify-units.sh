#!/usr/bin/env bash
# verify-units.sh SRCDIR BUILDDIR — the unit files and snippets as systemd reads them,
# without a running systemd (a container is fine):
#  1. the configured mnv2d.service has no @placeholder@ left, and runs mnv2d and mnv2ctl;
#  2. systemd-analyze verify on both units, with ExecStart=/ExecReload= pointed at the
#     built binaries (verify checks they exist) and MANPATH at man/, so that every
#     Documentation= page is looked up for real;
#  3. systemd-analyze security --offline: the exposure score stays at most 1.5 (it is 1.0;
#     a guard against hardening dropped by mistake);
#  4. systemd-sysusers and systemd-tmpfiles on a scratch root: the user is created and
#     /run/mnv2d is made for it.
# Exit 77 (skipped) with a message when systemd-analyze is not installed.
set -uo pipefail
src=${1:?usage: verify-units.sh SRCDIR BUILDDIR}
build=${2:?usage: verify-units.sh SRCDIR BUILDDIR}
T="timeout 20"

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed (Debian package systemd; scripts/install-deps.sh installs it)"
	exit 77
fi
tmp=$(mktemp -d /tmp/mnv2d-verify-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# 1. the configured unit
svc=$build/systemd/mnv2d.service
[ -f "$svc" ] || { echo "FAIL: $svc was not generated"; exit 1; }
if grep -n '@[a-z_]*@' "$svc"; then bad "placeholders left in $svc"; fi
grep -Eq '^ExecStart=/[^ ]*/mnv2d -c /[^ ]*/mnv2d/mnv2d\.yaml$' "$svc" || bad "ExecStart= in $svc"
grep -Eq '^ExecReload=/[^ ]*/mnv2ctl --socket /run/mnv2d/mnv2d\.sock reload$' "$svc" ||
	bad "ExecReload= in $svc"

# 2. systemd-analyze verify, on copies that run the built binaries
mkdir -p "$tmp/units" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
sed -e "s|^ExecStart=[^ ]*/mnv2d |ExecStart=$build/daemon/mnv2d |" \
	-e "s|^ExecReload=[^ ]*/mnv2ctl |ExecReload=$build/client/mnv2ctl |" "$svc" >"$tmp/units/mnv2d.service"
cp "$src/systemd/mnv2d.socket" "$tmp/units/"
grep -q "^ExecStart=$build/daemon/mnv2d " "$tmp/units/mnv2d.service" || bad "ExecStart= not redirected"
cp "$src/man/mnv2ctl.1" "$tmp/man/man1/"
cp "$src/man/mnv2d.yaml.5" "$tmp/man/man5/"
cp "$src/man/mnv2d.8" "$tmp/man/man8/"
man_opt=--man=yes
if ! command -v man >/dev/null; then
	echo "note: man is not installed: Documentation= pages not looked up (--man=no)"
	man_opt=--man=no
fi
out=$(cd "$tmp/units" && MANPATH=$tmp/man $T systemd-analyze verify "$man_opt" ./mnv2d.service ./mnv2d.socket 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	bad "systemd-analyze verify (exit $rc):"
	echo "$out"
else
	echo "ok: systemd-analyze verify mnv2d.service mnv2d.socket"
fi

# 3. exposure
out=$(cd "$tmp/units" && $T systemd-analyze security --offline=yes ./mnv2d.service 2>&1)
score=$(echo "$out" | sed -n 's/.*Overall exposure level for mnv2d.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
	echo "note: systemd-analyze security --offline gave no score (systemd older than 250?)"
elif awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
	echo "ok: exposure $score"
else
	bad "exposure $score is over 1.5:"
	echo "$out" | grep -v '^✓'
fi

# 4. sysusers and tmpfiles on a scratch root
root=$tmp/root
mkdir -p "$root/etc"
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	$T systemd-sysusers --root="$root" "$src/systemd/mnv2d.sysusers" >"$tmp/sysusers.log" 2>&1 ||
		{ bad "systemd-sysusers:"; cat "$tmp/sysusers.log"; }
	line=$(grep '^mnv2d:' "$root/etc/passwd")
	uid=$(echo "$line" | cut -d: -f3)
	shell=$(echo "$line" | cut -d: -f7)
	[ -n "$uid" ] && [ "$uid" -lt 1000 ] || bad "no system user mnv2d: '$line'"
	case $shell in */nologin | */false) ;; *) bad "mnv2d may log in: '$line'" ;; esac
	grep -q '^mnv2d:' "$root/etc/group" || bad "no group mnv2d"
	$T systemd-tmpfiles --root="$root" --create "$src/systemd/mnv2d.tmpfiles" >"$tmp/tmpfiles.log" 2>&1 ||
		{ bad "systemd-tmpfiles:"; cat "$tmp/tmpfiles.log"; }
	got=$(stat -c '%u %a' "$root/run/mnv2d" 2>/dev/null)
	[ "$got" = "$uid 755" ] || bad "/run/mnv2d: '$got', want '$uid 755'"
	[ $fail -eq 0 ] && echo "ok: sysusers (uid $uid) and tmpfiles (/run/mnv2d)"
else
	echo "note: systemd-sysusers/systemd-tmpfiles missing: snippets not checked"
fi
exit $fail
