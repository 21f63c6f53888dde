#!/usr/bin/env bash
# Builds the DocC catalog from the library's symbol graph and fails on any warning (broken symbol
# links, unknown articles). Uses the toolchain's own `docc`; no plugin, no package dependency.
set -euo pipefail
cd "$(dirname "$0")/.."
graphs=$(mktemp -d)
trap 'rm -rf "$graphs"' EXIT
swift build --target SentryAuth --scratch-path .build-docs \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs" \
    -Xswiftc -symbol-graph-minimum-access-level -Xswiftc public >/dev/null
docc convert Sources/SentryAuth/SentryAuth.docc --additional-symbol-graph-dir "$graphs" \
    --output-path "$graphs/out" --fallback-display-name SentryAuth \
    --fallback-bundle-identifier org.sentry.SentryAuth --warnings-as-errors
echo "check-docs: the DocC catalog builds without warnings"
