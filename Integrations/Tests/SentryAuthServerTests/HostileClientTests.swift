import Foundation
import SentryAuthPostgres
import IntegrationTestSupport
import SentryAuth
import Testing

@Suite("sentry-auth-server under hostile clients, as a process")
struct HostileClientTests {
    @Test("300 idle connections against a 256-descriptor limit: a valid key answered within 15 s; a slow head closed")
    func idleConnectionsAndSlowHeads() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-hostile-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storePath = directory.appendingPathComponent("keys.json").path
        let key = try await KeyManager(store: FileKeyStore(path: storePath)).create(
            for: MerchantID("merchant_7")!, name: "web", scopes: [.salesRead])
        // Defaults but the head timeout, so the slow client is seen within the test.
        let server = try ServerProcess(["--store", storePath, "--head-timeout", "3"], descriptorLimit: 256)
        var idle: [RawHTTPConnection] = []
        for index in 0..<300 {
            guard let connection = try? RawHTTPConnection(port: server.port, timeout: .seconds(1)) else { continue }
            if index % 3 == 0 { connection.send("GET /public/api/v1/sales HTTP/1.1\r\n") }  // a head never finished
            idle.append(connection)
        }
        #expect(idle.count == 300, "every connection was accepted: the cap closes idle ones before descriptors run out")
        let start = ContinuousClock.now
        let valid = try RawHTTPConnection(port: server.port, timeout: .seconds(15))
        valid.send(
            "GET /public/api/v1/sales HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key.key.revealSecret())\r\n"
                + "Connection: close\r\n\r\n")
        let (answer, _) = await valid.readUntilClose()
        let answeredAfter = ContinuousClock.now - start
        #expect(RawHTTPConnection.statuses(in: answer) == [200], "\(answer.prefix(120))")
        #expect(answeredAfter < .seconds(15), "\(answeredAfter)")
        // A client that sends a header byte a second is closed at the head timeout (3 s here; 10 s by default).
        let slow = try RawHTTPConnection(port: server.port, timeout: .seconds(1))
        let slowStart = ContinuousClock.now
        var closedAfter: Duration?
        for byte in "GET /public/api/v1/sales HTTP/1.1\r\nHost: " + String(repeating: "x", count: 40) {
            slow.send(String(byte))
            if await slow.readUntilClose().closed {
                closedAfter = ContinuousClock.now - slowStart
                break
            }
        }
        let slowAfter = try #require(closedAfter, "the slow head was never closed")
        #expect(slowAfter < .seconds(30), "\(slowAfter)")
        withExtendedLifetime(idle) {}
        #expect(try await server.stop() == 0)
    }

    /// Resident memory of a process, from /proc.
    static func residentBytes(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ").dropFirst().first ?? "")) * 1024
    }

    @Test("A flood of random well-formed keys over PostgreSQL: few digest-index scans, bounded memory, valid keys work")
    func randomKeyFlood() async throws {
        let postgres = try PostgresTestServer.shared()
        let database = try postgres.createDatabase()
        let name = String(database.split(separator: "/").last!)
        #expect(try server("migrate", "--postgres", database).status == 0)
        let created = try server(
            "keys", "create", "--postgres", database, "--merchant", "merchant_9", "--scopes", "customer:read")
        let valid = [("Authorization", "Bearer \(try printedKey(created.output))")]
        let instance = try ServerProcess(["--postgres", database])  // the failed-authentication limit on, by default
        let client = LiveClient(port: instance.port, connections: 8)
        #expect(try await client.send("GET", "/public/api/v1/customers", valid).status == 200)
        func scans() throws -> Int {
            Int(
                try postgres.psql(
                    // Index or sequential: a table of one row is scanned sequentially.
                    "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
                        + "WHERE relname = 'sentry_auth_keys'",
                    database: name
                ).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        try await Task.sleep(for: .milliseconds(1_500))  // backends flush statistics at most once a second
        // Cached now: the change feed empties the cache once when it starts listening, which may have
        // come after the first request.
        #expect(try await client.send("GET", "/public/api/v1/customers", valid).status == 200)
        let scansBefore = try scans()
        let memoryBefore = try Self.residentBytes(instance.process.processIdentifier)
        let flood = 6_000
        var statuses: [Int: Int] = [:]
        try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var seen: [Int] = []
                    for _ in 0..<(flood / 8) {
                        let random = [("Authorization", "Bearer \(APIKey.generate().revealSecret())")]
                        seen.append(try await client.send("GET", "/public/api/v1/customers", random).status)
                    }
                    return seen
                }
            }
            for try await seen in group { for status in seen { statuses[status, default: 0] += 1 } }
        }
        // The cached valid key still works from the flooding address; the flood got 401s, then 429s.
        let after = try await client.send("GET", "/public/api/v1/customers", valid)
        #expect(after.status == 200, "\(after.status) \(after.body)")
        // A busy backend flushes its statistics at most once a second, an idle one within 10 s (PostgreSQL 15).
        try await Task.sleep(for: .seconds(11))
        let scanned = try scans() - scansBefore
        let perRequest = Double(scanned) / Double(flood)
        let growth = try Self.residentBytes(instance.process.processIdentifier) - memoryBefore
        print(
            "random-key flood: \(statuses), \(perRequest) digest-index scans a request, \(growth / 1024) KiB resident growth"
        )
        // 30 failures a minute, a few more for requests in flight when the limit was reached.
        #expect(statuses[401, default: 0] >= 30 && statuses[429, default: 0] >= flood * 9 / 10)
        #expect(statuses.values.reduce(0, +) == flood)
        #expect(scanned >= 30, "each failure before the limit was a look-up: the count is real")
        #expect(perRequest <= 0.2)
        #expect(growth < 64 << 20)
        try await client.shutdown()
        #expect(try await instance.stop() == 0)
    }
}
