#!/usr/bin/env bash
# The Redis limiter from one instance against redis-benchmark running the same script, in one run:
#
#   Benchmarks/redis.sh [--debug] [--requests N] [--connections N] [--depth N] [--cluster MASTERS]
#
# Starts Redis on a free loopback port (or a Redis Cluster of MASTERS masters, no replicas), loads
# the store's Lua script, and runs redis-benchmark with EVALSHA at the given connections and pipeline
# depth over 100,000 random keys (--cluster: redis-benchmark's cluster mode, CONNECTIONS clients per
# master); then sentry-auth-redis-bench with as many connections (per master) and depth ×
# connections concurrent requests (so each connection carries the same pipeline depth). Prints both
# rates and the ratio (target: at least 50 %). Release build by default; --debug for CI's smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=release
requests=200000
connections=4
depth=16
masters=0
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) configuration=debug ;;
        --requests) requests="$2"; shift ;;
        --connections) connections="$2"; shift ;;
        --depth) depth="$2"; shift ;;
        --cluster) masters="$2"; shift ;;
        *) echo "usage: Benchmarks/redis.sh [--debug] [--requests N] [--connections N] [--depth N] [--cluster MASTERS]"; exit 2 ;;
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
cluster=()
if [ "$masters" -gt 0 ]; then
    start_redis_cluster "$masters"
    cluster=(--cluster)
    # Ours keeps a pool of CONNECTIONS per master; redis-benchmark spreads its clients over the
    # masters: as many connections in all, each with the same pipeline depth.
    clients=$((masters * connections))
    concurrency=$((masters * connections * depth))
    shape="a cluster of $masters masters, $connections connections per master"
else
    start_redis
    clients=$connections
    concurrency=$((connections * depth))
    shape="$connections connections"
fi
ports=${redis_ports:-$redis_port}

# The script the store runs, printed by the bench binary's library, loaded once on every node.
"$bench" --print-script yes >"$work/script.lua"
for port in $ports; do
    sha=$(redis-cli -p "$port" SCRIPT LOAD "$(cat "$work/script.lua")")
done
# In cluster mode redis-benchmark sends each command to the node whose slot replaces "{tag}" in the
# key: 100,000 random keys, a few slots per master.
key="sentry-auth:{key___rand_int__}:window"
[ "$masters" -gt 0 ] && key="sentry-auth:{tag}key___rand_int__:window"
redis-benchmark "${cluster[@]}" -p "$redis_port" -n "$requests" -c "$clients" -P "$depth" -r 100000 --csv \
    EVALSHA "$sha" 1 "$key" 60 60000 1 >"$work/redis-benchmark.csv"
reference=$(tail -1 "$work/redis-benchmark.csv" | cut -d, -f2 | tr -d '"')
for port in $ports; do redis-cli -p "$port" FLUSHALL >/dev/null; done
ours=$("$bench" --redis "$redis_url" --connections "$connections" --concurrency "$concurrency" \
    --requests "$requests" --keys 100000)
echo "redis: $configuration build, $requests checks, $shape, pipeline depth $depth, 100,000 keys"
printf 'redis: redis-benchmark (EVALSHA, same script): %10.0f checks/s\n' "$reference"
echo "redis: $ours"
rate=$(echo "$ours" | sed -nE 's/^sentry-auth: ([0-9]+) checks.*/\1/p')
python3 -c "print(f'redis: sentry-auth / redis-benchmark: {$rate / $reference:.1%} (target: at least 50 %)')"
