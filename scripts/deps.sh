#!/usr/bin/env bash
# Installs what wsserve needs to build and test on Debian 12 / Ubuntu, when it is missing.
# Sourced by scripts/run, scripts/test and scripts/reliability; runs apt-get only for packages that are
# not installed, and `apt-get update` at most once a day per checkout (a marker under build/), so a CI
# run updates the package lists once.
# wsserve_install_deps [EXTRA_PACKAGE...]: the common packages plus the extras.
set -euo pipefail

wsserve_packages=(build-essential cmake ninja-build pkg-config
    qt6-base-dev libqt6sql6-sqlite qt6-websockets-dev qt6-httpserver-dev qt6-declarative-dev
    qt6-declarative-private-dev libgl-dev libssl-dev clang-format
    zlib1g-dev libqrencode-dev chromium libavahi-client-dev avahi-daemon avahi-utils iproute2 dbus
    dpkg-dev appstream desktop-file-utils lintian
    libhiredis-dev redis-server libsimdjson-dev)

wsserve_install_deps() {
    local missing=()
    for package in "${wsserve_packages[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if ! command -v node >/dev/null 2>&1; then
        missing+=(nodejs npm)
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    echo "wsserve: installing ${missing[*]}" >&2
    local marker
    marker="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/.apt-updated"
    if [ -z "$(find "$marker" -mmin -1440 2>/dev/null)" ]; then # none, or older than a day
        $sudo apt-get update -qq
        mkdir -p "$(dirname "$marker")" && touch "$marker"
    fi
    # avahi-daemon is installed for the discovery test, which runs private copies inside network namespaces:
    # the package must not start the system's daemon (it would announce on the real interfaces), so
    # service starts are refused during the install when nothing else says so already.
    local policy=/usr/sbin/policy-rc.d added_policy=""
    if [[ " ${missing[*]} " == *" avahi-daemon "* ]] && [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && added_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$added_policy" ]; then
        $sudo rm -f "$policy"
        if [ -d /run/systemd/system ]; then # enabled anyway by the package: leave it off
            $sudo systemctl disable --now avahi-daemon.service avahi-daemon.socket >/dev/null 2>&1 || true
        fi
    fi
}

# wsserve_web_deps: the pages' pinned phoenix JS client (web/package-lock.json), which the build copies
# into the binary; the configure step stops with a message when it is missing.
wsserve_web_deps() {
    local web
    web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/web"
    [ -f "$web/node_modules/phoenix/priv/static/phoenix.min.js" ] ||
        (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
}
