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
        #expect(Self.field("digest", in: create) == KeyDigest.SHA256.hash(Array(key.utf8)).hex)
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

    @Test("check with a JSON policy file; a bad policy or a corrupted store is an operational error, exit 3")
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
        #expect(badPolicy.status == 3 && badPolicy.error.contains("policy document is invalid"))
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: store))
        let corrupted = await runTool(["keys", "list", "--store", store])
        #expect(corrupted.status == 3 && corrupted.error.contains("is corrupted"))
        // The defect: check exited 1 (a refusal) for a store it could not read.
        let checkCorrupted = await runTool([
            "check", "--store", store, "-H", "Authorization: Bearer \(key)", "GET", "/public/api/v1/sales",
        ])
        #expect(checkCorrupted.status == 3 && checkCorrupted.error.contains("is corrupted"))
        #expect(checkCorrupted.output.isEmpty)
        for command in [["keys", "revoke", "key_000000000000000000000000"], ["keys", "roll", "key_0"]] {
            let run = await runTool(command + ["--store", store])
            #expect(run.status == 3 && run.error.contains("is corrupted"), "\(command)")
        }
        #expect(try String(contentsOfFile: store, encoding: .utf8) == "garbage")
    }

    /// Creates a key in a fresh store and returns (store path, key, key ID).
    static func createKey(in directory: TemporaryDirectory, _ extra: [String] = []) async throws -> (
        String, String, String
    ) {
        let store = directory.path + "/keys.json"
        let create = await runTool(
            ["keys", "create", "--store", store, "--merchant", "merchant_7", "--scopes", "customer:read"] + extra)
        #expect(create.status == 0, "\(create.error)")
        return (store, try #require(field("key", in: create)), try #require(field("id", in: create)))
    }

    @Test("check --peer/--forwarded-for/--trusted-proxy: padding the header cannot pass an allowlist of the proxies")
    func checkThroughProxies() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, key, _) = try await Self.createKey(in: directory, ["--allow", "10.0.0.0/8"])
        let junk = Array(repeating: "1.1.1.1", count: 64).joined(separator: ", ")
        func check(_ options: [String]) async -> ToolRun {
            await runTool(
                ["check", "--store", store, "-H", "Authorization: Bearer \(key)"] + options
                    + ["GET", "/public/api/v1/customers"])
        }
        let proxy = ["--peer", "10.0.0.2", "--trusted-proxy", "10.0.0.0/8"]
        // The attack of the review: 64 junk entries, then the proxy appends the real address.
        let padded = await check(proxy + ["--forwarded-for", junk + ", 198.51.100.7"])
        #expect(padded.status == 1 && padded.lines.first == "HTTP/1.1 403 Forbidden", "\(padded.output)")
        let paddedLines = await check(proxy + ["--forwarded-for", junk, "--forwarded-for", "198.51.100.7"])
        #expect(paddedLines.status == 1 && paddedLines.lines.first == "HTTP/1.1 403 Forbidden")
        let unknown = await check(proxy + ["--forwarded", "for=unknown"])
        #expect(unknown.status == 1 && unknown.lines.first == "HTTP/1.1 403 Forbidden")
        // A client inside the allowlist behind the proxy, and an all-trusted chain (its leftmost entry).
        let inside = await check(proxy + ["--forwarded-for", "203.0.113.9, 10.1.2.3"])
        #expect(inside.status == 1 && inside.lines.first == "HTTP/1.1 403 Forbidden")
        let chain = await check(proxy + ["--forwarded", #"for="10.9.9.9:80", for=10.1.2.3"#])
        #expect(chain.status == 0 && chain.lines.first == "HTTP/1.1 200 OK", "\(chain.output)")
        let untrustedPeer = await check(["--peer", "198.51.100.7", "--forwarded-for", "10.1.1.1"])
        #expect(untrustedPeer.status == 1 && untrustedPeer.lines.first == "HTTP/1.1 403 Forbidden")
        let direct = await check(["--ip", "10.4.4.4"])
        #expect(direct.status == 0)
        for (options, message) in [
            (["--ip", "10.0.0.1", "--peer", "10.0.0.2"], "--ip is a client with no proxy"),
            (["--forwarded-for", "1.2.3.4"], "need --peer"),
            (proxy + ["--forwarded-for", "1.2.3.4", "--forwarded", "for=1.2.3.4"], "not both"),
            (["--peer", "10.0.0.256"], "--peer:"),
            (["--peer", "10.0.0.2", "--trusted-proxy", "10.0.0.1/8"], "--trusted-proxy:"),
        ] {
            let run = await check(options)
            #expect(run.status == 2 && run.error.contains(message), "\(options): \(run.error)")
        }
    }

    @Test("roll twice within the grace period: refused, naming the successor; the message gives the real end")
    func rollTwice() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, _, id) = try await Self.createKey(in: directory, ["--expires", "2099-01-01T00:00:00Z"])
        let started = Date()
        let first = await runTool(["keys", "roll", id, "--store", store, "--grace", "5.5"])
        #expect(first.status == 0)
        let note = try #require(first.lines.first { $0.contains("stops working at") })
        let end = try RFC3339Time.date(from: String(note.split(separator: " ").last!.dropLast()))
        #expect(end.timeIntervalSince(started) > 5.4 && end.timeIntervalSince(started) < 65)
        #expect(Self.field("expires", in: first) == "2099-01-01T00:00:00Z")  // the new key's own expiry
        let successor = try #require(Self.field("id", in: first))
        let before = try Data(contentsOf: URL(fileURLWithPath: store))
        let second = await runTool(["keys", "roll", id, "--store", store, "--grace", "3600"])
        #expect(second.status == 1)
        #expect(second.error == "error: Key \(id) was already rolled into \(successor); roll \(successor) instead.\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == before)
        let list = await runTool(["keys", "list", "--store", store])
        #expect(list.lines.count == 4)  // header, two keys, final newline
        // The rolled key is marked with the end of its grace; its successor (expiring in 2099) is not.
        let rolledRow = try #require(list.lines.first { $0.hasPrefix(id) })
        #expect(rolledRow.contains("rolled, works until \(RFC3339Time.string(from: end))"), "\(rolledRow)")
        let successorRow = try #require(list.lines.first { $0.hasPrefix(successor) })
        #expect(successorRow.contains(" active ") && !successorRow.contains("until"), "\(successorRow)")
    }

    @Test("A symbolic link to the store is written through: one lock, one content, the link stays a link")
    func symlinkedStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, key, id) = try await Self.createKey(in: directory)
        let link = directory.path + "/link.json"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "keys.json")
        let revoke = await runTool(["keys", "revoke", id, "--store", link])
        #expect(revoke.status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "keys.json")
        let check = await runTool([
            "check", "--store", store, "-H", "Authorization: Bearer \(key)", "GET", "/public/api/v1/customers",
        ])
        #expect(check.status == 1 && check.lines.first == "HTTP/1.1 401 Unauthorized")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["keys.json", "keys.json.lock", "link.json"])
    }

    @Test("A write keeps the store's mode, owner and group; a new store is created 0600")
    func modeAndOwner() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, _, id) = try await Self.createKey(in: directory)
        #expect(try Self.attributes(store).mode == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: store)
        let owner: (uid: Int, gid: Int) = getuid() == 0 ? (4321, 8765) : (Int(getuid()), Int(getgid()))
        if getuid() == 0 {
            try FileManager.default.setAttributes(
                [.ownerAccountID: owner.uid, .groupOwnerAccountID: owner.gid], ofItemAtPath: store)
        }
        let revoke = await runTool(["keys", "revoke", id, "--store", store])
        #expect(revoke.status == 0)
        let after = try Self.attributes(store)
        #expect(after.mode == 0o644)
        #expect(after.uid == owner.uid && after.gid == owner.gid)
    }

    static func attributes(_ path: String) throws -> (mode: Int, uid: Int, gid: Int) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (
            (attributes[.posixPermissions] as? Int) ?? -1, (attributes[.ownerAccountID] as? Int) ?? -1,
            (attributes[.groupOwnerAccountID] as? Int) ?? -1
        )
    }

    @Test("--expires is strict RFC 3339: out-of-range fields are refused (exit 2), milliseconds are kept")
    func expires() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = directory.path + "/keys.json"
        for (text, message) in [
            ("2027-01-31T99:99:99Z", "--expires: hour 99 is not 0 to 23."),
            ("2027-02-30T00:00:00Z", "--expires: day 30 is out of range: 2027-02 has 28 days."),
            ("2027-01-31T23:59:60Z", "--expires: second 60 is not 0 to 59"),
        ] {
            let run = await runTool([
                "keys", "create", "--store", store, "--merchant", "m", "--scopes", "sales:read", "--expires", text,
            ])
            #expect(run.status == 2 && run.error.contains(message), "\(run.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: store))
        let (_, _, _) = try await Self.createKey(in: directory, ["--expires", "2099-01-31T09:30:00.25+02:00"])
        let list = try String(contentsOfFile: store, encoding: .utf8)
        #expect(list.contains(#""expiresAt" : "2099-01-31T07:30:00.250Z""#))
    }

    @Test("Names are validated at creation, and control characters in stored names are escaped on output")
    func names() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = directory.path + "/keys.json"
        let forged = "x\nkey_forged  merchant_9  Admin  customer:read  active  sntr_…AAAA"
        let refused = await runTool([
            "keys", "create", "--store", store, "--merchant", "m", "--scopes", "sales:read", "--name", forged,
        ])
        // Bad usage (exit 2), as a bad --merchant is: the documented table; nothing is stored.
        #expect(refused.status == 2 && refused.error.contains("--name is 1 to 100 printable characters"))
        #expect(!FileManager.default.fileExists(atPath: store))
        // The default name fits the limit even for the longest merchant ID (128 characters).
        let longMerchant = String(repeating: "m", count: 128)
        let defaultName = await runTool([
            "keys", "create", "--store", store, "--merchant", longMerchant, "--scopes", "sales:read",
        ])
        #expect(defaultName.status == 0 && Self.field("name", in: defaultName) == "Key for " + longMerchant.prefix(92))
        try FileManager.default.removeItem(atPath: store)
        // A record written by another tool with a hostile name: every command escapes it.
        let (_, _, id) = try await Self.createKey(in: directory, ["--name", "plain"])
        var text = try String(contentsOfFile: store, encoding: .utf8)
        text = text.replacingOccurrences(of: #""name" : "plain""#, with: #""name" : "evil\n\u001b[31mrow""#)
        try text.write(toFile: store, atomically: true, encoding: .utf8)
        let list = await runTool(["keys", "list", "--store", store])
        #expect(list.status == 0)
        #expect(list.lines.count == 3 && list.output.contains(#"evil\u{A}\u{1B}[31mrow"#), "\(list.output)")
        #expect(!list.output.contains("\u{1B}"))
        let revoke = await runTool(["keys", "revoke", id, "--store", store])
        #expect(Self.field("name", in: revoke) == #"evil\u{A}\u{1B}[31mrow"#)
    }

    @Test("A key passed where a key ID belongs is never printed back", arguments: ["revoke", "roll", "restrict"])
    func secretAsKeyID(subcommand: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, key, _) = try await Self.createKey(in: directory)
        let extra = subcommand == "restrict" ? ["--scopes", "customer:read"] : []
        for secret in [key, String(key.dropLast()), "sntr_" + String(repeating: "Z", count: 32)] {
            let run = await runTool(["keys", subcommand, secret, "--store", store] + extra)
            #expect(run.status == 2)
            #expect(run.error.contains("looks like an API key (sntr_…), not a key ID"))
            #expect(run.error.contains("it was not printed"))
            #expect(!(run.output + run.error).contains(secret.dropFirst(5).prefix(8)))
        }
    }

    @Test("--store '' is bad usage and leaves nothing behind")
    func emptyStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: FileManager.default.currentDirectoryPath))
        for command in [
            ["keys", "list", "--store", ""], ["keys", "revoke", "key_1", "--store", ""],
            ["keys", "create", "--store", "", "--merchant", "m", "--scopes", "sales:read"],
            ["check", "--store", "", "GET", "/"],
        ] {
            let run = await runTool(command)
            #expect(run.status == 2 && run.error.contains("--store needs a file path"), "\(command): \(run.error)")
        }
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: FileManager.default.currentDirectoryPath))
        #expect(after == before)
    }

    @Test("keys create --key-from-stdin imports a legacy key, never printed; check accepts it only when told")
    func importLegacyKey() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = directory.path + "/keys.json"
        let legacy = "sntr_LEGACYkeyLEGACYkeyLEGACYkey12345"
        let imported = await runTool(
            ["keys", "create", "--store", store, "--merchant", "m_1", "--scopes", "sales:read", "--key-from-stdin"],
            input: [legacy])
        #expect(imported.status == 0, "\(imported.error)")
        #expect(imported.output.contains("imported:") && imported.output.contains("no valid checksum"))
        #expect(!(imported.output + imported.error).contains("LEGACYkey"))
        #expect(Self.field("digest", in: imported) == KeyDigest.SHA256.hash(Array(legacy.utf8)).hex)
        let request = ["-H", "Authorization: Bearer \(legacy)", "GET", "/public/api/v1/sales"]
        let refused = await runTool(["check", "--store", store] + request)
        #expect(refused.status == 1 && refused.lines.first == "HTTP/1.1 401 Unauthorized")
        let migrating = await runTool(["check", "--store", store, "--accept-legacy-keys"] + request)
        #expect(migrating.status == 0 && migrating.lines.first == "HTTP/1.1 200 OK")
        // Bad input on standard input: bad usage, not echoed; the same key twice: refused by the store.
        let bad = await runTool(
            ["keys", "create", "--store", store, "--merchant", "m_1", "--scopes", "sales:read", "--key-from-stdin"],
            input: ["sntr_SECRET!"])
        #expect(bad.status == 2 && bad.error.contains("--key-from-stdin:") && !bad.error.contains("SECRET"))
        let twice = await runTool(
            ["keys", "create", "--store", store, "--merchant", "m_1", "--scopes", "sales:read", "--key-from-stdin"],
            input: [legacy])
        #expect(twice.status == 3 || twice.status == 1)
        #expect(!(twice.output + twice.error).contains("LEGACYkey"))
    }

    @Test("keys history prints every change with its actor, never the key; --actor is validated")
    func history() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, key, id) = try await Self.createKey(in: directory, ["--actor", "alice"])
        let restrict = await runTool([
            "keys", "restrict", id, "--store", store, "--scopes", "customer:read", "--actor", "bob",
        ])
        #expect(restrict.status == 0)
        let roll = await runTool(["keys", "roll", id, "--store", store, "--actor", "carol"])
        let successor = try #require(Self.field("id", in: roll))
        let history = await runTool(["keys", "history", id, "--store", store])
        #expect(history.status == 0)
        let lines = history.lines.dropLast()
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix("created  scopes customer:read  by alice") == true, "\(history.output)")
        #expect(lines.last?.contains("rolled \(successor)  by carol") == true, "\(history.output)")
        #expect(!history.output.contains(key.dropFirst(5).prefix(12)))
        let successorHistory = await runTool(["keys", "history", successor, "--store", store])
        #expect(successorHistory.lines.first?.contains("rolled-from \(id)  scopes customer:read  by carol") == true)
        let unknown = await runTool(["keys", "history", "key_000000000000000000000000", "--store", store])
        #expect(unknown.status == 1 && unknown.error.contains("No history"))
        let badActor = await runTool(["keys", "revoke", id, "--store", store, "--actor", "eve\nmallory"])
        #expect(badActor.status == 2 && badActor.error.contains("--actor is 1 to 100 printable characters"))
    }
}
