#!/usr/bin/env bash
# Proves the constant-time compares have no data-dependent branch in the compiled code: under
# callgrind, the exact instruction count of each function is the same for equal inputs, inputs
# differing in the first byte and inputs differing in the last byte. Fails otherwise. Two compares:
# - digest: ConstantTime.isEqual(KeyDigest, KeyDigest), which KeyDigest.== calls: the compare the
#   gate confirms every presented key with (its real path);
# - bytes: ConstantTime.isEqual over raw buffers (the general-purpose API).
# Then prints the dudect-style timing test, for information.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sentry-auth-bench >/dev/null
binary=".build/release/sentry-auth-bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
iterations=10000
export SWIFT_DETERMINISTIC_HASHING=1
# target, then the mangled name of the function whose instructions are counted (the probe calls it
# through an opaque value, so it is not inlined; a specialization's suffix may follow the name).
for target in digest:'$s10SentryAuth12ConstantTimeO7isEqualySbAA9KeyDigestV_AFtFZ' \
    bytes:'$s10SentryAuth12ConstantTimeO7isEqualySbSW_SWtFZ'; do
    name=${target%%:*}
    symbol=${target#*:}
    declare -A counts=()
    for kind in same first last; do
        valgrind --tool=callgrind --callgrind-out-file="$work/$name-$kind.out" "$binary" --ct-probe "$kind" \
            --ct-target "$name" --iterations "$iterations" >/dev/null 2>"$work/$name-$kind.log"
        count=$(callgrind_annotate "$work/$name-$kind.out" 2>/dev/null | grep -F "$symbol" | head -1 \
            | awk '{gsub(",", "", $1); print $1}')
        [ -n "$count" ] || { echo "constant-time: no count for $symbol ($name, $kind)"; exit 1; }
        # Every compare must have run through the counted function: at least 5 instructions each.
        [ "$count" -ge $((iterations * 5)) ] || { echo "constant-time: $name: only $count instructions"; exit 1; }
        counts[$kind]=$count
        echo "constant-time: $name $kind: $count instructions for $iterations compares ($((count / iterations)) each)"
    done
    if [ "${counts[same]}" != "${counts[first]}" ] || [ "${counts[same]}" != "${counts[last]}" ]; then
        echo "constant-time: FAILED ($name): instruction counts differ between input classes"
        exit 1
    fi
    echo "constant-time: $name: identical instruction counts for equal, first- and last-byte-different inputs"
done
"$binary" --dudect --measurements "${DUDECT_MEASUREMENTS:-200000}"
