# Sourced by .ci/contract.sh and Benchmarks/load.sh: a temporary directory cleaned up on exit, and
# sentry-auth-server started on a free loopback port, waiting (at most 10 s) for its
# "listening on 127.0.0.1:PORT" line.
#
#   start_server BINARY LOG [ARGUMENT ...]    sets server_pid and server_port, or fails
start_server() {
    local binary="$1" log="$2"
    shift 2
    "$binary" --port 0 "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        grep -q "^listening on " "$log" && break
        sleep 0.1
    done
    server_port=$(sed -nE 's/^listening on 127\.0\.0\.1:([0-9]+)$/\1/p' "$log")
    if [ -z "$server_port" ]; then
        echo "the server did not start:"
        cat "$log"
        return 1
    fi
}

# A temporary directory and a server process that go away when the script exits, however it exits:
# sets `work`; `server_pid` is killed if still set.
prepare_work_directory() {
    work=$(mktemp -d)
    server_pid=""
    trap '[ -n "$server_pid" ] && { kill "$server_pid"; wait "$server_pid"; } 2>/dev/null; rm -rf "$work"' EXIT
}
