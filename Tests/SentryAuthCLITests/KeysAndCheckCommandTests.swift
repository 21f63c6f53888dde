import Foundation
import Testing

@testable import SentryAuth
@testable import SentryAuthCLI

@Suite("sentry-auth keys and check")
struct KeysAndCheckCommandTests {
    /// The value of a `name:` line in the tool's output.
    static func field(_ name: String, in run: ToolRun) -> String? {
        run.lines.first { $0.hasPrefix(name + ":") }.map {
            String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test("create prints the key once, then the record; check allows it and refuses the rest")
    func createAndCheck() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = directory.path + "/keys.json"
        let create = await runTool([
            "keys", "create", "--store", store, "--merchant", "merchant_42", "--scopes", "invoice:read,invoice:remind",
            "--allow", "203.0.113.0/24", "--limit", "2/60", "--expires", "2099-01-01T00:00:00Z", "--name", "Reminders",
        ])
        #expect(create.status == 0, "\(create.error)")
        let key = try #require(Self.field("key", in: create))
        #expect(try APIKey(parsing: key).revealSecret() == key)
        let id = try #require(Self.field("id", in: create))
        #expect(Self.field("scopes", in: create) == "invoice:read,invoice:remind")
        #expect(Self.field("allowlist", in: create) == "203.0.113.0/24")
        #expect(Self.field("rate limit", in: create) == "2 per 60 s")
        #expect(Self.field("expires", in: create) == "2099-01-01T00:00:00Z")
        #expect(Self.field("digest", in: create) == SHA256.hash(Array(key.utf8)).hex)
        #expect(create.output.components(separatedBy: key).count == 2)  // printed exactly once
        #expect(!(try String(contentsOfFile: store, encoding: .utf8)).contains(key))

        let allowed = await runTool([
            "check", "--store", store, "--ip", "203.0.113.5", "-H", "Authorization: Bearer \(key)", "POST",
            "/public/api/v1/invoices/inv_1/remind",
        ])
        #expect(allowed.status == 0)
        #expect(allowed.lines.first == "HTTP/1.1 200 OK")
        #expect(allowed.output.contains("X-RateLimit-Remaining: 1"))
        let wrongAddress = await runTool([
            "check", "--store", store, "--ip", "198.51.100.1", "-H", "Authorization: Bearer \(key)", "GET",
            "/public/api/v1/invoices",
        ])
        #expect(wrongAddress.status == 1)
        #expect(wrongAddress.lines.first == "HTTP/1.1 403 Forbidden")
        #expect(
            wrongAddress.output.contains(
                #"{"error":"FORBIDDEN","message":"API key not allowed from this IP address."}"#))
        let noKey = await runTool(["check", "--store", store, "GET", "/public/api/v1/invoices"])
        #expect(noKey.status == 1 && noKey.lines.first == "HTTP/1.1 401 Unauthorized")
        #expect(!wrongAddress.output.contains(key) && !allowed.output.contains(key))

        let list = await runTool(["keys", "list", "--store", store])
        #expect(list.status == 0)
        #expect(list.lines.first?.hasPrefix("ID") == true)
        #expect(list.output.contains(id) && list.output.contains("active") && !list.output.contains(key))

        // Escalation is refused with exit 1 and changes nothing; narrowing works; revoke and roll.
        let before = try Data(contentsOf: URL(fileURLWithPath: store))
        let escalate = await runTool(["keys", "restrict", id, "--store", store, "--scopes", "invoice:read,sales:read"])
        #expect(escalate.status == 1)
        #expect(escalate.error.contains("Scopes can never be added to a key; refused: sales:read."))
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == before)
        let restrict = await runTool(["keys", "restrict", id, "--store", store, "--scopes", "invoice:read"])
        #expect(restrict.status == 0 && Self.field("scopes", in: restrict) == "invoice:read")
        let roll = await runTool(["keys", "roll", id, "--store", store, "--grace", "0"])
        #expect(roll.status == 0)
        let newKey = try #require(Self.field("key", in: roll))
        #expect(newKey != key)
        let oldRefused = await runTool([
            "check", "--store", store, "--ip", "203.0.113.5", "-H", "Authorization: Bearer \(key)", "GET",
            "/public/api/v1/invoices",
        ])
        #expect(oldRefused.status == 1 && oldRefused.lines.first == "HTTP/1.1 401 Unauthorized")
        let newID = try #require(Self.field("id", in: roll))
        let revoke = await runTool(["keys", "revoke", newID, "--store", store])
        #expect(revoke.status == 0 && Self.field("status", in: revoke) == "revoked")
        let missing = await runTool(["keys", "revoke", "key_000000000000000000000000", "--store", store])
        #expect(
            missing.status == 1 && missing.error.contains("No key has the identifier key_000000000000000000000000."))
    }

    @Test("check with a JSON policy file, and a corrupted store is an error with exit 1")
    func policyAndCorruption() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = directory.path + "/keys.json"
        let policy = directory.path + "/policy.json"
        try Data(#"{"routes":[{"methods":["GET"],"path":"/v2/things/{id}","scopes":["sales:read"]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: policy))
        let create = await runTool(["keys", "create", "--store", store, "--merchant", "m", "--scopes", "sales:read"])
        let key = try #require(Self.field("key", in: create))
        let allowed = await runTool([
            "check", "--store", store, "--policy", policy, "-H", "authorization: Bearer \(key)", "GET", "/v2/things/t1",
        ])
        #expect(allowed.status == 0)
        let builtIn = await runTool([
            "check", "--store", store, "-H", "Authorization: Bearer \(key)", "GET", "/v2/things/t1",
        ])
        #expect(builtIn.status == 1 && builtIn.lines.first == "HTTP/1.1 404 Not Found")
        try Data(#"{"routes": 5}"#.utf8).write(to: URL(fileURLWithPath: policy))
        let badPolicy = await runTool(["check", "--store", store, "--policy", policy, "GET", "/"])
        #expect(badPolicy.status == 1 && badPolicy.error.contains("policy document is invalid"))
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: store))
        let corrupted = await runTool(["keys", "list", "--store", store])
        #expect(corrupted.status == 1 && corrupted.error.contains("is corrupted"))
        #expect(try String(contentsOfFile: store, encoding: .utf8) == "garbage")
    }
}
