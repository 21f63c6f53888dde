import Foundation
import Synchronization
import Testing

@testable import SentryAuth

@Suite("Exact sliding-window limiter")
struct SlidingWindowLimiterTests {
    @Test("Agrees with a brute-force sliding log on 120,000 random events over 40 keys")
    func oracle() throws {
        var random = SplitMix64(seed: 60)
        let store = InMemoryRateLimitStore<Int>()
        let limits = [
            try RateLimit(limit: 1, window: .seconds(1)), try RateLimit(limit: 5, window: .milliseconds(250)),
            .default, try RateLimit(limit: 100, window: .seconds(10)),
            try RateLimit(limit: 7, window: .milliseconds(1)),
        ]
        var oracles = (0..<40).map {
            SlidingWindowOracle(
                limit: limits[$0 % 5].limit, windowMilliseconds: UInt64(limits[$0 % 5].window.nanoseconds / 1_000_000))
        }
        var now: UInt64 = 1_000
        var allowed = 0
        var mismatches: [String] = []
        for event in 0..<120_000 {
            // Gaps: mostly bursts (0 ms), some small, some exactly one window, some long.
            // Gaps average about 25 ms, so the 60-per-minute keys (1 event in 40) run near their limit.
            switch random.next() % 10_000 {
            case 0..<7_000: break
            case 7_000..<9_988: now += random.next() % 20
            case 9_988..<9_998: now += UInt64([1, 250, 1_000, 10_000, 60_000][Int(random.next() % 5)])
            default: now += random.next() % 70_000
            }
            let key = Int(random.next() % 40)  // 5 limits × 8 keys each
            let limit = limits[key % 5]
            let cost = random.next() % 8 == 0 ? Int(random.next() % UInt64(limit.limit + 1)) : 1
            let expected = oracles[key].acquire(cost: cost, at: now)
            let actual = try store.acquireNow(key, cost: cost, limit: limit, at: .milliseconds(now)).answer
            if expected != actual, mismatches.count < 10 {
                mismatches.append("event \(event) key \(key) cost \(cost) at \(now): \(actual) vs oracle \(expected)")
            }
            if actual.allowed { allowed += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        // Both answers occur often.
        #expect(allowed > 20_000 && allowed < 100_000)
    }

    @Test("Frozen clock: 8 tasks hammering one key get exactly the limit between them")
    func frozenClockConcurrency() async throws {
        for limitCount in [1, 60, 1_000] {
            let limiter = SlidingWindowLimiter(limit: try RateLimit(limit: limitCount, window: .seconds(60)))
            let admitted = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var count = 0
                        for _ in 0..<(limitCount / 2 + 200) where limiter.acquire(at: .milliseconds(5_000)).isAllowed {
                            count += 1
                        }
                        return count
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(admitted == limitCount)
        }
    }

    @Test("Advancing clock, 4 threads: no 100 ms window ever holds more than the limit")
    func advancingClockConcurrency() throws {
        let limit = try RateLimit(limit: 50, window: .milliseconds(100))
        let limiter = SlidingWindowLimiter(limit: limit)
        let clock = Atomic<UInt64>(0)
        let admissions = Locked<[UInt64]>([])
        runOnThreads(4) { _ in
            var mine: [UInt64] = []
            for _ in 0..<50_000 {
                // Each request moves time forward by 0–19 µs, shared by all threads.
                let now = clock.add(UInt64.random(in: 0..<20_000), ordering: .relaxed).newValue
                if limiter.acquire(at: MonotonicInstant(nanoseconds: now)).isAllowed { mine.append(now) }
            }
            admissions.withLock { $0.append(contentsOf: mine) }
        }
        let times = admissions.withLock { $0 }.map { $0 / 1_000_000 }.sorted()
        var worst = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= 100 { start += 1 }
            worst = max(worst, end - start + 1)
        }
        #expect(worst <= 50)
        #expect(times.count > 500)  // it did admit a lot, over many windows
    }

    @Test("Costs 0, 1, limit and limit + 1")
    func costs() throws {
        let limiter = SlidingWindowLimiter(limit: try RateLimit(limit: 10, window: .seconds(1)))
        let peek = try limiter.acquire(cost: 0, at: .milliseconds(0))
        #expect(peek.isAllowed && peek.remaining == 10 && peek.resetAfter == .zero)
        #expect(throws: RateLimitError.invalidCost(cost: 11, limit: 10)) {
            try limiter.acquire(cost: 11, at: .milliseconds(0))
        }
        #expect(throws: RateLimitError.invalidCost(cost: -1, limit: 10)) {
            try limiter.acquire(cost: -1, at: .milliseconds(0))
        }
        let whole = try limiter.acquire(cost: 10, at: .milliseconds(0))
        #expect(whole.isAllowed && whole.remaining == 0)
        let one = limiter.acquire(at: .milliseconds(999))
        #expect(!one.isAllowed && one.resetAfter == .milliseconds(1) && one.retryAfterSeconds == 1)
        #expect(try limiter.acquire(cost: 0, at: .milliseconds(999)).remaining == 0)
        #expect(try limiter.acquire(cost: 10, at: .milliseconds(1_000)).isAllowed)
        #expect(RateLimitError.invalidCost(cost: 11, limit: 10).description.contains("never be admitted"))
    }

    @Test("Limits of 1 and 10,000")
    func limitExtremes() throws {
        let one = SlidingWindowLimiter(limit: try RateLimit(limit: 1, window: .seconds(60)))
        #expect(one.acquire(at: .milliseconds(0)).isAllowed)
        let refused = one.acquire(at: .milliseconds(30_000))
        #expect(!refused.isAllowed && refused.resetAfter == .seconds(30) && refused.remaining == 0)
        #expect(one.acquire(at: .milliseconds(60_000)).isAllowed)
        let big = SlidingWindowLimiter(limit: try RateLimit(limit: 10_000, window: .seconds(1)))
        var admitted = 0
        for index in 0..<12_000 where big.acquire(at: .milliseconds(UInt64(index / 20))).isAllowed { admitted += 1 }
        #expect(admitted == 10_000)
        #expect(big.acquire(at: .milliseconds(1_000)).isAllowed)  // the first 20 (at 0 ms) have left
    }

    @Test("Windows of 1 ms and 1 day")
    func windowExtremes() throws {
        let tiny = SlidingWindowLimiter(limit: try RateLimit(limit: 2, window: .milliseconds(1)))
        #expect(tiny.acquire(at: .milliseconds(7)).isAllowed)
        #expect(tiny.acquire(at: MonotonicInstant(nanoseconds: 7_400_000)).isAllowed)
        #expect(!tiny.acquire(at: MonotonicInstant(nanoseconds: 7_900_000)).isAllowed)
        #expect(tiny.acquire(at: .milliseconds(8)).isAllowed)
        let day = SlidingWindowLimiter(limit: try RateLimit(limit: 3, window: .seconds(86_400)))
        for hour in 0..<3 { #expect(day.acquire(at: .milliseconds(UInt64(hour) * 3_600_000)).isAllowed) }
        let refused = day.acquire(at: .milliseconds(23 * 3_600_000))
        #expect(!refused.isAllowed && refused.resetAfter == .seconds(3_600) && refused.retryAfterSeconds == 3_600)
        #expect(day.acquire(at: .milliseconds(86_400_000)).isAllowed)
    }

    @Test("A clock stepping backwards never admits more, and stored time never runs backwards")
    func backwardsClock() throws {
        let limiter = SlidingWindowLimiter(limit: try RateLimit(limit: 2, window: .seconds(10)))
        #expect(limiter.acquire(at: .milliseconds(100_000)).isAllowed)
        #expect(limiter.acquire(at: .milliseconds(50_000)).isAllowed)  // stored as 100 000
        #expect(!limiter.acquire(at: .milliseconds(105_000)).isAllowed)
        // Both units count as admitted at 100 000: both leave at 110 000, not 60 000.
        #expect(!limiter.acquire(at: .milliseconds(109_999)).isAllowed)
        #expect(try limiter.acquire(cost: 2, at: .milliseconds(110_000)).isAllowed)
        // A request judged at an earlier time than the last admission sees at least as much in use.
        #expect(!limiter.acquire(at: .milliseconds(1)).isAllowed)
    }

    @Test("Header values at the edges: remaining 0, reset exactly at a boundary")
    func headerEdges() throws {
        let limiter = SlidingWindowLimiter(limit: try RateLimit(limit: 2, window: .seconds(60)))
        let first = limiter.acquire(at: .milliseconds(0))
        #expect(first.remaining == 1 && first.resetAfter == .seconds(60) && first.resetSeconds == 60)
        let second = limiter.acquire(at: .milliseconds(59_000))
        #expect(second.remaining == 0 && second.resetAfter == .seconds(1) && second.resetSeconds == 1)
        let limited = limiter.acquire(at: .milliseconds(59_500))
        #expect(!limited.isAllowed && limited.remaining == 0 && limited.resetAfter == .milliseconds(500))
        #expect(limited.retryAfterSeconds == 1)  // rounded up, at least 1
        let headers = Dictionary(uniqueKeysWithValues: limited.headers.map { ($0.name, $0.value) })
        #expect(
            headers == [
                "X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1",
                "RateLimit-Policy": "\"default\";q=2;w=60", "RateLimit": "\"default\";r=0;t=1", "Retry-After": "1",
            ])
        // Exactly at the boundary the first unit has left: allowed, and the window's oldest is at 59 s.
        let boundary = limiter.acquire(at: .milliseconds(60_000))
        #expect(boundary.isAllowed && boundary.remaining == 0 && boundary.resetAfter == .seconds(59))
        #expect(!boundary.headers.contains { $0.name == "Retry-After" })
        // Retry rounding: 59.001 s → 60.
        let late = limiter.acquire(at: MonotonicInstant(nanoseconds: 60_000_000_000 - 1))
        #expect(!late.isAllowed && late.retryAfterSeconds == 60)
    }
}
