import Foundation
import IntegrationTestSupport
import SentryAuth
import SentryAuthPostgres
import Testing

/// One request's status and how long its answer took.
struct TimedAnswer: Sendable {
    let status: Int
    let latency: Duration
}

extension LiveClient {
    /// `GET /public/api/v1/customers` with `key`, timed.
    func timedCustomers(_ key: String) async throws -> TimedAnswer {
        let start = ContinuousClock.now
        let status = try await send("GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")]).status
        return TimedAnswer(status: status, latency: ContinuousClock.now - start)
    }

    /// Requests with `key` until the answer is `status`; how long that took from `start`.
    func time(until status: Int, key: String, from start: ContinuousClock.Instant, bound: Duration) async throws
        -> Duration
    {
        while try await timedCustomers(key).status != status {
            try #require(ContinuousClock.now - start < bound, "no \(status) within \(bound)")
            try await Task.sleep(for: .milliseconds(5))
        }
        return ContinuousClock.now - start
    }
}

/// Creates a key in `database` (through `keys create`, another process); the key.
func createKey(in database: String, merchant: String) throws -> String {
    try printedKey(
        try server("keys", "create", "--postgres", database, "--merchant", merchant, "--scopes", "customer:read").output
    )
}

/// The identifier of the key of `merchant`, from `keys list`.
func keyID(in database: String, merchant: String) throws -> String {
    String(
        try #require(
            try server("keys", "list", "--postgres", database).output.split(separator: "\n")
                .first { $0.contains(merchant) }?.split(separator: " ").first))
}

