#!/usr/bin/env bash
# Load on the reference server over loopback, with the gate and without it, in one run:
#
#   Benchmarks/load.sh [--debug] [--seconds N] [--keys N] [--connections N] [--rounds N] [--limit N/SECONDS]
#                      [--engines]
#
# Creates N keys (every scope, a limit of 60 per 100 ms: the Sentry limit's kind of window, 60
# admission times, that never refuses at these rates; --limit N/SECONDS to change it) in a
# temporary store, starts `sentry-auth-server` on a free port, drives it with wrk (two threads, a
# random key per request from a Lua script), then does the same with `--no-gate`. Prints requests
# per second and p99 latency for both and the ratio. Release builds by default (--debug for CI's
# smoke run, which reuses the debug build). Every request goes to 127.0.0.1 and the run is bounded
# by --seconds. With --rounds N, the gate and no-gate runs alternate N times and the ratio is the
# median of the rounds' ratios (a shared machine's neighbours move single runs by up to 1.5×). With --engines, a third run serves the same keys from PostgreSQL with the rate
# limits in Redis (both started here on loopback), against the in-memory stores of the first.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=release
seconds=10
keys=200
connections=32
engines=false
rounds=1
limit=60/0.1
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) configuration=debug ;;
        --seconds) seconds="$2"; shift ;;
        --keys) keys="$2"; shift ;;
        --connections) connections="$2"; shift ;;
        --engines) engines=true ;;
        --rounds) rounds="$2"; shift ;;
        --limit) limit="$2"; shift ;;
        *)
            echo "usage: Benchmarks/load.sh [--debug] [--seconds N] [--keys N] [--connections N] [--rounds N] [--limit N/SECONDS] [--engines]"
            exit 2
            ;;
    esac
    shift
done
command -v wrk >/dev/null || { echo "load: wrk is not installed (apt-get install -y wrk)"; exit 1; }
if [ "$configuration" = release ]; then
    swift build -c release --product sentry-auth >/dev/null
    swift build -c release --package-path Integrations --product sentry-auth-server >/dev/null
fi
cli=".build/$configuration/sentry-auth"
server="Integrations/.build/$configuration/sentry-auth-server"
# shellcheck source=../.ci/lib/server.sh
source .ci/lib/server.sh
prepare_work_directory

for index in $(seq 1 "$keys"); do
    "$cli" keys create --store "$work/keys.json" --merchant "merchant_$((index % 10))" --limit "$limit" \
        --scopes customer:read,customer:write,invoice:read,invoice:write,invoice:remind,sales:read \
        --name "load $index" | awk '/^key:/ {print $2}' >>"$work/keys.txt"
done
cat >"$work/keys.lua" <<LUA
local keys = {}
for line in io.lines("$work/keys.txt") do keys[#keys + 1] = line end
math.randomseed(42)
request = function()
    return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. keys[math.random(#keys)] })
end
LUA

run() {
    local label="$1"
    shift
    start_server "$server" "$work/server.log" "$@"
    local url="http://127.0.0.1:$server_port/public/api/v1/customers/cus_8f3k2"
    wrk -t2 -c"$connections" -d1s -s "$work/keys.lua" "$url" >/dev/null  # warm-up
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/keys.lua" "$url" >"$work/$label.txt"
    # Every answer must have been a 200: wrk reports other statuses as "Non-2xx or 3xx responses".
    if grep -q "Non-2xx" "$work/$label.txt"; then
        echo "load: $label: some answers were not 200"
        grep -E "Non-2xx|Requests/sec" "$work/$label.txt"
        exit 1
    fi
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    server_pid=""
}
rps() { sed -nE 's/^Requests\/sec: *([0-9.]+)/\1/p' "$work/$1.txt"; }
p99() { awk '$1 == "99%" {print $2}' "$work/$1.txt"; }
ratios=()
for round in $(seq 1 "$rounds"); do
    run gate --store "$work/keys.json"
    run no-gate --store "$work/keys.json" --no-gate
    if [ "$rounds" -gt 1 ]; then
        ratio=$(python3 -c "print(f'{$(rps gate) / $(rps no-gate):.3f}')")
        ratios+=("$ratio")
        printf 'load: round %d: with the gate %.0f, without %.0f requests/s: %s\n' "$round" "$(rps gate)" \
            "$(rps no-gate)" "$ratio"
    fi
done
if [ "$engines" = true ]; then
    # shellcheck source=../.ci/lib/engines.sh
    source .ci/lib/engines.sh
    start_postgres
    start_redis
    # The same keys, imported into PostgreSQL (read from standard input, never from the command line).
    index=0
    while read -r key; do
        index=$((index + 1))
        echo "$key" | "$server" keys create --postgres "$postgres_url" --key-from-stdin \
            --merchant "merchant_$((index % 10))" --limit "$limit" --name "load $index" \
            --scopes customer:read,customer:write,invoice:read,invoice:write,invoice:remind,sales:read >/dev/null
    done <"$work/keys.txt"
    run engines --postgres "$postgres_url" --redis "$redis_url"
fi

gate_rps=$(rps gate)
plain_rps=$(rps no-gate)
echo "load: $configuration build, $keys keys limited to $limit, wrk -t2 -c$connections -d${seconds}s, random key per request"
printf 'load: with the gate:    %10.0f requests/s, p99 %s\n' "$gate_rps" "$(p99 gate)"
printf 'load: without the gate: %10.0f requests/s, p99 %s\n' "$plain_rps" "$(p99 no-gate)"
python3 -c "print(f'load: with / without the gate: {$gate_rps / $plain_rps:.1%} of the throughput (target: at least 90 %)')"
if [ "$rounds" -gt 1 ]; then
    python3 -c "import statistics; print(f'load: median of {$rounds} rounds: {statistics.median([${ratios[*]/%/,}]):.1%} of the throughput')"
fi
if [ "$engines" = true ]; then
    engines_rps=$(rps engines)
    printf 'load: PostgreSQL + Redis: %8.0f requests/s, p99 %s\n' "$engines_rps" "$(p99 engines)"
    python3 -c "print(f'load: PostgreSQL + Redis against the file store and in-process limiter: {$engines_rps / $gate_rps:.1%} of the throughput')"
fi
