#!/usr/bin/env bash
# Proves the exact limiter's check and the gate's allowed path allocate nothing in steady state:
# each scenario runs N and then 2N times with an allocation counter preloaded (malloc-count.c,
# built here with the system C compiler), and the two totals must agree to within two blocks (the
# concurrency runtime's own bookkeeping): setup allocates the same in both runs, so the extra N
# operations add nothing — one allocation per operation would add 20,000.
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
for scenario in limiter.exact.allowed limiter.exact.refused limiter.exact.100000keys gate.allowed gate.allowed.cached \
    gate.allowed.headers; do
    n=20000
    [ "$scenario" = limiter.exact.100000keys ] && n=200000
    first=$(allocations "$scenario" "$n")
    second=$(allocations "$scenario" $((2 * n)))
    # Doubling N adds N operations: any allocation per operation adds at least N. The concurrency
    # runtime's own bookkeeping (task allocator slabs) may differ by a block or two between runs.
    if [ -n "$first" ] && [ -n "$second" ] && [ $((second - first)) -le 2 ] && [ $((first - second)) -le 2 ]; then
        echo "allocations: $scenario: $first allocations at N = $n, $second at 2N: none per operation"
    else
        echo "allocations: $scenario: FAILED: ${first:-?} allocations at N = $n, ${second:-?} at 2N"
        status=1
    fi
done
exit $status
