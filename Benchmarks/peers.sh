#!/usr/bin/env bash
# The peers, measured in the same run as sentry-auth-bench, and every target of Benchmarks/README.md
# as a ratio inside that run: Go's golang.org/x/time/rate (Debian's golang-go and
# golang-golang-x-time-dev, GOPATH mode), libsodium's sodium_memcmp, OpenSSL's software SHA-256
# (SHA-NI masked off) and a C pointer chase over 64 MiB (Benchmarks/Peers). Installs what is
# missing from Debian's packages. Prints a table; ratios are reported, not asserted (timings on a
# shared machine), except that every peer and benchmark must run. --quick: short samples (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
[ "${1:-}" = "--quick" ] && quick="--quick"

if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/golang.org/x/time/rate ] \
    || [ ! -f /usr/include/sodium.h ] || [ ! -f /usr/include/openssl/evp.h ]; then
    apt-get update -qq
    apt-get install -y -qq golang-go golang-golang-x-time-dev libsodium-dev libssl-dev >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/peers-c" Benchmarks/Peers/peers.c -lsodium -lcrypto
mkdir -p "$work/go"
cp Benchmarks/Peers/peers.go "$work/go/"
(cd "$work/go" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" go build -o "$work/peers-go" peers.go)
swift build -c release --product sentry-auth-bench >/dev/null

{
    OPENSSL_ia32cap=":~0x20000000" "$work/peers-c" $quick
    "$work/peers-go" $quick
} >"$work/peers.txt"
.build/release/sentry-auth-bench $quick --json >"$work/ours.json"
.build/release/sentry-auth-bench --bytes-per-key >"$work/bytes.txt"

python3 - "$work/peers.txt" "$work/ours.json" "$work/bytes.txt" <<'PY'
import json, re, sys
peers = dict((name, float(value)) for name, value in (line.split() for line in open(sys.argv[1]) if line.strip()))
ours = {b["name"]: b["ns_per_op"] for b in json.load(open(sys.argv[2]))["benchmarks"]}
bytes_per_key = {}
for line in open(sys.argv[3]):
    match = re.match(r"(\w+): (\d+) bytes a key \((\d+) keys", line)
    if match:
        bytes_per_key[(match[1], int(match[3]))] = int(match[2])
need = ["peer.go-rate.allowN", "peer.go-rate.allowN.refused", "peer.go-rate.allow.clock", "peer.go-rate.100000keys",
        "peer.sodium_memcmp-32", "peer.openssl-sha256.key", "peer.c-memory-chase.64MiB"]
missing = [n for n in need if n not in peers] + [n for n in [
    "baseline.atomic-cas", "sha256.key", "baseline.memory-chase.64MiB", "limiter.exact.allowed", "limiter.exact.refused",
    "limiter.exact.clock", "limiter.exact.100000keys", "gate.allowed", "ct.equal-32.same"] if n not in ours]
if missing or len(bytes_per_key) != 4:
    sys.exit(f"peers: missing results: {missing} {bytes_per_key}")

print("| measured (same run) | ns/op |")
print("| --- | ---: |")
for name in need + sorted(ours):
    print(f"| `{name}` | {peers.get(name, ours.get(name)):,.1f} |")
print()
rows = [
    ("`limiter.exact.100000keys` ≥ 1.5× faster than Go's 100,000 limiters behind a map",
     peers["peer.go-rate.100000keys"] / ours["limiter.exact.100000keys"], 1.5, "×", True),
    ("`limiter.exact.100000keys` ≤ 1.3 × the C chase over 64 MiB",
     ours["limiter.exact.100000keys"] / peers["peer.c-memory-chase.64MiB"], 1.3, "×", False),
    ("`limiter.exact.allowed` ≥ 4× faster than Go `AllowN`",
     peers["peer.go-rate.allowN"] / ours["limiter.exact.allowed"], 4, "×", True),
    ("`limiter.exact.refused` ≥ 4× faster than Go `AllowN` refused",
     peers["peer.go-rate.allowN.refused"] / ours["limiter.exact.refused"], 4, "×", True),
    ("`limiter.exact.clock` ≥ 3× faster than Go `Allow` (clock read)",
     peers["peer.go-rate.allow.clock"] / ours["limiter.exact.clock"], 3, "×", True),
    ("`gate.allowed` ≤ 2 × `sha256.key`", ours["gate.allowed"] / ours["sha256.key"], 2, "×", False),
]
information = [
    ("`ct.equal-32.same`: times faster than libsodium's `sodium_memcmp`",
     peers["peer.sodium_memcmp-32"] / ours["ct.equal-32.same"]),
    ("`sha256.key`: times OpenSSL's software SHA-256 of the same 37 bytes",
     ours["sha256.key"] / peers["peer.openssl-sha256.key"]),
    ("`limiter.exact.100000keys`: times `baseline.memory-chase.64MiB` (Swift's chase, same run)",
     ours["limiter.exact.100000keys"] / ours["baseline.memory-chase.64MiB"]),
]
print("| target | ratio | |")
print("| --- | ---: | --- |")
for text, ratio, bound, unit, at_least in rows:
    met = ratio >= bound if at_least else ratio <= bound
    print(f"| {text} | {ratio:.2f}{unit} | {'met' if met else 'missed'} |")
for text, ratio in information:
    print(f"| {text} | {ratio:.2f}× | information |")
for (algorithm, keys), value in sorted(bytes_per_key.items()):
    bound = 192 if algorithm == "exact" else 64
    print(f"| {algorithm} limiter ≤ {bound} bytes a key at {keys:,} keys | {value} B | {'met' if value <= bound else 'missed'} |")
PY
