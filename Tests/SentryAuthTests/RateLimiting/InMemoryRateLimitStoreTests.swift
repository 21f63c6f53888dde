import Testing

@testable import SentryAuth

@Suite("In-memory rate-limit store")
struct InMemoryRateLimitStoreTests {
    @Test("Keys are independent; a changed limit starts a new window")
    func keys() throws {
        let store = InMemoryRateLimitStore<String>()
        let limit = try RateLimit(limit: 2, window: .seconds(60))
        for _ in 0..<2 { #expect(try store.acquireNow("a", limit: limit, at: .milliseconds(0)).isAllowed) }
        #expect(try !store.acquireNow("a", limit: limit, at: .milliseconds(1)).isAllowed)
        #expect(try store.acquireNow("b", limit: limit, at: .milliseconds(1)).isAllowed)
        let wider = try RateLimit(limit: 3, window: .seconds(60))
        #expect(try store.acquireNow("a", limit: wider, at: .milliseconds(2)).remaining == 2)
        #expect(throws: RateLimitError.invalidCost(cost: 4, limit: 3)) {
            try store.acquireNow("a", cost: 4, limit: wider, at: .milliseconds(2))
        }
    }

    @Test("Idle keys are forgotten after a full window; active ones are kept", arguments: RateLimitAlgorithm.allCases)
    func idleEviction(algorithm: RateLimitAlgorithm) throws {
        let store = InMemoryRateLimitStore<Int>(algorithm: algorithm)
        let limit = try RateLimit(limit: 5, window: .seconds(1))
        for key in 0..<100 { _ = try store.acquireNow(key, limit: limit, at: .milliseconds(0)) }
        _ = try store.acquireNow(7, limit: limit, at: .milliseconds(1_500))
        #expect(store.count == 100)
        let removed = store.removeIdle(at: .milliseconds(2_100))
        #expect(removed == 99)
        #expect(store.count == 1)
        // A forgotten key starts afresh.
        #expect(try store.acquireNow(3, limit: limit, at: .milliseconds(2_100)).remaining == 4)
    }

    @Test("Memory stays bounded: the amortized sweep forgets idle keys as new ones arrive")
    func boundedMemory() throws {
        let store = InMemoryRateLimitStore<Int>()
        let limit = try RateLimit(limit: 1, window: .milliseconds(10))
        // 200,000 distinct keys, each used once, 1 ms apart: at most ~10 are active at any time.
        for key in 0..<200_000 { _ = try store.acquireNow(key, limit: limit, at: .milliseconds(UInt64(key))) }
        #expect(store.count < 64 * 2_100)
        #expect(store.removeIdle(at: .milliseconds(300_000)) > 0)
        #expect(store.count == 0)
    }

    @Test("Removing a key (revoked) drops its state at once; racing checks retry on a fresh limiter")
    func removal() async throws {
        let store = InMemoryRateLimitStore<String>()
        let limit = try RateLimit(limit: 1, window: .seconds(60))
        #expect(try await store.acquire("k", cost: 1, limit: limit, at: .milliseconds(0)).isAllowed)
        await store.remove("k")
        #expect(store.count == 0)
        #expect(try await store.acquire("k", cost: 1, limit: limit, at: .milliseconds(1)).isAllowed)
    }

    @Test("Frozen clock, 8 tasks, 16 keys through the store: each key admits exactly its limit")
    func storeConcurrency() async throws {
        let store = InMemoryRateLimitStore<Int>()
        let limit = try RateLimit(limit: 25, window: .seconds(60))
        let perKey = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var counts = [Int](repeating: 0, count: 16)
                    for attempt in 0..<800
                    where try store.acquireNow(attempt % 16, limit: limit, at: .milliseconds(9)).isAllowed {
                        counts[attempt % 16] += 1
                    }
                    return counts
                }
            }
            return try await group.reduce(into: [Int](repeating: 0, count: 16)) { total, counts in
                for index in 0..<16 { total[index] += counts[index] }
            }
        }
        #expect(perKey == [Int](repeating: 25, count: 16))
    }
}

@Suite("In-memory rate-limit store: key hashes")
struct InMemoryRateLimitStoreHashTests {
    @Test("The first hash is the key's hashValue; the second differs from it and between keys")
    func hashes() {
        let keys = ["key_0123456789abcdef01234567", "key_0123456789abcdef01234568", "a", ""]
        let hashes = keys.map { InMemoryRateLimitStore<String>.hashes(of: $0) }
        #expect(hashes.map(\.first) == keys.map(\.hashValue))
        #expect(Set(hashes.map(\.second)).count == keys.count)
        #expect(hashes.allSatisfy { UInt64(bitPattern: Int64($0.first)) != $0.second })
    }
}
