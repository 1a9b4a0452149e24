#!/usr/bin/env bash
# DNS-SD announcement (--announce) seen from another host, with every packet inside two network namespaces
# this script creates: a veth pair with private addresses, and in each namespace its own dbus-daemon and
# avahi-daemon (allowed only on the veth; their pid/socket folders on a tmpfs private to the namespace's
# mount namespace). Nothing is sent on the machine's real interfaces. wsserve runs in namespace A with
# --announce; avahi-browse in namespace B must resolve _wsserve._tcp with its TXT records.
# Exit 77 (skipped, with the reason) without root, `ip netns`, dbus-daemon, avahi-daemon or avahi-browse.
# Usage: test_announce_netns.sh WSSERVE_BINARY
set -euo pipefail
bin="${1:?usage: $0 WSSERVE_BINARY}"

subnet=18
# avahi-browse is what this test looks with (netns_lib.sh checks the rest and skips without it).
command -v avahi-browse >/dev/null 2>&1 || { echo "SKIP: avahi-browse is not installed (scripts/deps.sh installs it)"; exit 77; }
# shellcheck source=netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"

# wsserve in A, announcing; a second instance without the option is listed too (--announce lists all).
ip netns exec "$nsa" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/$nsa/bus" QT_QPA_PLATFORM=offscreen \
    "$bin" --headless --bind 0.0.0.0 --port 4000 --no-admin --announce \
    --instance lobby:chat --instance ttt:tictactoe >"$work/wsserve.out" 2>"$work/wsserve.err" &
pids+=($!)

browse() {
    ip netns exec "$nsb" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/$nsb/bus" \
        timeout 5 avahi-browse --resolve --parsable --terminate _wsserve._tcp >"$work/browse.txt" 2>&1 || true
    grep -q '^=;' "$work/browse.txt"
}
if ! wait_for 30 browse; then
    echo "--- avahi-browse"; cat "$work/browse.txt"
    echo "--- wsserve stderr"; cat "$work/wsserve.err"
    echo "FAIL: namespace B does not see _wsserve._tcp"
    exit 1
fi
line="$(grep '^=;' "$work/browse.txt" | head -1)"
echo "seen from namespace B: $line"
fail=0
for expected in '10.231.18.1' ';4000;' '"ids=lobby,ttt"' '"types=chat,tictactoe"' '"path=/"' '"socket=/socket/"' '"version='; do
    if [[ "$line" != *"$expected"* ]]; then
        echo "FAIL: the resolved service lacks $expected"
        fail=1
    fi
done
[ $fail -eq 0 ] || exit 1

# Withdrawn when wsserve stops; then the instance option alone: only the instances that ask are listed.
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
gone() { ! browse; }
wait_for 20 gone || { echo "FAIL: the service stays after wsserve stopped"; exit 1; }
ip netns exec "$nsa" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/$nsa/bus" QT_QPA_PLATFORM=offscreen \
    "$bin" --headless --bind 0.0.0.0 --port 4000 --no-admin \
    --instance lobby:chat:announce=true --instance ttt:tictactoe >"$work/option.out" 2>&1 &
pids+=($!)
wait_for 30 browse || { echo "FAIL: announce=true on an instance is not seen"; cat "$work/option.out"; exit 1; }
line="$(grep '^=;' "$work/browse.txt" | head -1)"
[[ "$line" == *'"ids=lobby"'* && "$line" == *'"types=chat"'* ]] ||
    { echo "FAIL: with announce=true on lobby only, expected ids=lobby: $line"; exit 1; }
echo "instance option: $line"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
wait_for 20 gone || { echo "FAIL: the service stays after wsserve stopped"; exit 1; }

# Off by default: the same server with neither is not seen.
ip netns exec "$nsa" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/$nsa/bus" QT_QPA_PLATFORM=offscreen \
    "$bin" --headless --bind 0.0.0.0 --port 4000 --no-admin --instance lobby:chat >"$work/quiet.out" 2>&1 &
pids+=($!)
wait_for 10 grep -q "listening on" "$work/quiet.out" || { echo "FAIL: wsserve without --announce did not start"; exit 1; }
ip netns exec "$nsb" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/$nsb/bus" \
    timeout 5 avahi-browse --parsable --terminate _wsserve._tcp >"$work/quiet-browse.txt" 2>&1 || true
if grep -q '_wsserve._tcp' "$work/quiet-browse.txt"; then
    echo "FAIL: announced without --announce"; cat "$work/quiet-browse.txt"; exit 1
fi
echo "ok: announced with --announce and TXT records, withdrawn at exit, nothing without it"
