import Foundation
import IntegrationTestSupport
import SentryAuth
import SentryAuthPostgres
import Testing

/// `sentry-auth-server` built next to the tests.
func serverExecutable() throws -> String {
    let testBinary = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    return testBinary.deletingLastPathComponent().appendingPathComponent("sentry-auth-server").path
}

/// Runs `sentry-auth-server ARGUMENTS` to completion.
func server(_ arguments: String...) throws -> (status: Int32, output: String) {
    try runCommand(try serverExecutable(), arguments)
}

/// The key `keys create` printed once.
func printedKey(_ output: String) throws -> String {
    let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("key:") }, "\(output)")
    return String(line.dropFirst("key:".count).trimmingCharacters(in: .whitespaces))
}

/// Sends `count` requests with `key`, alternating between the clients, 10 at a time; the statuses.
func spread(_ count: Int, key: String, over clients: [LiveClient]) async throws -> [Int] {
    var statuses: [Int] = []
    for batch in stride(from: 0, to: count, by: 10) {
        statuses += try await withThrowingTaskGroup(of: Int.self) { group in
            for index in batch..<min(count, batch + 10) {
                group.addTask {
                    try await clients[index % clients.count].send(
                        "GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")]
                    ).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }
    return statuses
}

@Suite("Two server instances, one PostgreSQL, one Redis", .serialized)
struct MultiInstanceTests {
    @Test("Shared limit, revocations everywhere within a second, and both engines stopped and restarted")
    func twoInstances() async throws {
        let postgres = try PostgresTestServer()
        let redis = try RedisTestServer()
        let database = try postgres.createDatabase()

        // migrate alone, twice: the second run changes nothing.
        let first = try server("migrate", "--postgres", database)
        #expect(first.status == 0 && first.output.hasPrefix("schema: applied version 1"), "\(first.output)")
        let again = try server("migrate", "--postgres", database)
        #expect(again.status == 0 && again.output.hasPrefix("schema: already at version 1"), "\(again.output)")

        // Key management against PostgreSQL: the same commands and output as `sentry-auth keys`.
        let created = try server(
            "keys", "create", "--postgres", database, "--merchant", "merchant_9", "--scopes", "customer:read",
            "--actor", "ops")
        #expect(created.status == 0)
        let key = try printedKey(created.output)
        let id = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("id:") })
            .dropFirst("id:".count).trimmingCharacters(in: .whitespaces)
        let listed = try server("keys", "list", "--postgres", database)
        #expect(listed.status == 0 && listed.output.contains(id) && !listed.output.contains(key))

        // Every request of this test comes from 127.0.0.1 and it revokes 100 keys: the limit on failed
        // authentications per address (on by default) would turn its 401s into 429s.
        let a = try ServerProcess(["--postgres", database, "--redis", redis.url, "--no-failed-auth-limit"])
        let b = try ServerProcess(["--postgres", database, "--redis", redis.url, "--no-failed-auth-limit"])
        let clients = [LiveClient(port: a.port), LiveClient(port: b.port)]

        // 1. One key, 150 requests across both instances: exactly 60 allowed, the rest 429.
        let statuses = try await spread(150, key: key, over: clients)
        #expect(statuses.filter { $0 == 200 }.count == 60 && statuses.filter { $0 == 429 }.count == 90)

        // 2. Revocation through `keys revoke` (another process): instance B refuses within a second.
        let url = try PostgresURL(database)
        let revocable = try await PostgresKeyStore.withRunningClient(url) { store in
            var keys: [CreatedKey] = []
            let manager = KeyManager(store: store)
            for index in 0..<100 {
                keys.append(
                    try await manager.create(for: MerchantID("merchant_r")!, name: "r\(index)", scopes: [.customerRead])
                )
            }
            return keys
        }
        var delays: [Duration] = []
        for created in revocable {
            let bearer = [("Authorization", "Bearer \(created.key.revealSecret())")]
            #expect(try await clients[1].send("GET", "/public/api/v1/customers", bearer).status == 200)  // cached in B
            let start = ContinuousClock.now
            let revoked = try server("keys", "revoke", created.record.id.rawValue, "--postgres", database)
            #expect(revoked.status == 0)
            while try await clients[1].send("GET", "/public/api/v1/customers", bearer).status != 401 {
                #expect(ContinuousClock.now - start < .seconds(5))
                try await Task.sleep(for: .milliseconds(2))
            }
            delays.append(ContinuousClock.now - start)
        }
        delays.sort()
        print(
            "revocation reaching instance B (from starting `keys revoke` to B's 401), 100 keys: "
                + "p50 \(delays[49]), p99 \(delays[98])")
        #expect(delays[98] < .seconds(1))

        // 3. Redis stops: each instance limits on its own (60 each), nothing fails; when it returns the
        //    limit is shared again.
        let keys = try (0..<2).map { index in
            try printedKey(
                try server(
                    "keys", "create", "--postgres", database, "--merchant", "merchant_\(index)", "--scopes",
                    "customer:read"
                ).output)
        }
        redis.stop()
        let alone = try await spread(140, key: keys[0], over: clients)
        #expect(Set(alone) == [200, 429] && alone.filter { $0 == 200 }.count == 120)
        try redis.start()
        try await Task.sleep(for: .milliseconds(1_200))  // past the store's retry interval
        let shared = try await spread(150, key: keys[1], over: clients)
        #expect(shared.filter { $0 == 200 }.count == 60 && shared.filter { $0 == 429 }.count == 90)

        // 4. PostgreSQL stops: a key the cache holds keeps working, an unknown key gets 503; after it
        //    returns, revocations propagate again.
        let cached = try printedKey(
            try server(
                "keys", "create", "--postgres", database, "--merchant", "merchant_c", "--scopes", "customer:read"
            )
            .output)
        let uncached = try printedKey(
            try server(
                "keys", "create", "--postgres", database, "--merchant", "merchant_u", "--scopes", "customer:read"
            )
            .output)
        let cachedBearer = [("Authorization", "Bearer \(cached)")]
        #expect(try await clients[0].send("GET", "/public/api/v1/customers", cachedBearer).status == 200)
        try postgres.stop()
        #expect(try await clients[0].send("GET", "/public/api/v1/customers", cachedBearer).status == 200)
        let unavailable = try await clients[0].send(
            "GET", "/public/api/v1/customers", [("Authorization", "Bearer \(uncached)")])
        #expect(unavailable.status == 503 && unavailable.header("Retry-After") == "2")
        #expect(
            try unavailable.json == [
                "error": "SERVICE_UNAVAILABLE",
                "message": "Service temporarily unavailable. Please try again in 2 seconds.",
            ])
        let down = try server("keys", "list", "--postgres", database)
        #expect(down.status == 3 && down.output.contains("PostgreSQL"), "\(down.output)")
        try postgres.start()
        let cachedID = try #require(
            try server("keys", "list", "--postgres", database).output.split(separator: "\n")
                .first { $0.contains("merchant_c") }?.split(separator: " ").first)
        #expect(try server("keys", "revoke", String(cachedID), "--postgres", database).status == 0)
        let start = ContinuousClock.now
        while try await clients[0].send("GET", "/public/api/v1/customers", cachedBearer).status != 401 {
            #expect(ContinuousClock.now - start < .seconds(15))
            try await Task.sleep(for: .milliseconds(20))
        }

        for client in clients { try await client.shutdown() }
        #expect(try await a.stop() == 0)
        #expect(try await b.stop() == 0)
    }
}
