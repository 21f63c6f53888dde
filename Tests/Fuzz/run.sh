#!/usr/bin/env bash
# Builds the libFuzzer targets (the library's sources plus FuzzTargets.swift, compiled with
# -sanitize=fuzzer,address into one binary; FUZZ_TARGET picks the target) and runs each one.
#
#   Tests/Fuzz/run.sh [SECONDS] [TARGET ...]     # default: 30 seconds each, every target
#
# Each run starts from the committed seed corpus (copied, so the checkout is not modified) and
# first replays every committed regression input. A crash, a hang (over 10 s) or a failed
# invariant fails the script and leaves the input as Tests/Fuzz/findings/TARGET/crash-*; commit it
# under Tests/Fuzz/Regressions/TARGET/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(authorization api-key scopes address prefix forwarded path policy-json gate)

build=".build-fuzz"
mkdir -p "$build"
binary="$build/sentry-auth-fuzz"
sources=$(find Sources/SentryAuth -name '*.swift' | sort)
if [ ! -x "$binary" ] || [ -n "$(find Sources/SentryAuth Tests/Fuzz/FuzzTargets.swift -newer "$binary" -name '*.swift' | head -1)" ]; then
    echo "fuzz: building $binary"
    # shellcheck disable=SC2086
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -module-name SentryAuth \
        $sources Tests/Fuzz/FuzzTargets.swift -o "$binary" >"$build/build.log" 2>&1 \
        || { grep -v 'Cannot export local symbol' "$build/build.log"; exit 1; }
fi

export SWIFT_BACKTRACE=enable=no
status=0
for target in "${targets[@]}"; do
    corpus=$(mktemp -d)
    cp -R "Tests/Fuzz/Corpus/$target/." "$corpus/" 2>/dev/null || true
    findings="Tests/Fuzz/findings/$target"
    mkdir -p "$findings"
    regressions="Tests/Fuzz/Regressions/$target"
    if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
        echo "fuzz: $target: replaying $(ls "$regressions" | wc -l) regression inputs"
        FUZZ_TARGET="$target" "$binary" -runs=1 "$regressions"/* >"$findings/regressions.log" 2>&1 \
            || { echo "fuzz: $target: a regression input fails again"; tail -20 "$findings/regressions.log"; status=1; }
    fi
    echo "fuzz: $target: $seconds s"
    # The gate runs each input in a Swift task: its allocations outlive the call, so libFuzzer's
    # per-input leak check would run a full LeakSanitizer scan every time (300 inputs/s instead of
    # thousands). Leaks are still checked on the parsers.
    leaks=1
    [ "$target" = gate ] && leaks=0
    if FUZZ_TARGET="$target" "$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=$leaks \
        -max_len=4096 -artifact_prefix="$findings/" -print_final_stats=1 >"$findings/run.log" 2>&1; then
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$findings/run.log" | tr '\n' ' ' | sed "s/^/fuzz: $target: /"
        echo
    else
        echo "fuzz: $target: FAILED"
        grep -E "invariant failed|ERROR|SUMMARY|Fatal error" "$findings/run.log" | head -5
        ls "$findings" | grep -E '^(crash|timeout|leak|oom)-' | sed "s|^|fuzz: $target: input kept at $findings/|"
        status=1
    fi
    rm -rf "$corpus"
done
exit $status
