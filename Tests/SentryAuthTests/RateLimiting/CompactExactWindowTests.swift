import Testing

@testable import SentryAuth

@Suite("Compact exact window")
struct CompactExactWindowTests {
    /// A window in its own 128 bytes, driven without a table.
    final class Window {
        var state: UInt64 = 0
        let stamps = UnsafeMutablePointer<UInt16>.allocate(capacity: CompactExactWindow.maximumLimit)

        init() { stamps.initialize(repeating: 0xDEAD, count: CompactExactWindow.maximumLimit) }
        deinit { stamps.deallocate() }

        func acquire(cost: Int, limit: RateLimit, at instant: MonotonicInstant) -> RateLimitDecision {
            let (decision, next) = CompactExactWindow.decide(
                state: state, stamps: stamps, limit: limit, cost: cost, at: instant)
            #expect(next >> 62 == 0)  // the table's lock and moved bits
            state = next
            return decision
        }
    }

    @Test("Which limits fit: at most 60 units in at most 65,534 ms")
    func fits() throws {
        #expect(CompactExactWindow.fits(.default))
        #expect(CompactExactWindow.fits(try RateLimit(limit: 60, window: .milliseconds(65_534))))
        #expect(!CompactExactWindow.fits(try RateLimit(limit: 61, window: .seconds(1))))
        #expect(!CompactExactWindow.fits(try RateLimit(limit: 1, window: .milliseconds(65_535))))
        #expect(MemoryLayout<UInt64>.size + CompactExactWindow.maximumLimit * 2 == CompactExactWindow.size)
    }

    @Test(
        "Decides exactly as SlidingWindowLimiter: 100,000 random requests, times off the millisecond, clocks stepping back",
        arguments: [1, 2, 3])
    func sameAsRing(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var mismatches: [String] = []
        var allowed = 0
        for round in 0..<100 {
            let limit = try RateLimit(
                limit: Int(random.next() % 60) + 1,
                window: .milliseconds(
                    Int64([1, 250, 1_000, 60_000, 65_534, Int(random.next() % 65_534) + 1][Int(random.next() % 6)])))
            let window = Window()
            let ring = SlidingWindowLimiter(limit: limit)
            // Nanoseconds; a request may come up to 3 s (but never past the documented bound) behind the latest.
            let slack = UInt64(min(3_000, 65_535 - limit.windowMilliseconds - 1)) * 1_000_000
            var latest: UInt64 = 1_000_000_000_000
            for step in 0..<1_000 {
                switch random.next() % 100 {
                case 0..<60: latest += random.next() % 2_000_000  // under 2 ms, off the millisecond
                case 60..<90: latest += random.next() % UInt64(limit.windowMilliseconds * 100_000 + 1)
                case 90..<97: latest += random.next() % 200_000_000_000  // up to 200 s: past 2¹⁶ ms
                default: break
                }
                let behind = random.next() % 10 == 0 ? random.next() % (slack + 1) : 0
                let instant = MonotonicInstant(nanoseconds: latest - behind)
                let cost = random.next() % 6 == 0 ? Int(random.next() % UInt64(limit.limit + 1)) : 1
                let expected = try ring.acquire(cost: cost, at: instant)
                let actual = window.acquire(cost: cost, limit: limit, at: instant)
                if expected != actual && mismatches.count < 10 {
                    mismatches.append(
                        "round \(round) step \(step) \(limit) cost \(cost): \(actual) vs ring \(expected)")
                }
                if actual.isAllowed { allowed += 1 }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(allowed > 10_000 && allowed < 95_000)
    }

    @Test("Every stored time decodes exactly across 2¹⁶ ms boundaries: a key at its limit for two hours")
    func wraparound() throws {
        let limit = try RateLimit(limit: 60, window: .seconds(60))
        let window = Window()
        var oracle = SlidingWindowOracle(limit: 60, windowMilliseconds: 60_000)
        var now: UInt64 = 65_000
        var admitted = 0
        while now < 2 * 3_600_000 + 65_000 {
            let expected = oracle.acquire(cost: 1, at: now)
            let actual = window.acquire(cost: 1, limit: limit, at: .milliseconds(now))
            #expect(actual.answer == expected)
            if actual.isAllowed { admitted += 1 }
            now += 397  // 151 a minute: refused most of the time
        }
        #expect((60 * 119...60 * 121).contains(admitted))
    }
}
