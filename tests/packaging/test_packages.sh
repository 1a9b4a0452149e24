#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: wsserve contributors
# The packaging test (ctest -R packaging; registered by tests/packaging/CMakeLists.txt):
#   1. cpack builds the DEB and TGZ into <build>/packages, with SHA256 checksums;
#   2. the .deb's control data: name, version, architecture, Depends on Debian's Qt 6 packages,
#      the conffile, maintainer scripts that never enable the service;
#   3. the .deb unpacked with dpkg-deb -x: binary, .desktop entry, icons, metainfo, man page, unit,
#      example config and doc files where they belong, validated where the validators are installed;
#   4. the unpacked binary: --version, --help against the man page, and a headless run from the
#      shipped example config on port 0 with a real WebSocket client (Node + ws) and the admin API;
#   5. the TGZ's layout and binary; 6. lintian, when installed: no errors.
# Exit 77 (skipped) only outside CI when Node or tests/conformance/node_modules is missing.
set -euo pipefail

build_dir="" version="" cpack="cpack" node="" node_modules=""
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) build_dir="$2" ;;
    --version) version="$2" ;;
    --cpack) cpack="$2" ;;
    --node) node="$2" ;;
    --node-modules) node_modules="$2" ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
[ -n "$build_dir" ] && [ -n "$version" ] || { echo "usage: $0 --build-dir DIR --version X.Y.Z [...]" >&2; exit 2; }

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

