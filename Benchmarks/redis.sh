#!/usr/bin/env bash
# The Redis limiter from one instance against redis-benchmark running the same script, in one run:
#
#   Benchmarks/redis.sh [--debug] [--requests N] [--connections N] [--depth N]
#
# Starts Redis on a free loopback port, loads the store's Lua script, and runs redis-benchmark with
# EVALSHA at the given connections and pipeline depth over 100,000 random keys; then
# sentry-auth-redis-bench with as many connections and depth × connections concurrent requests
# (so each connection carries the same pipeline depth). Prints both rates and the ratio (target:
# at least 50 %). Release build by default; --debug for CI's smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=release
requests=200000
connections=4
depth=16
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) configuration=debug ;;
        --requests) requests="$2"; shift ;;
        --connections) connections="$2"; shift ;;
        --depth) depth="$2"; shift ;;
        *) echo "usage: Benchmarks/redis.sh [--debug] [--requests N] [--connections N] [--depth N]"; exit 2 ;;
    esac
    shift
done
command -v redis-benchmark >/dev/null || { echo "redis: redis-benchmark is not installed (apt-get install -y redis-tools)"; exit 1; }
if [ "$configuration" = release ]; then
    swift build -c release --package-path Integrations --product sentry-auth-redis-bench >/dev/null
fi
bench="Integrations/.build/$configuration/sentry-auth-redis-bench"
# shellcheck source=../.ci/lib/server.sh
source .ci/lib/server.sh
# shellcheck source=../.ci/lib/engines.sh
source .ci/lib/engines.sh
prepare_work_directory
start_redis

# The script the store runs, printed by the bench binary's library, loaded once.
"$bench" --print-script yes >"$work/script.lua"
sha=$(redis-cli -p "$redis_port" SCRIPT LOAD "$(cat "$work/script.lua")")
redis-benchmark -p "$redis_port" -n "$requests" -c "$connections" -P "$depth" -r 100000 --csv \
    EVALSHA "$sha" 2 "sentry-auth:{key___rand_int__}:window" "sentry-auth:{key___rand_int__}:sequence" 60 60000 1 \
    >"$work/redis-benchmark.csv"
reference=$(tail -1 "$work/redis-benchmark.csv" | cut -d, -f2 | tr -d '"')
redis-cli -p "$redis_port" FLUSHALL >/dev/null
ours=$("$bench" --redis "$redis_url" --connections "$connections" --concurrency $((connections * depth)) \
    --requests "$requests" --keys 100000)
echo "redis: $configuration build, $requests checks, $connections connections, pipeline depth $depth, 100,000 keys"
printf 'redis: redis-benchmark (EVALSHA, same script): %10.0f checks/s\n' "$reference"
echo "redis: $ours"
rate=$(echo "$ours" | sed -nE 's/^sentry-auth: ([0-9]+) checks.*/\1/p')
python3 -c "print(f'redis: sentry-auth / redis-benchmark: {$rate / $reference:.1%} (target: at least 50 %)')"
