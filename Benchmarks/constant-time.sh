#!/usr/bin/env bash
# Proves ConstantTime.isEqual has no data-dependent branch in the compiled code: under callgrind,
# the exact instruction count of the function is the same for equal inputs, inputs differing in
# the first byte and inputs differing in the last byte. Fails otherwise. Then prints the
# dudect-style timing test, for information.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sentry-auth-bench >/dev/null
binary=".build/release/sentry-auth-bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
iterations=10000
export SWIFT_DETERMINISTIC_HASHING=1
declare -A counts
for kind in same first last; do
    valgrind --tool=callgrind --callgrind-out-file="$work/$kind.out" "$binary" --ct-probe "$kind" --iterations "$iterations" \
        >/dev/null 2>"$work/$kind.log"
    # The public compare is $s10SentryAuth12ConstantTimeO7isEqualySbSW_SWtFZ (raw-buffer overload).
    count=$(callgrind_annotate "$work/$kind.out" 2>/dev/null | grep 'ConstantTimeO7isEqualySbSW_SWtFZ' | head -1 \
        | awk '{gsub(",", "", $1); print $1}')
    [ -n "$count" ] || { echo "constant-time: no count for ConstantTime.isEqual ($kind)"; exit 1; }
    counts[$kind]=$count
    echo "constant-time: $kind: $count instructions for $iterations compares ($((count / iterations)) each)"
done
if [ "${counts[same]}" != "${counts[first]}" ] || [ "${counts[same]}" != "${counts[last]}" ]; then
    echo "constant-time: FAILED: instruction counts differ between input classes"
    exit 1
fi
echo "constant-time: identical instruction counts for equal, first-byte-different and last-byte-different inputs"
"$binary" --dudect --measurements "${DUDECT_MEASUREMENTS:-200000}"
