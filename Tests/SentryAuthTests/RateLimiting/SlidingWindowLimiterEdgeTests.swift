import Synchronization
import Testing

@testable import SentryAuth

@Suite("Exact limiter: wraparound, stalled writers, sweeps")
struct SlidingWindowLimiterEdgeTests {
    @Test(
        "Across the 2²⁴ wraparound of unit numbers the decisions equal the brute-force oracle's",
        arguments: [(1, UInt64(1 << 24) - 3), (7, UInt64(1 << 24) - 100), (60, UInt64(1 << 24) - 1), (64, 0xFF_FFC0)])
    func wraparound(limit: Int, firstUnit: UInt64) throws {
        let rateLimit = try RateLimit(limit: limit, window: .milliseconds(1_000))
        let limiter = SlidingWindowLimiter(limit: rateLimit, firstUnit: firstUnit)
        var oracle = SlidingWindowOracle(limit: limit, windowMilliseconds: 1_000)
        var random = SplitMix64(seed: UInt64(limit))
        var now: UInt64 = 10_000
        var admitted = 0
        for event in 0..<20_000 {
            now += random.next() % 40
            let cost = Int(random.next() % UInt64(min(limit, 3))) + 1
            let expected = oracle.acquire(cost: cost, at: now)
            let actual = try limiter.acquire(cost: cost, at: .milliseconds(now)).answer
            #expect(actual == expected, "event \(event) at \(now)")
            if actual != expected { return }
            if actual.allowed { admitted += cost }
        }
        // The run crossed the wraparound: more units were admitted than were left before it.
        #expect(UInt64(admitted) > (1 << 24) - firstUnit)
    }

    @Test("A stalled writer makes the limiter refuse conservatively, never over-admit; then it recovers")
    func stalledWriter() throws {
        let limiter = SlidingWindowLimiter(limit: try RateLimit(limit: 2, window: .milliseconds(1_000)))
        #expect(limiter.acquire(at: .milliseconds(1_000)).isAllowed)
        #expect(limiter.acquire(at: .milliseconds(1_001)).isAllowed)
        // Another thread claims unit 2 (the counter moves) but stalls before writing its slot.
        let word = limiter.counter.load(ordering: .acquiring)
        let stamp: UInt64 = 5_000 + 1
        limiter.counter.store(stamp << 24 | 3, ordering: .releasing)
        #expect(word & SlidingWindowLimiter.tagMask == 2)
        // Unit 3 needs unit 1's slot (written) — fine; unit 4 needs unit 2's slot (not yet written): refuse.
        let fourth = limiter.acquire(at: .milliseconds(5_000))
        #expect(fourth.isAllowed)  // unit 3: unit 1 (at 1,001) left the window
        let blocked = limiter.acquire(at: .milliseconds(5_000))
        #expect(!blocked.isAllowed && blocked.resetAfter == .milliseconds(1))
        // The writer finishes: the limiter decides exactly again (unit 2 at 5,000 is inside: refused
        // for 1,000 ms; at 6,000 it has left).
        limiter.slots[2 & Int(limiter.ringMask)].store(stamp << 24 | 2, ordering: .releasing)
        let after = limiter.acquire(at: .milliseconds(5_000))
        #expect(!after.isAllowed && after.resetAfter == .milliseconds(1_000))
        #expect(limiter.acquire(at: .milliseconds(6_000)).isAllowed)
    }

    @Test("Sweeps racing acquisitions never let a key exceed its limit in any window")
    func sweepRacingAcquire() async throws {
        let store = InMemoryRateLimitStore<APIKeyID>()
        let limit = try RateLimit(limit: 5, window: .milliseconds(100))
        let keys = (0..<8).map { APIKeyID("key_\($0)")! }
        final class Shared: Sendable {
            let clock = Atomic<UInt64>(1_000)
            let done = Atomic<Bool>(false)
        }
        let shared = Shared()
        let admissions = Locked<[APIKeyID: [UInt64]]>([:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // The sweeper: forgets idle keys as often as it can, while time moves on.
                while !shared.done.load(ordering: .relaxed) {
                    _ = store.removeIdle(at: .milliseconds(shared.clock.load(ordering: .relaxed)))
                    await Task.yield()
                }
            }
            for worker in 0..<4 {
                group.addTask {
                    var random = SplitMix64(seed: UInt64(worker))
                    for _ in 0..<5_000 {
                        // Bursts then pauses longer than the window, so keys go idle and are swept.
                        let step: UInt64 = random.next() % 50 == 0 ? 150 : random.next() % 3
                        let now = shared.clock.add(step, ordering: .relaxed).newValue
                        let key = keys[Int(random.next() % UInt64(keys.count))]
                        if try store.acquireNow(key, limit: limit, at: .milliseconds(now)).isAllowed {
                            admissions.withLock { $0[key, default: []].append(now) }
                        }
                        if random.next() % 64 == 0 { await Task.yield() }
                    }
                }
            }
            for _ in 0..<4 { try await group.next() }
            shared.done.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        let all = admissions.withLock { $0 }
        #expect(all.values.map(\.count).reduce(0, +) > 100)
        for (key, times) in all {
            let sorted = times.sorted()
            var start = 0
            for end in sorted.indices {
                while sorted[end] - sorted[start] >= 100 { start += 1 }
                #expect(end - start + 1 <= 5, "\(key): \(end - start + 1) admissions in 100 ms")
            }
        }
    }
}

@Suite("Sliding window: reported times never exceed the window")
struct SlidingWindowResetBoundTests {
    @Test("An admission between two milliseconds reports Reset and t= of at most the window, allowed or refused")
    func subMillisecondInstants() throws {
        let limit = try RateLimit(limit: 3, window: .seconds(60))
        let limiter = SlidingWindowLimiter(limit: limit)
        // 1000.4 ms: checked as 1000, stored as 1001 — the case that read as 60.001 s, "Reset: 61".
        let instant = MonotonicInstant(nanoseconds: 1_000_400_000)
        for _ in 0..<3 {
            let allowed = limiter.acquire(at: instant)
            #expect(allowed.isAllowed)
            #expect(allowed.resetAfterMilliseconds <= 60_000)
            #expect(allowed.value(of: .reset) == "60")
            #expect(allowed.value(of: .rateLimit)?.hasSuffix(";t=60") == true)
        }
        let refused = limiter.acquire(at: instant)
        #expect(!refused.isAllowed)
        #expect(refused.resetAfterMilliseconds == 60_000)
        #expect(refused.retryAfterSeconds == 60)
        // The bound is a report, not a change of rule: one millisecond before the stored time plus
        // the window, the request is still refused; at it, admitted.
        #expect(!limiter.acquire(at: .milliseconds(61_000)).isAllowed)
        #expect(limiter.acquire(at: .milliseconds(61_001)).isAllowed)
    }
}
