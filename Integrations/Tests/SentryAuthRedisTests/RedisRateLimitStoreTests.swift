import Foundation
import IntegrationTestSupport
import Logging
import MetricsTestKit
import SentryAuth
import Testing

@testable import SentryAuthRedis

/// SplitMix64: a small seeded generator, so a failing trace can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Each test starts its own Redis (about 50 ms) so stopping one never disturbs another.
@Suite("Redis rate-limit store, against a real Redis 7", .serialized)
struct RedisRateLimitStoreTests {
    static func keyID(_ index: Int) -> APIKeyID {
        APIKeyID("key_" + String(repeating: "0", count: 24 - String(index).count) + String(index))!
    }

    @Test(
        "Replays a recorded trace with the same decisions as the in-process exact limiter, reset never past the window")
    func sameDecisionsAsInProcessLimiter() async throws {
        let redis = try RedisTestServer()
        let store = RedisRateLimitStore(configuration: try RedisConfiguration(url: redis.url), whenUnavailable: .refuse)
        let local = InMemoryRateLimitStore<APIKeyID>(algorithm: .exact)
        let limits = [
            try RateLimit(limit: 1, window: .seconds(1)), try RateLimit(limit: 5, window: .milliseconds(250)),
            RateLimit.default, try RateLimit(limit: 100, window: .seconds(10)),
            try RateLimit(limit: 7, window: .milliseconds(1)),
        ]
        var random = SplitMix64(seed: 15)
        var now: UInt64 = 1_000_000  // milliseconds (the in-process limiter keeps 40 bits of them)
        var allowed = 0
        var refused = 0
        var mismatches: [String] = []
        for event in 0..<6_000 {
            switch random.next() % 1_000 {
            case 0..<700: break
            case 700..<990: now += random.next() % 20
            default: now += random.next() % 70_000
            }
            let key = Int(random.next() % 20)
            let limit = limits[key % 5]
            let cost = random.next() % 8 == 0 ? Int(random.next() % UInt64(limit.limit + 1)) : 1
            // Half the events fall between two milliseconds: checked rounded down, stored rounded up.
            let micros = now * 1_000 + (random.next() % 2 == 0 ? 0 : random.next() % 1_000)
            let expected = try await local.acquire(
                Self.keyID(key), cost: cost, limit: limit, at: MonotonicInstant(nanoseconds: micros * 1_000))
            let actual = try await store.acquireInRedis(Self.keyID(key), cost: cost, limit: limit, microseconds: micros)
            if expected != actual, mismatches.count < 10 {
                mismatches.append("event \(event), key \(key), cost \(cost): Redis \(actual), in-process \(expected)")
            }
            if actual.resetAfterMilliseconds > limit.windowMilliseconds, mismatches.count < 10 {
                mismatches.append("event \(event): reset \(actual.resetAfterMilliseconds) ms beyond the window")
            }
            if actual.isAllowed { allowed += 1 } else { refused += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(allowed > 1_000 && refused > 1_000)
        await store.shutdown()
    }

    @Test("Four instances' clients on one key: exactly the limit is admitted in the window")
    func fourInstancesOneKey() async throws {
        let redis = try RedisTestServer()
        let configuration = try RedisConfiguration(url: redis.url)
        let stores = (0..<4).map { _ in RedisRateLimitStore(configuration: configuration, whenUnavailable: .refuse) }
        let key = Self.keyID(7)
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for store in stores {
                for _ in 0..<16 {
                    group.addTask {
                        var count = 0
                        for _ in 0..<40 {
                            let decision = try await store.acquire(key, cost: 1, limit: .default, at: .milliseconds(0))
                            if decision.isAllowed { count += 1 }
                        }
                        return count
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(admitted == 60)  // 2,560 requests in well under a minute
        // Redis's own record agrees: 60 admissions in the window, under the hash-tagged keys.
        #expect(try redis.cli("ZCARD", "sentry-auth:{\(key)}:window") == "60\n")
        // One Redis key per API key: the window, nothing beside it, its units stored as integers
        // (1,384 bytes measured for a full window of 60; names of 23 characters took 2,664).
        #expect(try redis.cli("DBSIZE") == "1\n")
        #expect(try redis.cli("OBJECT", "ENCODING", "sentry-auth:{\(key)}:window") == "listpack\n")
        let bytes = try #require(Int(try redis.cli("MEMORY", "USAGE", "sentry-auth:{\(key)}:window").dropLast()))
        #expect(bytes <= 1_500, "\(bytes) bytes for a full window of 60")
        let refused = try await stores[2].acquire(key, cost: 1, limit: .default, at: .milliseconds(0))
        #expect(!refused.isAllowed && refused.remaining == 0)
        #expect(refused.retryAfterSeconds.map { (55...60).contains($0) } == true)
        for store in stores { await store.shutdown() }
    }

    @Test("Keys expire one window after the last admission; remove forgets them at once")
    func expiry() async throws {
        let redis = try RedisTestServer()
        let store = RedisRateLimitStore(configuration: try RedisConfiguration(url: redis.url), whenUnavailable: .refuse)
        let key = Self.keyID(1)
        let limit = try RateLimit(limit: 3, window: .seconds(30))
        #expect(try await store.acquire(key, cost: 2, limit: limit, at: .milliseconds(0)).remaining == 1)
        let ttl = try #require(Int(try redis.cli("PTTL", "sentry-auth:{\(key)}:window").dropLast()))
        #expect((29_000...30_001).contains(ttl), "\(ttl)")
        // The counter earlier versions kept beside the window goes too.
        try redis.cli("SET", "sentry-auth:{\(key)}:sequence", "7")
        try await store.remove(key)
        #expect(try redis.cli("EXISTS", "sentry-auth:{\(key)}:window", "sentry-auth:{\(key)}:sequence") == "0\n")
        #expect(try await store.acquire(key, cost: 3, limit: limit, at: .milliseconds(0)).isAllowed)
        await store.shutdown()
    }

    @Test("A script Redis lost (SCRIPT FLUSH, a restart) is sent again with EVAL")
    func lostScript() async throws {
        let redis = try RedisTestServer()
        let store = RedisRateLimitStore(configuration: try RedisConfiguration(url: redis.url), whenUnavailable: .refuse)
        let key = Self.keyID(2)
        #expect(try await store.acquire(key, cost: 1, limit: .default, at: .milliseconds(0)).remaining == 59)
        try redis.cli("SCRIPT", "FLUSH")
        #expect(try await store.acquire(key, cost: 1, limit: .default, at: .milliseconds(0)).remaining == 58)
        #expect(try await store.acquire(key, cost: 1, limit: .default, at: .milliseconds(0)).remaining == 57)
        await store.shutdown()
    }

    @Test(
        "Redis down: the local limiter goes on from Redis's last answer (logged once, counted); its admissions are written back"
    )
    func fallback() async throws {
        let redis = try RedisTestServer()
        let metrics = TestMetrics()
        let logs = LogCapture()
        let store = RedisRateLimitStore(
            configuration: try RedisConfiguration(url: redis.url), retryInterval: .milliseconds(100),
            logger: logs.logger, metricsFactory: metrics)
        let key = Self.keyID(3)
        let limit = try RateLimit(limit: 5, window: .seconds(60))
        #expect(try await store.acquire(key, cost: 2, limit: limit, at: .milliseconds(1_000)).remaining == 3)
        #expect(!store.isUsingFallback)

        redis.stop()
        // The local limiter starts from what Redis said (2 of 5 used): 3 more, with truthful headers,
        // never a fresh window.
        var local: [RateLimitDecision] = []
        for _ in 0..<7 { local.append(try await store.acquire(key, cost: 1, limit: limit, at: .milliseconds(2_000))) }
        #expect(local.map(\.isAllowed) == [true, true, true, false, false, false, false])
        #expect(local.map(\.remaining) == [2, 1, 0, 0, 0, 0, 0])
        // Refused until the units Redis admitted at 1 s leave the window at 61 s (to within the round
        // trip; Redis stores a time rounded up to its millisecond).
        let wait = try #require(local.last?.resetAfter)
        #expect(wait > .seconds(58) && wait <= .milliseconds(59_001))
        #expect(store.isUsingFallback)
        #expect(store.keysAwaitingWriteBack == 1)
        #expect(try metrics.expectCounter(RedisRateLimitStore.fallbackMetricLabel).totalValue == 7)
        #expect(logs.lines.filter { $0.contains("Redis is unavailable") }.count == 1)

        try redis.start()  // an empty Redis: no persistence; the 2 it admitted are lost
        try await Task.sleep(for: .milliseconds(150))
        let shared = try await store.acquire(key, cost: 1, limit: limit, at: .milliseconds(3_000))
        // Redis's count, which now holds the 3 local admissions written back with this request.
        #expect(shared.isAllowed && shared.remaining == 1)
        #expect(!store.isUsingFallback)
        #expect(store.keysAwaitingWriteBack == 0)
        #expect(logs.lines.contains { $0.contains("Redis answers again") })
        #expect(try redis.cli("ZCARD", "sentry-auth:{\(key)}:window") == "4\n")
        await store.shutdown()
    }

    @Test("Write-back is idempotent, skips admissions out of the window, and reaches keys no request touches")
    func writeBackRules() async throws {
        let redis = try RedisTestServer()
        let store = RedisRateLimitStore(
            configuration: try RedisConfiguration(url: redis.url), retryInterval: .milliseconds(100))
        let limit = try RateLimit(limit: 10, window: .seconds(2))
        let quiet = Self.keyID(4)
        let busy = Self.keyID(5)
        for key in [quiet, busy] {
            #expect(try await store.acquire(key, cost: 1, limit: limit, at: .milliseconds(10_000)).remaining == 9)
        }
        redis.stop()
        for key in [quiet, busy] {
            for _ in 0..<4 { _ = try await store.acquire(key, cost: 1, limit: limit, at: .milliseconds(10_100)) }
        }
        #expect(store.keysAwaitingWriteBack == 2)
        try redis.start()
        try await Task.sleep(for: .milliseconds(150))
        // One request for `busy` brings Redis back: `quiet`'s admissions follow without a request of its own.
        #expect(try await store.acquire(busy, cost: 1, limit: limit, at: .milliseconds(10_200)).remaining == 5)
        for _ in 0..<200 where store.keysAwaitingWriteBack > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(store.keysAwaitingWriteBack == 0)
        #expect(try redis.cli("ZCARD", "sentry-auth:{\(quiet)}:window") == "4\n")
        #expect(try await store.acquire(quiet, cost: 0, limit: limit, at: .milliseconds(10_300)).remaining == 6)
        // Sent twice (a reply lost after Redis applied it), a unit is added once; one already out of the
        // window is not added at all.
        let time = try redis.cli("TIME").split(separator: "\n").compactMap { Int($0) }
        let now = time[0] * 1000 + time[1] / 1000
        for _ in 0..<2 {
            try redis.cli(
                "EVAL", RedisRateLimitStore.script, "1", "t:{x}:window", "10", "2000", "0", "", "0", "",
                String(now), "other:7", String(now - 5_000), "other:8")
        }
        #expect(try redis.cli("ZRANGE", "t:{x}:window", "0", "-1") == "other:7\n")
        await store.shutdown()
    }

    @Test("Redis down, configured to refuse: the gate answers 503 with Retry-After")
    func refuseWhenDown() async throws {
        let redis = try RedisTestServer()
        let store = RedisRateLimitStore(configuration: try RedisConfiguration(url: redis.url), whenUnavailable: .refuse)
        let keys = InMemoryKeyStore()
        let created = try await KeyManager(store: keys).create(
            for: MerchantID("merchant_1")!, name: "k", scopes: [.customerRead])
        let gate = RequestGate(keys: keys, policy: .sentry, rateLimits: store)
        let request = GateRequest(
            method: "GET", target: "/public/api/v1/customers",
            authorization: ["Bearer \(created.key.revealSecret())"], clientAddress: nil)
        #expect(try await gate.evaluate(request).status == 200)
        redis.stop()
        let down = try await gate.evaluate(request)
        guard case .refused(let refusal) = down else {
            Issue.record("allowed while Redis was down")
            return
        }
        #expect(refusal.status == 503 && refusal.code == .serviceUnavailable)
        #expect(refusal.headers.contains(HTTPHeaderField(name: "Retry-After", value: "2")))
        await store.shutdown()
    }

    @Test("2,000 concurrent commands pipelined on two connections: every reply reaches its own command")
    func pipelining() async throws {
        let redis = try RedisTestServer()
        var configuration = try RedisConfiguration(url: redis.url)
        configuration.connectionCount = 2
        configuration.commandTimeout = .seconds(10)
        let pool = RedisConnectionPool(configuration: configuration)
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<2_000 {
                group.addTask {
                    // Replies of different types and lengths, so a reply matched to the wrong command shows.
                    let text = String(repeating: "x", count: index % 50) + String(index)
                    let echoed = try await pool.send(RESPCommand("ECHO", text))
                    let counted = try await pool.send(RESPCommand("INCRBY", "pipelining", String(index)))
                    return (echoed.string == text ? 0 : 1) + (counted.integer.map { $0 >= index } == true ? 0 : 1)
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(try await pool.send(RESPCommand("GET", "pipelining")).string == String((0..<2_000).reduce(0, +)))
        await pool.shutdown()
    }

    @Test("A server that does not answer: the command times out, then the pool reconnects")
    func timeout() async throws {
        let redis = try RedisTestServer()
        var configuration = try RedisConfiguration(url: redis.url)
        configuration.commandTimeout = .milliseconds(200)
        configuration.connectionCount = 1
        let pool = RedisConnectionPool(configuration: configuration)
        #expect(try await pool.send(RESPCommand("PING")) == .simpleString("PONG"))
        // DEBUG SLEEP, sent on another connection, blocks the server for 1 s: the next reply is late.
        var patient = try RedisConfiguration(url: redis.url)
        patient.commandTimeout = .seconds(10)
        let other = RedisConnectionPool(configuration: patient)
        async let blocked = try? await other.send(RESPCommand("DEBUG", "SLEEP", "1"))
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        await #expect(throws: RedisError.timeout) { try await pool.send(RESPCommand("PING")) }
        #expect(ContinuousClock.now - started < .milliseconds(900))
        #expect(await blocked == .simpleString("OK"))
        // The timed-out connection was closed; the next command gets a new one.
        #expect(try await pool.send(RESPCommand("PING")) == .simpleString("PONG"))
        await pool.shutdown()
        await other.shutdown()
    }
}