step() { echo; echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

app_id="io.github.wsserve.wsserve"
arch="$(dpkg --print-architecture)"
out="$build_dir/packages"

step "cpack: DEB and TGZ into $out"
rm -f "$out"/wsserve_"$version"_*.deb* "$out"/wsserve-"$version"-*.tar.gz*
(cd "$build_dir" && "$cpack" --config CPackConfig.cmake -G "DEB;TGZ" -B "$out") >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log"; fail "cpack failed"; }
grep -E '^CPack: - (package|checksum)' "$work/cpack.log" || true
deb="$out/wsserve_${version}_${arch}.deb"
tgz="$(ls "$out"/wsserve-"$version"-Linux-*.tar.gz 2>/dev/null | head -n 1)"
[ -f "$deb" ] || fail "no $deb"
[ -n "$tgz" ] || fail "no wsserve-$version-Linux-*.tar.gz in $out"
for package in "$deb" "$tgz"; do
    [ -f "$package.sha256" ] || fail "no checksum $package.sha256"
    (cd "$out" && sha256sum --check --quiet "$(basename "$package").sha256") || fail "checksum of $package"
done
ok "$(basename "$deb"), $(basename "$tgz"), SHA256 checksums verified"

step "control data (dpkg-deb -I)"
dpkg-deb -I "$deb"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = "wsserve" ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
depends="$(field Depends)"
has_depend() { tr ',|' '\n\n' <<<"$depends" | awk '{ print $1 }' | grep -qxF -- "$1"; }
for package in libc6 libstdc++6 libqt6core6 libqt6gui6 libqt6network6 libqt6httpserver6 \
    libqt6widgets6 qt6-qpa-plugins; do
    has_depend "$package" || fail "Depends lacks $package: $depends"
done
dpkg-deb -e "$deb" "$work/control"
# Every Qt library the binary links must be a dependency (libQt6Foo.so.6 is in libqt6foo6).
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/wsserve >"$work/wsserve.bin"
for needed in $(objdump -p "$work/wsserve.bin" | awk '$1 == "NEEDED" && $2 ~ /^libQt6/ { print $2 }'); do
    package="$(sed -E 's/^lib(Qt6[A-Za-z]+)\.so\.6$/lib\16/' <<<"$needed" | tr '[:upper:]' '[:lower:]')"
    has_depend "$package" || fail "the binary needs $needed but Depends lacks $package"
done
grep -qx "/etc/wsserve/config.json" "$work/control/conffiles" || fail "/etc/wsserve/config.json is not a conffile"
if grep -v '^[[:space:]]*#' "$work/control/postinst" | grep -Eq 'systemctl.*(enable|start)|deb-systemd-helper +enable'; then
    fail "postinst enables or starts the service"
fi
ok "Depends: $depends"

step "unpacked .deb (dpkg-deb -x): layout"
root="$work/root"
dpkg-deb -x "$deb" "$root"
[ -x "$root/usr/bin/wsserve" ] || fail "no executable /usr/bin/wsserve"
for file in \
    "usr/share/applications/$app_id.desktop" \
    "usr/share/metainfo/$app_id.metainfo.xml" \
    "usr/share/icons/hicolor/scalable/apps/$app_id.svg" \
    "usr/share/man/man1/wsserve.1.gz" \
    "usr/share/doc/wsserve/copyright" \
    "usr/share/doc/wsserve/changelog.gz" \
    "usr/share/wsserve/examples/types/quiz.js" \
    "usr/share/wsserve/examples/types/counter.js" \
    "usr/share/wsserve/examples/types/tictactoe.js" \
    "lib/systemd/system/wsserve.service" \
    "etc/wsserve/config.json"; do
    [ -f "$root/$file" ] || fail "no /$file in the .deb"
done
png_width() { od -An -tu1 -j16 -N4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }
for size in 16 32 48 64 128 256; do
    icon="$root/usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png"
    [ -f "$icon" ] || fail "no /usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png"
    [ "$(png_width "$icon")" = "$size" ] || fail "$icon is $(png_width "$icon") px wide, not $size"
done
if [ -n "$(find "$root" -path '*/include/*' -o -name '*.a' -o -path "$root/usr/local*")" ]; then
    fail "development files or /usr/local in the .deb"
fi
ok "binary, desktop entry, icons (16-256 px and SVG), metainfo, man page, unit, config, doc files"

step "desktop entry, metainfo, unit"
desktop="$root/usr/share/applications/$app_id.desktop"
grep -qx "Exec=wsserve" "$desktop" || fail "the desktop entry must start the window: $(grep '^Exec=' "$desktop")"
grep -qx "Icon=$app_id" "$desktop" || fail "the desktop entry's Icon is not $app_id"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$desktop" || fail "desktop-file-validate"
    ok "desktop-file-validate"
else
    echo "note: desktop-file-validate not installed (desktop-file-utils)"
fi
metainfo="$root/usr/share/metainfo/$app_id.metainfo.xml"
grep -q "<launchable type=\"desktop-id\">$app_id.desktop</launchable>" "$metainfo" || fail "metainfo launchable"
grep -q "<release version=\"$version\"" "$metainfo" ||
    fail "the metainfo has no <release version=\"$version\">: add the release to resources/$app_id.metainfo.xml"
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$metainfo" || fail "appstreamcli validate"
    ok "appstreamcli validate"
else
    echo "note: appstreamcli not installed (appstream)"
fi
unit="$root/lib/systemd/system/wsserve.service"
grep -qx "ExecStart=/usr/bin/wsserve --headless --config /etc/wsserve/config.json" "$unit" || fail "unit ExecStart"
grep -qx "DynamicUser=yes" "$unit" || fail "the unit must not run as root"
ok "Exec without --headless, Icon, launchable, release $version, unit ExecStart and user"

step "the unpacked binary: --version and --help against the man page"
bin="$root/usr/bin/wsserve"
[ "$("$bin" --version)" = "wsserve $version" ] || fail "--version printed '$("$bin" --version)'"
ok "wsserve --version: wsserve $version"
help="$("$bin" --help)"
manual="$(zcat "$root/usr/share/man/man1/wsserve.1.gz" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g')"
grep -q "wsserve $version" <<<"$manual" || fail "the man page does not say wsserve $version"
missing=()
for flag in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
    grep -qF -- "$flag" <<<"$manual" || missing+=("$flag")
done
for word in $(awk '/^Instance types:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' <<<"$help") \
    $(awk '/^Instance options/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' <<<"$help" | sort -u); do
    grep -qw -- "$word" <<<"$manual" || missing+=("$word")
done
[ ${#missing[@]} -eq 0 ] || fail "resources/wsserve.1.in does not document: ${missing[*]}"
ok "the man page documents every flag, instance type and option of --help"

step "headless smoke test: the shipped example config, port 0, a real client"
"$bin" --headless --config "$root/etc/wsserve/config.json" --bind 127.0.0.1 --port 0 --admin-port 0 \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
    [ "$(wc -l <"$work/server.out")" -ge 2 ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err"; fail "wsserve exited at start"; }
    sleep 0.1
done
head -n 2 "$work/server.out"
ws_port="$(sed -nE '1s|^wsserve: listening on ws://127\.0\.0\.1:([0-9]+)$|\1|p' "$work/server.out")"
admin_port="$(sed -nE '2s|^wsserve: admin API on http://127\.0\.0\.1:([0-9]+)$|\1|p' "$work/server.out")"
[ -n "$ws_port" ] && [ -n "$admin_port" ] || { cat "$work/server.err"; fail "unexpected first lines"; }
smoke_skipped=""
if [ -n "$node" ] && [ -x "$node" ] && [ -d "$node_modules/ws" ]; then
    "$node" "$here/smoke_client.cjs" "$node_modules" "$ws_port" lobby "$admin_port" ||
        { cat "$work/server.err"; fail "smoke client"; }
elif [ "${CI:-}" = "true" ]; then
    fail "Node or $node_modules/ws missing (run npm ci in tests/conformance)"
else
    smoke_skipped="Node or $node_modules/ws missing (run npm ci in tests/conformance)"
    echo "note: no WebSocket client: $smoke_skipped"
fi
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || { cat "$work/server.err"; fail "wsserve exited $status on SIGTERM"; }
ok "SIGTERM: exit 0"

step "TGZ: layout and binary"
tar -xzf "$tgz" -C "$work"
tree="$work/$(basename "$tgz" .tar.gz)"
for file in bin/wsserve "share/applications/$app_id.desktop" "share/metainfo/$app_id.metainfo.xml" \
    "share/icons/hicolor/256x256/apps/$app_id.png" share/man/man1/wsserve.1.gz \
    share/wsserve/wsserve.service share/wsserve/config.json; do
    [ -f "$tree/$file" ] || fail "no $file in $(basename "$tgz")"
done
[ "$("$tree/bin/wsserve" --version)" = "wsserve $version" ] || fail "the TGZ's wsserve --version"
ok "$(basename "$tgz"): bin/, share/ (service recipe in share/wsserve/), --version"

if command -v lintian >/dev/null; then
    step "lintian"
    status=0
    lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 || status=$?
    grep -v 'running with root privileges' "$work/lintian.log" || true
    [ "$status" -eq 0 ] || fail "lintian reports errors (exit $status)"
    ok "lintian: no errors"
fi

if [ -n "$smoke_skipped" ]; then
    echo "SKIPPED the WebSocket smoke test: $smoke_skipped"
    exit 77
fi
echo
echo "packaging: all checks passed"
