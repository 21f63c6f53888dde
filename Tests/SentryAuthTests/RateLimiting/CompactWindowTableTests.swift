import Testing

@testable import SentryAuth

@Suite("Compact window table")
struct CompactWindowTableTests {
    @Test("Agrees with a brute-force sliding log: 200,000 requests over 3,000 keys with random compact limits")
    func oracle() throws {
        var random = SplitMix64(seed: 24)
        let store = InMemoryRateLimitStore<Int>()
        let keys = 3_000
        let limits = try (0..<keys).map { _ in
            try RateLimit(
                limit: Int(random.next() % 60) + 1,
                window: .milliseconds(Int64([50, 1_000, 60_000, 65_534][Int(random.next() % 4)])))
        }
        var oracles = limits.map {
            SlidingWindowOracle(limit: $0.limit, windowMilliseconds: UInt64($0.windowMilliseconds))
        }
        var now: UInt64 = 10_000
        var mismatches: [String] = []
        var allowed = 0
        for event in 0..<200_000 {
            now += random.next() % 4 == 0 ? random.next() % 50 : 0
            if random.next() % 20_000 == 0 { now += 70_000 }  // everything goes idle: sweeps forget keys
            let key = Int(random.next() % UInt64(random.next() % 2 == 0 ? 50 : keys))
            let limit = limits[key]
            let cost = random.next() % 8 == 0 ? Int(random.next() % UInt64(limit.limit + 1)) : 1
            let expected = oracles[key].acquire(cost: cost, at: now)
            let actual = try store.acquireNow(key, cost: cost, limit: limit, at: .milliseconds(now)).answer
            if expected != actual && mismatches.count < 10 {
                mismatches.append("event \(event) key \(key) \(limit) cost \(cost) at \(now): \(actual) vs \(expected)")
            }
            if actual.allowed { allowed += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(allowed > 50_000 && allowed < 190_000)
    }

    @Test("A removed key starts afresh; its other keys in the probe run stay where a probe finds them")
    func removal() throws {
        let table = CompactWindowTable<CompactExactWindow>()
        let limit = try RateLimit(limit: 2, window: .seconds(60))
        // Many keys in one shard (same low 6 bits) and few home slots: long probe runs.
        let hashes = (0..<2_000).map { UInt64($0) << 6 | 5 }
        for hash in hashes {
            #expect(table.acquire(hash: hash, secondHash: hash, limit: limit, cost: 2, at: .milliseconds(1)).isAllowed)
        }
        #expect(table.count == 2_000)
        for hash in hashes where hash % 3 == 0 { #expect(table.remove(hash: hash, secondHash: hash) == 1) }
        for hash in hashes {
            let decision = table.acquire(hash: hash, secondHash: hash, limit: limit, cost: 1, at: .milliseconds(2))
            // Removed keys start a new window; every other key still has its two units spent.
            #expect(decision.isAllowed == (hash % 3 == 0), "\(hash)")
        }
        #expect(table.remove(hash: 12_345 << 6, secondHash: 1) == 0)
    }

    @Test("A key under two limits has two windows; removal forgets both")
    func limitsAreSeparate() throws {
        let table = CompactWindowTable<CompactExactWindow>()
        let one = try RateLimit(limit: 1, window: .seconds(60))
        let two = try RateLimit(limit: 2, window: .seconds(60))
        #expect(table.acquire(hash: 7, secondHash: 9, limit: one, cost: 1, at: .milliseconds(1)).isAllowed)
        #expect(!table.acquire(hash: 7, secondHash: 9, limit: one, cost: 1, at: .milliseconds(1)).isAllowed)
        #expect(table.acquire(hash: 7, secondHash: 9, limit: two, cost: 1, at: .milliseconds(1)).remaining == 1)
        // The same first hash with another second hash is another key.
        #expect(table.acquire(hash: 7, secondHash: 10, limit: one, cost: 1, at: .milliseconds(1)).isAllowed)
        #expect(table.remove(hash: 7, secondHash: 9) == 2)
        #expect(table.count == 1)
    }

    @Test("Growth and sweeps keep few mappings: 400,000 keys in turn, and 200,000 at once")
    func mappings() throws {
        let table = CompactWindowTable<CompactExactWindow>()
        let limit = try RateLimit(limit: 3, window: .seconds(1))
        var random = SplitMix64(seed: 7)
        // 400,000 keys, 100 a millisecond: about 100,000 are active at any time.
        for index in 0..<400_000 {
            let hash = random.next()
            _ = table.acquire(
                hash: hash, secondHash: hash, limit: limit, cost: 1, at: .milliseconds(UInt64(index / 100)))
        }
        #expect(table.count <= 200_000)
        // A shard made one mapping per capacity class it grew through (8 an octave from 16 slots): at
        // most ~3,400 keys a shard (7/8 of 3,840 slots, class 62) and never more than one table a class.
        #expect(table.mappingCount <= 64 * 64, "\(table.mappingCount)")
        let active = table.count
        #expect(table.sweep(at: .milliseconds(10_000)) == active)
        #expect(table.count == 0)
        for _ in 0..<400_000 {
            let hash = random.next()
            _ = table.acquire(hash: hash, secondHash: hash, limit: limit, cost: 1, at: .milliseconds(20_000))
        }
        // Sweeping did not shrink the tables; refilling grew them on from there (class 72: 8,192 slots
        // hold the ~6,250 keys of a shard), so every shard has made at most one mapping a class.
        #expect(table.count == 400_000)
        #expect(table.mappingCount <= 64 * 74, "\(table.mappingCount)")
    }

    @Test(
        "Threads on hot keys while others add, remove and sweep keys (forcing growth): each hot key admits exactly its limit",
        arguments: [RateLimitAlgorithm.exact, .approximate])
    func concurrency(algorithm: RateLimitAlgorithm) async throws {
        switch algorithm {
        case .exact: try await Self.concurrency(CompactWindowTable<CompactExactWindow>())
        case .approximate: try await Self.concurrency(CompactWindowTable<CompactApproximateWindow>())
        }
    }

    static func concurrency<Window>(_ table: CompactWindowTable<Window>) async throws {
        let limit = try RateLimit(limit: 50, window: .seconds(60))
        let hot = (0..<32).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        let admitted = await withTaskGroup(of: [Int].self) { group in
            for worker in 0..<3 {
                group.addTask {
                    var counts = [Int](repeating: 0, count: 32)
                    for attempt in 0..<6_000 {
                        let index = (attempt &* 7 &+ worker) % 32
                        if table.acquire(
                            hash: hot[index], secondHash: 1, limit: limit, cost: 1, at: .milliseconds(5)
                        ).isAllowed {
                            counts[index] += 1
                        }
                    }
                    return counts
                }
            }
            group.addTask {
                var random = SplitMix64(seed: 99)
                for round in 0..<60_000 {
                    let hash = random.next()
                    _ = table.acquire(hash: hash, secondHash: 2, limit: limit, cost: 1, at: .milliseconds(5))
                    if round % 3 == 0 { table.remove(hash: hash, secondHash: 2) }
                    if round % 10_000 == 0 { _ = table.sweep(at: .milliseconds(5)) }
                }
                return []
            }
            return await group.reduce(into: [Int](repeating: 0, count: 32)) { total, counts in
                for (index, count) in counts.enumerated() { total[index] += count }
            }
        }
        #expect(admitted == [Int](repeating: 50, count: 32))
        #expect(table.count == 32 + 40_000)
    }

    @Test("The approximate table decides exactly as ApproximateSlidingWindowLimiter: 100,000 requests over 2,000 keys")
    func approximateOracle() throws {
        var random = SplitMix64(seed: 25)
        let store = InMemoryRateLimitStore<Int>(algorithm: .approximate)
        let limits = try (0..<2_000).map { _ in
            try RateLimit(
                limit: [1, 10, 60, 1_000, 100_000][Int(random.next() % 5)],
                window: .milliseconds(Int64([1, 1_000, 60_000, 86_400_000][Int(random.next() % 4)])))
        }
        let limiters = limits.map { ApproximateSlidingWindowLimiter(limit: $0) }
        var now: UInt64 = 5_000_000
        var mismatches: [String] = []
        var allowed = 0
        for event in 0..<100_000 {
            now += random.next() % 3 == 0 ? random.next() % 2_000 : 0
            // Twice everything goes idle (two days: past the longest window twice), so sweeps forget keys;
            // the whole run stays under 2²⁹ windows of 1 ms, where the limiter's window index wraps.
            if event == 30_000 || event == 60_000 { now += 180_000_000 }
            let key = Int(random.next() % UInt64(random.next() % 2 == 0 ? 40 : 2_000))
            let limit = limits[key]
            let cost = random.next() % 8 == 0 ? Int(random.next() % UInt64(min(limit.limit, 100) + 1)) : 1
            let instant = MonotonicInstant(nanoseconds: now * 1_000_000 + random.next() % 1_000_000)
            let expected = try limiters[key].acquire(cost: cost, at: instant)
            let actual = try store.acquireNow(key, cost: cost, limit: limit, at: instant)
            if expected != actual && mismatches.count < 10 {
                mismatches.append("event \(event) key \(key) \(limit) cost \(cost): \(actual) vs \(expected)")
            }
            if actual.isAllowed { allowed += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(allowed > 20_000 && allowed < 99_000)
    }
}