/// The engines fail the way a deployment's do — a frozen host, a terminated backend, a restart —
/// and each bound of the DocC article *Running on several instances* is measured against the real
/// server process and the real engines.
@Suite("Engine faults: answers in time, revocations seen", .serialized)
struct EngineFaultTests {
    @Test("PostgreSQL frozen for 8 s (SIGSTOP): every answer within 3 s — cached, uncached and unknown keys")
    func frozenPostgres() async throws {
        let postgres = try PostgresTestServer()  // its own: freezing it must not touch other tests
        let database = try postgres.createDatabase()
        #expect(try server("migrate", "--postgres", database).status == 0)
        let cached = try createKey(in: database, merchant: "merchant_cached")
        let uncached = try createKey(in: database, merchant: "merchant_uncached")
        let instance = try ServerProcess(["--postgres", database, "--no-failed-auth-limit"])
        let client = LiveClient(port: instance.port, connections: 32)
        // Cached and confirmed: once the feed listens (/ready says so), a look-up is kept for 10 s.
        let listening = ContinuousClock.now
        while try await client.send("GET", "/ready").status != 200 {
            try #require(ContinuousClock.now - listening < .seconds(20), "the feed never listened")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await client.timedCustomers(cached).status == 200)

        let frozen = try postgres.freeze()
        #expect(frozen >= 3)  // the postmaster, its background processes, the backends
        let freezeStart = ContinuousClock.now
        var answers: [String: [TimedAnswer]] = [:]
        try await withThrowingTaskGroup(of: (String, TimedAnswer).self) { group in
            // Every 250 ms for 8 s: the cached key, three concurrent requests for the uncached one (they
            // join one look-up), and a random unknown key.
            while ContinuousClock.now - freezeStart < .seconds(8) {
                group.addTask { ("cached", try await client.timedCustomers(cached)) }
                for _ in 0..<3 { group.addTask { ("uncached", try await client.timedCustomers(uncached)) } }
                group.addTask { ("unknown", try await client.timedCustomers(APIKey.generate().revealSecret())) }
                try await Task.sleep(for: .milliseconds(250))
            }
            for try await (kind, answer) in group { answers[kind, default: []].append(answer) }
        }
        try postgres.thaw()
        let thawed = ContinuousClock.now
        for (kind, list) in answers.sorted(by: { $0.key < $1.key }) {
            let worst = list.map(\.latency).max()!
            let statuses = Dictionary(grouping: list, by: \.status).mapValues(\.count)
            print("PostgreSQL frozen 8 s: \(kind) keys, \(list.count) requests, worst answer \(worst), \(statuses)")
            #expect(worst <= .seconds(3), "\(kind): \(worst)")
        }
        #expect(answers["cached"]!.allSatisfy { $0.status == 200 })
        #expect(answers["uncached"]!.allSatisfy { $0.status == 503 })
        #expect(answers["unknown"]!.allSatisfy { $0.status == 503 })

        // Resumed: the pool discarded the connections of abandoned queries, and serves again.
        let recovered = try await client.time(until: 200, key: uncached, from: thawed, bound: .seconds(10))
        print("PostgreSQL resumed: uncached key answered 200 after \(recovered)")
        #expect(try await client.timedCustomers(APIKey.generate().revealSecret()).status == 401)
        try await client.shutdown()
        #expect(try await instance.stop() == 0)
    }

    @Test(
        "Change feed down (its backend terminated, reconnects refused) and PostgreSQL restarted: a revocation's next request is 401"
    )
    func revocationWhileFeedDown() async throws {
        let postgres = try PostgresTestServer()
        let database = try postgres.createDatabase()
        let name = String(database.split(separator: "/").last!)
        #expect(try server("migrate", "--postgres", database).status == 0)
        let keys = try (0..<3).map { try createKey(in: database, merchant: "merchant_\($0)") }
        let ids = try (0..<3).map { try keyID(in: database, merchant: "merchant_\($0)") }
        let instance = try ServerProcess(["--postgres", database, "--no-failed-auth-limit"])
        let client = LiveClient(port: instance.port)
        for key in keys { _ = try await client.time(until: 200, key: key, from: .now, bound: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(500))  // the feed listens: the three are cached, confirmed

        let url = try PostgresURL(database)
        try await PostgresKeyStore.withRunningClient(url) { store in
            let manager = KeyManager(store: store)
            // 1. The feed's backend terminated, and no new connection to the database allowed: the feed
            //    stays down while the server's pooled connections (and this test's) keep working.
            try postgres.psql("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
            #expect(try postgres.terminateListeners() == 1)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.timedCustomers(keys[0]).status == 200)
            #expect(try await client.timedCustomers(keys[0]).status == 200)  // loaded again, unconfirmed
            let start = ContinuousClock.now
            _ = try await manager.revoke(APIKeyID(ids[0])!)
            let committed = ContinuousClock.now
            let first = try await client.timedCustomers(keys[0])
            print("feed down: first request after the revocation committed: \(first.status)")
            #expect(first.status == 401)
            let seen = try await client.time(until: 401, key: keys[0], from: start, bound: .seconds(15))
            print(
                "feed down: revocation commit to 401 \(seen - (committed - start)) (revoke call \(committed - start))")
            try postgres.psql("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        }

        // 2. PostgreSQL restarted: the feed is in backoff, the pool reconnects; a revocation committed
        //    right after the restart is seen at once.
        try postgres.stop()
        try postgres.start()
        let restarted = ContinuousClock.now
        let revoked = try server("keys", "revoke", ids[1], "--postgres", database)
        #expect(revoked.status == 0, "\(revoked.output)")
        let committed = ContinuousClock.now
        let afterRestart = try await client.time(until: 401, key: keys[1], from: committed, bound: .seconds(15))
        print(
            "PostgreSQL restarted: revocation committed \(committed - restarted) after the restart, 401 \(afterRestart) after the commit"
        )
        #expect(afterRestart <= .seconds(1))

        // 3. The feed listens again: a revocation reaches the cached, confirmed key within a second.
        let listening = ContinuousClock.now
        _ = try await client.time(until: 200, key: keys[2], from: listening, bound: .seconds(10))
        try await Task.sleep(for: .seconds(6))  // past the feed's longest backoff
        let start = ContinuousClock.now
        #expect(try server("keys", "revoke", ids[2], "--postgres", database).status == 0)
        let viaFeed = try await client.time(until: 401, key: keys[2], from: start, bound: .seconds(15))
        print("feed listening again: `keys revoke` to 401 \(viaFeed)")
        #expect(viaFeed <= .seconds(1))
        try await client.shutdown()
        #expect(try await instance.stop() == 0)
    }

    @Test(
        "Redis stalled 3 s (DEBUG SLEEP) and restarted empty: one key's admissions across two instances stay within limit + 2 per instance, and 2 × limit"
    )
    func redisStallAndRestart() async throws {
        let postgres = try PostgresTestServer.shared()
        let database = try postgres.createDatabase()
        let redis = try RedisTestServer()
        #expect(try server("migrate", "--postgres", database).status == 0)
        let stalled = try createKey(in: database, merchant: "merchant_stall")
        let restarted = try createKey(in: database, merchant: "merchant_restart")
        let a = try ServerProcess(["--postgres", database, "--redis", redis.url])
        let b = try ServerProcess(["--postgres", database, "--redis", redis.url])
        let clients = [LiveClient(port: a.port), LiveClient(port: b.port)]

        /// Requests across both instances, 10 at a time, until `running` says stop; each answer's
        /// status, `X-RateLimit-Remaining` and latency.
        func hammer(_ key: String, while running: @Sendable () -> Bool) async throws -> [(Int, Int, Duration)] {
            var answers: [(Int, Int, Duration)] = []
            repeat {
                answers += try await withThrowingTaskGroup(of: (Int, Int, Duration).self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            let start = ContinuousClock.now
                            let answer = try await clients[index % 2].send(
                                "GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")])
                            return (
                                answer.status, answer.header("X-RateLimit-Remaining").flatMap { Int($0) } ?? -1,
                                ContinuousClock.now - start
                            )
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            } while running()
            return answers
        }

        // 1. Spend the limit through Redis, then stall Redis for 3 s while both instances are hammered.
        let spent = try await spread(80, key: stalled, over: clients)
        #expect(spent.filter { $0 == 200 }.count == 60)
        let sleeper = Task.detached { try redis.cli("DEBUG", "SLEEP", "3") }
        try await Task.sleep(for: .milliseconds(50))
        let stallStart = ContinuousClock.now
        let during = try await hammer(stalled) { ContinuousClock.now - stallStart < .seconds(3) }
        _ = try await sleeper.value
        try await Task.sleep(for: .milliseconds(1_200))  // past the retry interval: Redis decides again
        let after = try await hammer(stalled) { false }
        let admittedDuring = during.filter { $0.0 == 200 }.count
        let admittedAfter = after.filter { $0.0 == 200 }.count
        let worst = during.map(\.2).max()!
        print(
            "Redis stalled 3 s after the limit (60) was spent: \(during.count) requests across two instances during the stall, "
                + "\(admittedDuring) admitted, worst answer \(worst); \(admittedAfter) of \(after.count) admitted after it"
        )
        // A stalled connection fails its commands at their deadline (250 ms) and is closed: no
        // request waits for the stall.
        #expect(worst < .seconds(1))
        #expect(60 + admittedDuring + admittedAfter <= 60 + 2 * 2)
        // Every answer's X-RateLimit-Remaining told the truth: the window was (nearly) spent.
        #expect(during.allSatisfy { $0.1 >= 0 && $0.1 <= 2 }, "\(during.map(\.1))")

        // 2. Spend the limit of another key, stop Redis (its data lost), hammer, restart it empty.
        let before = try await spread(60, key: restarted, over: clients)
        #expect(before.allSatisfy { $0 == 200 })
        redis.stop()
        let down = try await spread(100, key: restarted, over: clients)
        try redis.start()
        try await Task.sleep(for: .milliseconds(1_200))
        let back = try await spread(200, key: restarted, over: clients)
        let admitted = 60 + down.filter { $0 == 200 }.count + back.filter { $0 == 200 }.count
        print(
            "Redis stopped and restarted empty after the limit (60) was spent: \(down.filter { $0 == 200 }.count) admitted "
                + "while it was down, \(back.filter { $0 == 200 }.count) after; \(admitted) in the window"
        )
        // While down, an instance admits what its newest answer from Redis left; with 10 requests in
        // flight (5 per instance), that answer can miss at most the other instance's 5 last admissions.
        #expect(down.filter { $0 == 200 }.count <= 2 * 5)
        #expect(admitted <= 2 * 60)

        for client in clients { try await client.shutdown() }
        #expect(try await a.stop() == 0)
        #expect(try await b.stop() == 0)
    }

    @Test("/health, /ready with its reasons as the engines fail and return, and /metrics on its own address")
    func visibility() async throws {
        let postgres = try PostgresTestServer()
        let database = try postgres.createDatabase()
        let redis = try RedisTestServer()
        #expect(try server("migrate", "--postgres", database).status == 0)
        let key = try createKey(in: database, merchant: "merchant_seen")
        let metricsPort = try freeLoopbackPort()
        let instance = try ServerProcess([
            "--postgres", database, "--redis", redis.url, "--redis-unavailable", "refuse", "--metrics",
            "127.0.0.1:\(metricsPort)",
        ])
        let client = LiveClient(port: instance.port)
        let metrics = LiveClient(port: metricsPort)

        /// `/ready`'s status and its JSON, waiting (at most 10 s) for `status`.
        func ready(becoming status: Int) async throws -> [String: Any] {
            let start = ContinuousClock.now
            while true {
                let answer = try await client.send("GET", "/ready")
                if answer.status == status || ContinuousClock.now - start > .seconds(10) {
                    #expect(answer.status == status, "\(answer.body)")
                    return try #require(
                        try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        func reason(_ object: [String: Any], _ part: String) -> String {
            ((object[part] as? [String: Any])?["reason"] as? String) ?? "(none)"
        }

        #expect(try await client.send("GET", "/health").status == 200)
        let up = try await ready(becoming: 200)
        #expect(reason(up, "keys") == "PostgreSQL answers" && reason(up, "feed") == "listening for key changes")
        #expect(try await client.timedCustomers(key).status == 200)
        #expect(reason(try await ready(becoming: 200), "rate_limits") == "Redis answers")

        // Redis stopped, configured to refuse: the next limited request fails, and /ready says why.
        redis.stop()
        #expect(try await client.timedCustomers(key).status == 503)
        let noRedis = try await ready(becoming: 503)
        #expect(reason(noRedis, "rate_limits").contains("Redis does not answer"))
        try redis.start()

        // PostgreSQL stopped: the feed stops listening (not ready) though the cache holds the key.
        try postgres.stop()
        let noDatabase = try await ready(becoming: 503)
        #expect(reason(noDatabase, "feed").hasPrefix("not listening"), "\(noDatabase)")
        #expect(reason(noDatabase, "keys").contains("cached entries"), "\(noDatabase)")
        #expect(try await client.send("GET", "/health").status == 200)
        try postgres.start()
        _ = try await ready(becoming: 200)

        // The metrics, in the Prometheus text format, apart from the API (and not served on it).
        let scraped = try await metrics.send("GET", "/metrics")
        #expect(scraped.status == 200 && scraped.header("Content-Type")?.hasPrefix("text/plain") == true)
        for expected in [
            #"sentry_auth_decisions_total{outcome="allowed"}"#, #"sentry_auth_decisions_total{outcome="unavailable"}"#,
            "sentry_auth_postgres_call_duration_bucket", #"sentry_auth_postgres_errors_total{kind="#,
            "sentry_auth_postgres_feed_listening 1", "sentry_auth_postgres_feed_reconnects_total",
            "sentry_auth_redis_call_duration_bucket", #"sentry_auth_redis_errors_total{kind="unavailable"}"#,
            "sentry_auth_rate_limit_fallback_active",
            #"sentry_auth_refusals_total{reason="rate_limit_store_unavailable"}"#,
        ] {
            #expect(scraped.body.contains(expected), "\(expected) missing from /metrics")
        }
        #expect(!scraped.body.contains(key))
        #expect(try await client.send("GET", "/metrics").status == 401)  // the API's /metrics is behind the gate
        try await client.shutdown()
        try await metrics.shutdown()
        #expect(try await instance.stop() == 0)
    }

    @Test("A start-up that fails half-way (the schema cannot be migrated) shuts every service down and exits 3")
    func failedStartup() async throws {
        let postgres = try PostgresTestServer.shared()
        let redis = try RedisTestServer()
        let start = ContinuousClock.now
        let missing = "postgres://sentry@127.0.0.1:\(postgres.port)/no_such_database"
        let result = try server("--postgres", missing, "--redis", redis.url, "--port", "0")
        #expect(result.status == 3, "\(result.output)")
        #expect(
            result.output.contains("no_such_database") && result.output.contains("does not exist"), "\(result.output)")
        #expect(!result.output.contains("listening on"))
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
