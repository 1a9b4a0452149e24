# Shared by the discovery tests (sourced): two network namespaces joined by a veth pair with private
# addresses (A 10.231.X.1, B 10.231.X.2), and in each its own dbus-daemon and avahi-daemon allowed only on
# the veth (pid/socket folders on a tmpfs private to the namespace's mount namespace). Nothing is sent on
# the machine's real interfaces. The caller sets `subnet` (X) first; this sets nsa, nsb, work, pids and an
# EXIT trap that stops everything. Skips (exit 77, with the reason) without root, `ip netns` or the daemons.

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for tool in ip dbus-daemon avahi-daemon unshare; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (scripts/deps.sh installs it)"
done

tag="wsb$$"
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
ip -n "$nsa" addr add "10.231.${subnet}.1/24" dev "${tag}va"
ip -n "$nsb" addr add "10.231.${subnet}.2/24" dev "${tag}vb"
for ns in "$nsa" "$nsb"; do
    ip -n "$ns" link set lo up
done
ip -n "$nsa" link set "${tag}va" up multicast on
ip -n "$nsb" link set "${tag}vb" up multicast on

# Waits (bounded) until COMMAND succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}
bus_ready() { [ -s "$1" ]; }

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
    # dbus-daemon prints its address once it accepts connections; avahi-daemon started before that cannot
    # reach the bus and exits ("Failed to contact D-Bus daemon").
    ip netns exec "$ns" dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile --print-address=3 \
        3>"$dir/bus.address" >"$dir/dbus.log" 2>&1 &
    pids+=($!)
    wait_for 15 bus_ready "$dir/bus.address" || { cat "$dir/dbus.log"; echo "FAIL: dbus-daemon in $ns did not start"; exit 1; }
    mkdir -p /run/avahi-daemon
    ip netns exec "$ns" unshare --mount --propagation private sh -c \
        "mount -t tmpfs tmpfs /run/avahi-daemon && DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/bus exec avahi-daemon -f $dir/avahi.conf --no-drop-root --no-chroot --no-rlimits" \
        >"$dir/avahi.log" 2>&1 &
    pids+=($!)
}

avahi_up() { grep -q "Server startup complete" "$work/$1/avahi.log"; }

start_daemons "$nsa" "${tag}va" "wsserve-host-a"
start_daemons "$nsb" "${tag}vb" "wsserve-host-b"
wait_for 15 avahi_up "$nsa" || { cat "$work/$nsa/avahi.log"; echo "FAIL: avahi-daemon in A did not start"; exit 1; }
wait_for 15 avahi_up "$nsb" || { cat "$work/$nsb/avahi.log"; echo "FAIL: avahi-daemon in B did not start"; exit 1; }

# Runs COMMAND... in namespace NS with that namespace's system bus (in the foreground: a function run
# with & would leave $! naming a subshell; background jobs use `ip netns exec NS env "$(bus_of NS)" ...`).
bus_of() { echo "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/$1/bus"; }
in_ns() {
    local ns="$1"; shift
    ip netns exec "$ns" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/$ns/bus" QT_QPA_PLATFORM=offscreen "$@"
}
