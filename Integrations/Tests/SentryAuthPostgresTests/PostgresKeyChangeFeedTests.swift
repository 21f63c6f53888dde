import Foundation
import IntegrationTestSupport
import PostgresNIO
import SentryAuth
import SentryAuthPostgres
import Testing

/// Runs `body` with a change feed running beside it, listening before `body` starts.
func withFeed<T: Sendable>(
    _ fixture: PostgresFixture, cache: CachedKeyStore, reconnectDelay: Duration = .milliseconds(50),
    _ body: @Sendable (PostgresKeyChangeFeed) async throws -> T
) async throws -> T {
    let feed = PostgresKeyChangeFeed(
        url: fixture.url, cache: cache, reconnectDelay: reconnectDelay,
        maximumReconnectDelay: max(reconnectDelay, .milliseconds(200)))
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await feed.run()
            return nil
        }
        defer { group.cancelAll() }
        try await waitUntil("the feed listens") { feed.isListening }
        return try await body(feed)
    }
}

/// Polls `condition` every 5 ms for up to 10 s.
func waitUntil(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestServerError(description: "timed out: \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

func gateRequest(_ key: APIKey) -> GateRequest {
    GateRequest(
        method: "GET", target: "/public/api/v1/customers", authorization: ["Bearer \(key.revealSecret())"],
        clientAddress: nil)
}

@Suite("PostgreSQL change feed: every change reaches the cache", .serialized)
struct PostgresKeyChangeFeedTests {
    @Test("SQL typed by hand: a revocation drops the cached key at once; a last-use update alone does not")
    func handTypedChange() async throws {
        let fixture = try PostgresFixture()
        try await fixture.withStore { store in
            let manager = KeyManager(store: store)
            let created = try await manager.create(
                for: MerchantID("merchant_feed")!, name: "web", scopes: [.customerRead])
            let cache = CachedKeyStore(store, freshness: .seconds(600))
            try await withFeed(fixture, cache: cache) { feed in
                let gate = RequestGate(keys: cache, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
                #expect(try await gate.evaluate(gateRequest(created.key)).status == 200)
                let before = feed.notificationsReceived

                try fixture.psql("UPDATE sentry_auth_keys SET last_used_at = now() WHERE id = '\(created.record.id)'")
                try fixture.psql("NOTIFY sentry_auth_key_changes, 'marker'")
                try await waitUntil("the marker") { feed.notificationsReceived == before + 1 }

                try fixture.psql("UPDATE sentry_auth_keys SET revoked_at = now() WHERE id = '\(created.record.id)'")
                try await waitUntil("the revocation") { feed.notificationsReceived == before + 2 }
                // With a freshness of 10 minutes, only the notification can have dropped it.
                let refused = try await gate.evaluate(gateRequest(created.key))
                #expect(refused.status == 401)
            }
        }
    }

    @Test("The feed's connection dropped, PostgreSQL up: a change it never heard of is still seen at once")
    func lostFeed() async throws {
        let fixture = try PostgresFixture()
        try await fixture.withStore { store in
            let created = try await KeyManager(store: store).create(
                for: MerchantID("merchant_lost")!, name: "web", scopes: [.customerRead])
            let cache = CachedKeyStore(store, freshness: .seconds(600))
            // A long reconnect delay keeps the feed away while the change is made.
            try await withFeed(fixture, cache: cache, reconnectDelay: .seconds(30)) { feed in
                let gate = RequestGate(keys: cache, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
                #expect(try await gate.evaluate(gateRequest(created.key)).status == 200)
                try fixture.psql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
                        + " AND datname = current_database()")
                try await waitUntil("the feed notices") { !feed.isListening }
                try fixture.psql("UPDATE sentry_auth_keys SET revoked_at = now() WHERE id = '\(created.record.id)'")
                #expect(feed.listenCount == 1)  // not back yet: the notification went nowhere
                #expect(try await gate.evaluate(gateRequest(created.key)).status == 401)
            }
        }
    }

    @Test("Changes through the store reach a second instance's cache; 100 revocations measured")
    func propagation() async throws {
        let fixture = try PostgresFixture()
        try await fixture.withStore { writer in
            try await fixture.withStore { reader in
                let cache = CachedKeyStore(reader, freshness: .seconds(600))
                try await withFeed(fixture, cache: cache) { _ in
                    let manager = KeyManager(store: writer)
                    var delays: [Duration] = []
                    for index in 0..<100 {
                        let created = try await manager.create(
                            for: MerchantID("merchant_\(index % 7)")!, name: "k\(index)", scopes: [.customerRead])
                        #expect(try await cache.record(forDigest: created.key.digest)?.revokedAt == nil)
                        let start = ContinuousClock.now
                        _ = try await manager.revoke(created.record.id)
                        try await waitUntil("revocation \(index)") {
                            try await cache.record(forDigest: created.key.digest)?.revokedAt != nil
                        }
                        delays.append(ContinuousClock.now - start)
                    }
                    delays.sort()
                    print(
                        "revocation propagation (store → NOTIFY → feed → cache), 100 keys: p50 \(delays[49]), p99 \(delays[98])"
                    )
                    #expect(delays[98] < .seconds(1))
                }
            }
        }
    }

    @Test(
        "PostgreSQL stopped: cached keys keep working, others get 503, writes fail; after restart, changes propagate again"
    )
    func outage() async throws {
        let server = try PostgresTestServer()
        let fixture = try PostgresFixture(server: server)
        try await fixture.withStore(operationTimeout: .milliseconds(500)) { store in
            let manager = KeyManager(store: store)
            let merchant = MerchantID("merchant_outage")!
            let cachedKey = try await manager.create(for: merchant, name: "cached", scopes: [.customerRead])
            let uncachedKey = try await manager.create(for: merchant, name: "uncached", scopes: [.customerRead])
            let cache = CachedKeyStore(store, freshness: .seconds(30))
            try await withFeed(fixture, cache: cache) { feed in
                let gate = RequestGate(keys: cache, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
                #expect(try await gate.evaluate(gateRequest(cachedKey.key)).status == 200)

                try server.stop()
                try await waitUntil("the feed notices") { !feed.isListening }
                #expect(try await gate.evaluate(gateRequest(cachedKey.key)).status == 200)
                let unknown = try await gate.evaluate(gateRequest(uncachedKey.key))
                #expect(unknown.status == 503)
                #expect(unknown.headers.contains(HTTPHeaderField(name: "Retry-After", value: "2")))
                await #expect(throws: (any Error).self) {
                    try await manager.create(for: merchant, name: "during the outage", scopes: [.customerRead])
                }

                try server.start()
                try await waitUntil("the feed listens again") { feed.isListening && feed.listenCount == 2 }
                #expect(try await gate.evaluate(gateRequest(uncachedKey.key)).status == 200)
                _ = try await manager.revoke(cachedKey.record.id)
                try await waitUntil("the revocation after the restart") {
                    try await gate.evaluate(gateRequest(cachedKey.key)).status == 401
                }
                // Nothing was written during the outage.
                #expect(try await store.records(forMerchant: merchant).map(\.name) == ["cached", "uncached"])
            }
        }
    }
}
