import Foundation
import Testing

@testable import SentryAuth
@testable import SentryAuthCLI

@Suite("sentry-auth command")
struct CommandLineToolTests {
    @Test("demo: every documented answer, in order, and no key in the output")
    func demo() async throws {
        let run = await runTool(["demo"])
        #expect(run.status == 0)
        let statuses = run.lines.filter { $0.hasPrefix("HTTP/1.1 ") }
        #expect(
            statuses == [
                "HTTP/1.1 200 OK", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 403 Forbidden",
                "HTTP/1.1 404 Not Found", "HTTP/1.1 403 Forbidden", "HTTP/1.1 429 Too Many Requests",
            ])
        for code in ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "INSUFFICIENT_SCOPE", "RATE_LIMIT_EXCEEDED"] {
            #expect(run.output.contains("\"error\":\"\(code)\""))
        }
        #expect(run.output.contains("Rate limit exceeded. Please try again in 31 seconds."))
        #expect(run.output.contains("Retry-After: 31"))
        // No whole key anywhere: "sntr_" followed by 32 base64url characters.
        let key = try Regex("sntr_[A-Za-z0-9_-]{32}")
        #expect(run.output.firstMatch(of: key) == nil)
    }

    @Test(
        "--help on every command exits 0; bad usage exits 2 with a message",
        arguments: [
            ["--help"], ["demo", "--help"], ["keys", "--help"], ["keys", "create", "--help"], ["check", "--help"],
            ["digest", "--help"], ["allowlist", "--help"], ["simulate", "--help"],
        ])
    func help(arguments: [String]) async {
        let run = await runTool(arguments)
        #expect(run.status == 0)
        #expect(run.output.contains("Usage: sentry-auth"))
    }

    @Test(
        "Bad usage: exit 2 and a message on standard error",
        arguments: [
            ([], "Usage: sentry-auth COMMAND"),
            (["frobnicate"], "error: unknown command 'frobnicate'."),
            (["demo", "extra"], "error: expected no arguments"),
            (["demo", "--loud"], "error: unknown option --loud."),
            (["keys"], "error: expected a subcommand"),
            (["keys", "create"], "error: --store is required."),
            (["keys", "create", "--store", "/tmp/x.json", "--merchant", "m"], "error: --scopes is required."),
            (
                ["keys", "create", "--store", "/tmp/x.json", "--merchant", "m", "--scopes", "refund:create"],
                "error: --scopes: Unknown scope \"refund:create\"."
            ),
            (
                [
                    "keys", "create", "--store", "/tmp/x.json", "--merchant", "m", "--scopes", "sales:read", "--allow",
                    "10.0.0.1/8",
                ], "did you mean 10.0.0.0/8?"
            ),
            (
                [
                    "keys", "create", "--store", "/tmp/x.json", "--merchant", "m", "--scopes", "sales:read", "--limit",
                    "60",
                ], "--limit is N/SECONDS"
            ),
            (
                [
                    "keys", "create", "--store", "/tmp/x.json", "--merchant", "m", "--scopes", "sales:read",
                    "--expires", "tomorrow",
                ], "--expires: the year needs 4 digits."
            ),
            (["keys", "revoke", "--store", "/tmp/x.json"], "error: expected a KEY-ID"),
            (["keys", "revoke", "not an id", "--store", "/tmp/x.json"], "is not a key identifier"),
            (["keys", "explode"], "unknown subcommand 'explode'"),
            (["check", "--store", "/tmp/x.json", "GET"], "expected METHOD and TARGET"),
            (
                ["check", "--store", "/tmp/x.json", "--ip", "127.1", "GET", "/"],
                "--ip: An IPv4 address has exactly four fields"
            ),
            (["allowlist"], "--allow is required."),
            (["allowlist", "--allow", "010.0.0.0/8"], "--allow: Entry 1: An IPv4 field has a leading zero"),
            (["simulate", "--limit", "0", "--window", "60"], "A rate limit is 1 to 100000"),
            (["simulate", "--limit", "5", "--window", "-1"], "--window must be a number of seconds"),
            (
                ["simulate", "--limit", "5", "--window", "60", "--algorithm", "gcra"],
                "--algorithm is exact or approximate."
            ),
            (["simulate", "--limit"], "--limit needs a value."),
            (["digest", "--length", "x"], "--length must be a number."),
        ])
    func badUsage(arguments: [String], message: String) async {
        let run = await runTool(arguments)
        #expect(run.status == 2)
        #expect(run.error.contains(message), "\(run.error)")
        #expect(run.output.isEmpty)
    }

    @Test("digest: the SHA-256 of each valid key, an error for each invalid one, and it goes on")
    func digest() async {
        let run = await runTool(
            ["digest"],
            input: [
                "sntr_abcdefghijklmnopqrstuvwxyz123456", "sntr_SECRETSECRETSECRETSECRET", "",
                "sntr_abcdefghijklmnopqrstuvwxyz12345!",
                "sntr_abcdefghijklmnopqrstuvwxyz123456", "sntr_abcdefghijklmnopqrstuvwxyz1234é",
            ])
        let expected = KeyDigest.SHA256.hash(Array("sntr_abcdefghijklmnopqrstuvwxyz123456".utf8)).hex
        #expect(run.status == 0)
        #expect(
            run.lines.dropLast() == [
                expected, "error: The API key is 29 bytes long; expected 37 (ASCII) characters.",
                "error: The API key is empty.",
                "error: The API key has a byte at position 37 that is not base64url (A-Z, a-z, 0-9, '-', '_').",
                expected,
                // 36 characters but 37 bytes: the length check passes and the first non-ASCII byte is named.
                "error: The API key has a byte at position 36 that is not base64url (A-Z, a-z, 0-9, '-', '_').",
            ])
        #expect(!run.output.contains("SECRET"))
    }

    @Test("allowlist: allow, deny or error for each address")
    func allowlist() async {
        let run = await runTool(
            ["allowlist", "--allow", "203.0.113.0/24, 2001:db8::/32"],
            input: ["203.0.113.9", "::ffff:203.0.113.9", "198.51.100.1", "2001:db8::5", "127.1", "fe80::1%eth0"])
        #expect(run.status == 0)
        #expect(
            run.lines.dropLast() == [
                "allow", "allow", "deny", "allow",
                "error: An IPv4 address has exactly four fields (forms like 127.1 are refused).",
                "deny",
            ])
    }

    @Test("simulate: allow REMAINING and limit RETRY_AFTER, exact and approximate")
    func simulate() async {
        let trace = ["0", "0", "0", "500 a", "999", "1000", "1000 b 3", "1200 b 1", "x", "900", "1500 c 9"]
        let exact = await runTool(["simulate", "--limit", "3", "--window", "1"], input: trace)
        #expect(exact.status == 0)
        #expect(
            exact.lines.dropLast() == [
                "allow 2", "allow 1", "allow 0", "allow 2", "limit 1", "allow 2", "allow 0", "limit 1",
                "error: expected 'TIME_MS [KEY] [COST]'", "error: times must not decrease",
                "error: A request costing 9 can never be admitted under a limit of 3: the cost must be 0 to 3.",
            ])
        let approximate = await runTool(
            ["simulate", "--limit", "3", "--window", "1", "--algorithm", "approximate"], input: ["0", "0", "0", "0"])
        // The approximate limiter waits until 3 × (1000 − e)/1000 ≤ 2 in the next window: e = 334 ms, so 1.334 s → 2.
        #expect(approximate.lines.dropLast() == ["allow 2", "allow 1", "allow 0", "limit 2"])
    }
}
