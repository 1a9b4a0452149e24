#!/usr/bin/env bash
# DNS-SD browsing (wsserve --list-hosts, the engine of the GUI's "Hosts on this network"): a wsserve in
# namespace A announces, a wsserve in namespace B lists it with its address, port, instance ids and types;
# with announce off, B sees nothing; without a reachable Avahi daemon, --list-hosts says so (exit 1).
# Every packet stays on a veth pair between two namespaces this script creates (netns_lib.sh).
# Exit 77 (skipped, with the reason) without root, `ip netns`, dbus-daemon or avahi-daemon.
# Usage: test_browse_netns.sh WSSERVE_BINARY
set -euo pipefail
bin="${1:?usage: $0 WSSERVE_BINARY}"
subnet=19
# shellcheck source=netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"

list() { # list OUTFILE: one --list-hosts run in B; succeeds when it exited 0
    in_ns "$nsb" "$bin" --list-hosts --list-seconds 3 >"$work/$1" 2>"$work/$1.err"
}

# Off by default: a wsserve in A without --announce is not listed from B.
ip netns exec "$nsa" env "$(bus_of "$nsa")" QT_QPA_PLATFORM=offscreen "$bin" --headless --bind 0.0.0.0 --port 4000 --no-admin --instance lobby:chat >"$work/quiet.out" 2>&1 &
pids+=($!)
wait_for 10 grep -q "listening on" "$work/quiet.out" || { echo "FAIL: wsserve in A did not start"; exit 1; }
list quiet.txt || { echo "FAIL: --list-hosts exited $? with announce off"; cat "$work/quiet.txt.err"; exit 1; }
if [ -s "$work/quiet.txt" ]; then
    echo "FAIL: a host was listed although nothing announces:"; cat "$work/quiet.txt"; exit 1
fi
grep -q "no wsserve hosts seen" "$work/quiet.txt.err" || { echo "FAIL: no 'nothing seen' note"; cat "$work/quiet.txt.err"; exit 1; }
echo "ok: announce off, nothing listed"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# Announcing in A: listed from B with its address, port, ids, types and page URL.
ip netns exec "$nsa" env "$(bus_of "$nsa")" QT_QPA_PLATFORM=offscreen "$bin" --headless --bind 0.0.0.0 --port 4000 --no-admin --announce \
    --instance lobby:chat --instance ttt:tictactoe >"$work/announce.out" 2>&1 &
pids+=($!)
seen() { list seen.txt && grep -q '10.231.19.1:4000' "$work/seen.txt"; }
if ! wait_for 40 seen; then
    echo "--- --list-hosts stdout"; cat "$work/seen.txt" || true
    echo "--- --list-hosts stderr"; cat "$work/seen.txt.err" || true
    echo "--- wsserve in A"; cat "$work/announce.out"
    echo "FAIL: namespace B does not list the host announcing in A"
    exit 1
fi
line="$(grep '10.231.19.1:4000' "$work/seen.txt" | head -1)"
echo "listed from namespace B: $line"
[ "$(grep -c . "$work/seen.txt")" -eq 1 ] || { echo "FAIL: expected one host:"; cat "$work/seen.txt"; exit 1; }
IFS=$'\t' read -r name where ids types url rest <<<"$line"
fail=0
[[ "$name" == "wsserve on "* ]] || { echo "FAIL: name '$name'"; fail=1; }
[ "$where" = "10.231.19.1:4000" ] || { echo "FAIL: address '$where'"; fail=1; }
[ "$ids" = "ids=lobby,ttt" ] || { echo "FAIL: ids '$ids'"; fail=1; }
[ "$types" = "types=chat,tictactoe" ] || { echo "FAIL: types '$types'"; fail=1; }
[ "$url" = "http://10.231.19.1:4000/" ] || { echo "FAIL: url '$url'"; fail=1; }
[ -z "${rest:-}" ] || { echo "FAIL: marked as this machine: '$rest'"; fail=1; }
[ $fail -eq 0 ] || exit 1
# The URL is the host's index page, served by the announcing wsserve.
if command -v curl >/dev/null 2>&1; then
    in_ns "$nsb" curl -fsS --max-time 5 "$url" >"$work/index.html" || { echo "FAIL: cannot fetch $url from B"; exit 1; }
    grep -qi "<html" "$work/index.html" || { echo "FAIL: $url is not a page"; exit 1; }
    echo "ok: $url answers from B"
fi

# Withdrawn when the announcing wsserve stops: gone from the list.
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
gone() { list gone.txt && ! [ -s "$work/gone.txt" ]; }
wait_for 30 gone || { echo "FAIL: still listed after wsserve in A stopped:"; cat "$work/gone.txt"; exit 1; }
echo "ok: gone once A stops announcing"

# No reachable daemon: said so, exit 1 (a bus that does not exist).
set +e
ip netns exec "$nsb" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/no-such-bus" QT_QPA_PLATFORM=offscreen \
    "$bin" --list-hosts --list-seconds 1 >"$work/nodaemon.txt" 2>"$work/nodaemon.err"
code=$?
set -e
[ $code -eq 1 ] || { echo "FAIL: --list-hosts without a daemon exited $code (expected 1)"; cat "$work/nodaemon.err"; exit 1; }
grep -q "Avahi" "$work/nodaemon.err" || { echo "FAIL: no reason given:"; cat "$work/nodaemon.err"; exit 1; }
echo "ok: without a daemon: $(tail -1 "$work/nodaemon.err")"
echo "ok: browsing lists the announcing host with its instances; nothing when announce is off"
