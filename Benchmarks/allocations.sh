#!/usr/bin/env bash
# Proves the exact limiter's check and the gate's allowed path allocate nothing in steady state:
# each scenario runs N and then 2N times with an allocation counter preloaded (malloc-count.c,
# built here with the system C compiler), and the two totals must be equal: setup allocates the
# same in both runs, so the extra N operations must add nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sentry-auth-bench >/dev/null
binary=".build/release/sentry-auth-bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -shared -fPIC -O2 -o "$work/malloc-count.so" Benchmarks/malloc-count.c
export SWIFT_DETERMINISTIC_HASHING=1
status=0
allocations() {
    LD_PRELOAD="$work/malloc-count.so" "$binary" --run "$1" --iterations "$2" 2>&1 >/dev/null \
        | sed -nE 's/^malloc-count: ([0-9]+) allocations$/\1/p'
}
for scenario in limiter.exact.allowed limiter.exact.refused limiter.exact.100000keys gate.allowed; do
    n=20000
    [ "$scenario" = limiter.exact.100000keys ] && n=200000
    first=$(allocations "$scenario" "$n")
    second=$(allocations "$scenario" $((2 * n)))
    if [ -n "$first" ] && [ "$first" = "$second" ]; then
        echo "allocations: $scenario: $first allocations at N = $n and at 2N: none per operation"
    else
        echo "allocations: $scenario: FAILED: ${first:-?} allocations at N = $n, ${second:-?} at 2N"
        status=1
    fi
done
exit $status
