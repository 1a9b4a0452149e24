#!/usr/bin/env bash
# ctest bench_loadgen_smoke: every loadgen scenario for about a second with tiny counts against the built
# wsserve (and the echo scenario against the raw Qt baseline), so the benchmark tooling never rots.
# Usage: bench/smoke.sh WSSERVE_BINARY LOADGEN_BINARY [QTRAW_BINARY [PLAIN_BINARY]]. Prints "bench smoke: ok" on
# success.
set -euo pipefail
WSSERVE=$1
LOADGEN=$2
QTRAW=${3:-}
PLAIN=${4:-}
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# Starts "$@" with stdout to $TMP/$name.out and waits for its "listening" line; sets PORT and PID.
start() {
    local name=$1; shift
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 100); do
        if grep -q "listening on" "$TMP/$name.out" 2>/dev/null; then
            PORT=$(head -n1 "$TMP/$name.out" | sed -E 's/.*[: ]([0-9]+)$/\1/')
            return 0
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench smoke: $name did not start"; cat "$TMP/$name.err"; exit 1
}

FAIL=0
run() { # label, loadgen args...
    local label=$1; shift
    local line
    line=$(timeout 20 "$LOADGEN" "$@" --seconds 1 --source-addresses 4 || true)
    echo "$label: $line"
    if [[ $line != loadgen:* || $line != *" errors=0"* ]]; then
        echo "bench smoke: FAILED $label"
        FAIL=1
    fi
}

start wsserve "$WSSERVE" --headless --port 0 --no-admin \
    --instance bench:echo:max_messages_per_second=0,max_clients=100000 \
    --instance room:chat:presence=false,max_messages_per_second=0,max_clients=100000
WPORT=$PORT WPID=$PID
ECHO_PATH="/socket/bench/websocket?vsn=2.0.0"
ROOM_PATH="/socket/room/websocket?vsn=2.0.0"
run echo      --scenario echo      --port "$WPORT" --path "$ECHO_PATH" --clients 8 --in-flight 2 --server-pid "$WPID"
run echo4k    --scenario echo      --port "$WPORT" --path "$ECHO_PATH" --clients 4 --payload 4096 --server-pid "$WPID"
run broadcast --scenario broadcast --port "$WPORT" --path "$ROOM_PATH" --clients 20 --in-flight 2 --server-pid "$WPID"
run connect   --scenario connect   --port "$WPORT" --path "$ROOM_PATH" --clients 100 --server-pid "$WPID"
run churn     --scenario churn     --port "$WPORT" --path "$ROOM_PATH" --clients 4 --server-pid "$WPID"
# TLS (issue 19): the same server with a self-signed certificate, the load generator speaking TLS.
start wsserve_tls "$WSSERVE" --headless --port 0 --no-admin --tls self-signed --data-dir "$TMP/tls" \
    --instance bench:echo:max_messages_per_second=0,max_clients=100000 \
    --instance room:chat:presence=false,max_messages_per_second=0,max_clients=100000
run tls-echo      --scenario echo      --port "$PORT" --path "$ECHO_PATH" --clients 8 --in-flight 2 --server-pid "$PID" --tls
run tls-broadcast --scenario broadcast --port "$PORT" --path "$ROOM_PATH" --clients 20 --in-flight 2 --server-pid "$PID" --tls
if [[ -n $QTRAW ]]; then
    start qtraw "$QTRAW" --mode echo
    run qtraw-echo --scenario echo --port "$PORT" --clients 4
    start qtraw-plain "$QTRAW" --mode broadcast --plain
    run qtraw-plain-broadcast --scenario broadcast --port "$PORT" --clients 8 --in-flight 2 --plain --server-pid "$PID"
fi
if [[ -n $PLAIN ]]; then # issue 13: wsserve's I/O layer with raw frames
    start plain-echo "$PLAIN" --mode echo
    run plain-echo --scenario echo --port "$PORT" --clients 8 --in-flight 4 --plain --server-pid "$PID"
    start plain-fanout "$PLAIN" --mode fanout
    run plain-fanout --scenario broadcast --port "$PORT" --clients 20 --in-flight 2 --plain --server-pid "$PID"
fi
if [[ $FAIL != 0 ]]; then exit 1; fi
echo "bench smoke: ok"
