#!/usr/bin/env bash
# The reference server against its own published contract: starts sentry-auth-server on a free
# loopback port over a temporary key store, then runs schemathesis against /openapi.json with a
# valid key (every scope, a high limit) and with none. Fails on any 5xx or any response that does
# not conform to the document (status, content type, headers, body schema), and when the server
# does not stop cleanly on SIGTERM. Needs both packages built (debug).
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-50}"
# shellcheck source=lib/server.sh
source .ci/lib/server.sh
prepare_work_directory

python3 -m pip install -q --root-user-action=ignore "schemathesis==4.32.5"
command -v schemathesis >/dev/null || { echo "contract: schemathesis is not installed"; exit 1; }

.build/debug/sentry-auth keys create --store "$work/keys.json" --merchant merchant_42 \
    --scopes customer:read,customer:write,invoice:read,invoice:write,invoice:remind,sales:read \
    --limit 100000/60 --name "contract" >"$work/created.txt"
key=$(awk '/^key:/ {print $2}' "$work/created.txt")

# Debug logs: every refusal is logged with its code (never the key), so the run can show that the
# checks reached the answers they are meant to (405 for the methods the document does not list).
LOG_LEVEL=debug start_server Integrations/.build/debug/sentry-auth-server "$work/server.log" --store "$work/keys.json"
port=$server_port
echo "contract: sentry-auth-server on 127.0.0.1:$port"

# Every check schemathesis has: conformance of status, content type, headers and body, and the
# behavioural ones (unsupported methods get 405 with Allow, ignored auth, negative data rejected,
# positive data accepted, missing required headers).
checks=all
for mode in with-key without-key; do
    headers=()
    [ "$mode" = with-key ] && headers=(-H "Authorization: Bearer $key")
    echo "contract: schemathesis, $mode, $examples examples per operation"
    # Run from the temporary directory: schemathesis keeps a cache in its working directory.
    (cd "$work" && schemathesis run "http://127.0.0.1:$port/openapi.json" --checks "$checks" "${headers[@]}" \
        -n "$examples" --seed 42 --request-timeout 10 --no-color) >"$work/$mode.log" 2>&1 || {
        # The key is a secret: never print it, even from a failing run.
        sed "s/$key/sntr_…/g" "$work/$mode.log" | tail -60
        echo "contract: FAILED ($mode)"
        exit 1
    }
    grep -E "test cases|passed|failed" "$work/$mode.log" | sed "s/$key/sntr_…/g" | tail -3
done

for code in UNAUTHORIZED NOT_FOUND METHOD_NOT_ALLOWED; do
    echo "contract: the server refused $(grep -c "sentry_auth.code=$code" "$work/server.log" || true) requests with $code"
done
grep -q "sentry_auth.code=METHOD_NOT_ALLOWED" "$work/server.log" || { echo "contract: no request got 405"; exit 1; }
if grep -qE "sntr_[A-Za-z0-9_-]{20,}" "$work/server.log"; then echo "contract: a key-shaped string in the log"; exit 1; fi

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" = 0 ] || { echo "contract: the server exited $status after SIGTERM"; exit 1; }
echo "contract: the server stopped cleanly on SIGTERM"
