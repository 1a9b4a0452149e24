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

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for tool in ip dbus-daemon avahi-daemon avahi-browse; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (scripts/deps.sh installs it)"
done

tag="wsd$$"
nsa="${tag}a"
nsb="${tag}b"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$nsa" 2>/dev/null || true
    ip netns del "$nsb" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$nsa" || skip "cannot create a network namespace (no CAP_SYS_ADMIN here?)"
ip netns add "$nsb"
ip link add "${tag}va" type veth peer name "${tag}vb" || skip "cannot create a veth pair"
ip link set "${tag}va" netns "$nsa"
ip link set "${tag}vb" netns "$nsb"
ip -n "$nsa" addr add 10.231.18.1/24 dev "${tag}va"
ip -n "$nsb" addr add 10.231.18.2/24 dev "${tag}vb"
for ns in "$nsa" "$nsb"; do
    ip -n "$ns" link set lo up
done
ip -n "$nsa" link set "${tag}va" up multicast on
ip -n "$nsb" link set "${tag}vb" up multicast on

# Per namespace: a system-bus-like dbus-daemon on a private socket, and avahi-daemon on the veth only.
start_daemons() {
    local ns="$1" iface="$2" name="$3"
    local dir="$work/$ns"
    mkdir -p "$dir"
    cat >"$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
CONF
    cat >"$dir/avahi.conf" <<CONF
[server]
host-name=$name
use-ipv4=yes
use-ipv6=no
allow-interfaces=$iface
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=no
CONF
    ip netns exec "$ns" dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile >"$dir/dbus.log" 2>&1 &
    pids+=($!)
    # avahi-daemon keeps its pid file and socket in /run/avahi-daemon: a tmpfs seen only in this mount
    # namespace, so the two daemons (and any on the host) never meet.
    mkdir -p /run/avahi-daemon
    ip netns exec "$ns" unshare --mount --propagation private sh -c \
        "mount -t tmpfs tmpfs /run/avahi-daemon && DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/bus exec avahi-daemon -f $dir/avahi.conf --no-drop-root --no-chroot --no-rlimits" \
        >"$dir/avahi.log" 2>&1 &
    pids+=($!)
}
start_daemons "$nsa" "${tag}va" "wsserve-host-a"
start_daemons "$nsb" "${tag}vb" "wsserve-host-b"

# Waits (bounded) until COMMAND succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}
avahi_up() { grep -q "Server startup complete" "$work/$1/avahi.log"; }
wait_for 15 avahi_up "$nsa" || { cat "$work/$nsa/avahi.log"; echo "FAIL: avahi-daemon in A did not start"; exit 1; }
wait_for 15 avahi_up "$nsb" || { cat "$work/$nsb/avahi.log"; echo "FAIL: avahi-daemon in B did not start"; exit 1; }

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
