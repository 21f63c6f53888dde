#!/usr/bin/env bash
# Runs the README's main-job command and checks it shows every documented answer, in order,
# and no whole key.
set -euo pipefail
cd "$(dirname "$0")/.."
output=$(swift run -Xswiftc -warnings-as-errors sentry-auth demo 2>/dev/null)
statuses=$(printf '%s\n' "$output" | grep '^HTTP/1.1 ' | cut -d' ' -f2 | tr '\n' ' ')
expected="200 401 401 403 404 403 429 "
if [ "$statuses" != "$expected" ]; then
    echo "check-demo: statuses were '$statuses', expected '$expected'"
    exit 1
fi
for code in UNAUTHORIZED FORBIDDEN NOT_FOUND INSUFFICIENT_SCOPE RATE_LIMIT_EXCEEDED; do
    printf '%s\n' "$output" | grep -q "\"error\":\"$code\"" || { echo "check-demo: no $code body"; exit 1; }
done
printf '%s\n' "$output" | grep -q 'Rate limit exceeded. Please try again in [0-9]* seconds.' \
    || { echo "check-demo: no 429 message"; exit 1; }
if printf '%s\n' "$output" | grep -Eq 'sntr_[A-Za-z0-9_-]{32}'; then
    echo "check-demo: a whole key appears in the output"
    exit 1
fi
echo "check-demo: swift run sentry-auth demo shows 200 401 401 403 404 403 429, and no key"
