import SentryAuth
import Testing

@testable import SentryAuthRedis

@Suite("The fallback's windows: started from Redis's answer, never freeing a unit before Redis would")
struct FallbackWindowsTests {
    /// What the script returns about a window: the stamps at ranks ⌈i·used/k⌉ − 1 (k = min(8, used)).
    static func boundaries(_ stamps: [Int64]) -> [Int64] {
        let groups = min(8, stamps.count)
        return (0..<groups).map { stamps[((($0 + 1) * stamps.count) + groups - 1) / groups - 1] }
    }

    @Test("Against the exact schedule: never more quota than Redis's window leaves, and exactly it up to 8 units")
    func conservativeAgainstOracle() throws {
        var generator = SystemRandomNumberGenerator()
        let limit = try RateLimit(limit: 60, window: .seconds(60))
        for trial in 0..<300 {
            let windows = FallbackWindows(instance: "t")
            let key = APIKeyID.generate()
            // Redis's window at Redis time 1,000,000: `used` units admitted within the last minute.
            let used = trial % 61
            let stamps = (0..<used).map { _ in Int64.random(in: 940_001...1_000_000, using: &generator) }.sorted()
            let offset = Int64.random(in: -1_000_000...1_000_000, using: &generator)  // Redis − local
            windows.remember(
                key, limit: limit, used: used, stamps: Self.boundaries(stamps), redisNow: 1_000_000,
                at: 1_000_000 - offset, written: [])
            // At every second of the next minute, report-only: the true remaining quota is the limit
            // minus the units whose stamp + window is still ahead.
            for second in stride(from: Int64(0), through: 61_000, by: 1_000) {
                let redisTime = 1_000_000 + second
                let inWindow = stamps.filter { $0 + 60_000 > redisTime }.count
                let decision = windows.acquire(key, cost: 0, limit: limit, at: redisTime - offset)
                #expect(decision.remaining <= 60 - inWindow, "trial \(trial), +\(second) ms")
                if used <= 8 { #expect(decision.remaining == 60 - inWindow, "trial \(trial), +\(second) ms") }
            }
        }
    }

    @Test("Answers with counts only (between stamped ones) never make the fallback admit more than Redis would")
    func countsOnly() throws {
        var generator = SystemRandomNumberGenerator()
        let limit = try RateLimit(limit: 60, window: .seconds(60))
        for trial in 0..<200 {
            let windows = FallbackWindows(instance: "t")
            let key = APIKeyID.generate()
            var stamps = (0..<(trial % 40)).map { _ in Int64.random(in: 940_001...1_000_000, using: &generator) }
                .sorted()
            windows.remember(
                key, limit: limit, used: stamps.count, stamps: Self.boundaries(stamps), redisNow: 1_000_000,
                at: 1_000_000, written: [])
            // Over the next 90 s others admit units now and then; this instance hears counts only.
            var now: Int64 = 1_000_000
            for _ in 0..<30 {
                now += Int64.random(in: 1...3_000, using: &generator)
                stamps.removeAll { $0 + 60_000 <= now }
                if stamps.count < 60, Bool.random(using: &generator) { stamps.append(now) }
                windows.remember(
                    key, limit: limit, used: stamps.count, stamps: nil, redisNow: now, at: now, written: [])
                for ahead in stride(from: Int64(0), through: 60_000, by: 5_000) {
                    let inWindow = stamps.filter { $0 + 60_000 > now + ahead }.count
                    #expect(
                        windows.acquire(key, cost: 0, limit: limit, at: now + ahead).remaining <= 60 - inWindow,
                        "trial \(trial)")
                }
            }
        }
    }

    @Test("Local admissions count with the remembered units; a refusal waits until enough of them leave")
    func localAdmissions() throws {
        let windows = FallbackWindows(instance: "t")
        let key = APIKeyID.generate()
        let limit = try RateLimit(limit: 5, window: .seconds(10))
        // Redis counted 3 units, stamped at 1,000, 2,000 and 3,000 (Redis and local clocks agree here).
        windows.remember(
            key, limit: limit, used: 3, stamps: [1_000, 2_000, 3_000], redisNow: 3_000, at: 3_000, written: [])
        let first = windows.acquire(key, cost: 2, limit: limit, at: 4_000)
        #expect(first.isAllowed && first.remaining == 0 && first.resetAfter == .seconds(7))
        let refused = windows.acquire(key, cost: 2, limit: limit, at: 5_000)
        // Two units must leave: those of 1,000 and 2,000, at 12,000.
        #expect(!refused.isAllowed && refused.remaining == 0 && refused.resetAfter == .seconds(7))
        #expect(windows.pending(key).count == 2)
        // An older answer arriving late (another connection) does not replace the newer one.
        windows.remember(key, limit: limit, used: 1, stamps: [1_000], redisNow: 2_500, at: 2_500, written: [])
        #expect(!windows.acquire(key, cost: 1, limit: limit, at: 6_000).isAllowed)
        // Written back with the next run: Redis counts them, the instance forgets them.
        windows.remember(
            key, limit: limit, used: 5, stamps: [1_000, 2_000, 3_000, 4_000, 4_000], redisNow: 6_500, at: 6_500,
            written: windows.pending(key))
        #expect(windows.pending(key).isEmpty)
        #expect(windows.acquire(key, cost: 1, limit: limit, at: 11_000).isAllowed)  // 1,000's unit left at 11,000
    }

    @Test("Bounded: beyond its capacity other keys are forgotten, never the one being decided")
    func bounded() throws {
        let windows = FallbackWindows(instance: "t", capacity: 160)
        let limit = try RateLimit(limit: 5, window: .seconds(1))
        for index in 0..<1_000 {
            windows.remember(
                .generate(), limit: limit, used: 1, stamps: [Int64(index)], redisNow: Int64(index), at: Int64(index),
                written: [])
        }
        #expect(windows.count <= 160)
        // Full, and a key decided only in the fallback is still limited: it is tracked.
        let fresh = APIKeyID.generate()
        let decisions = (0..<8).map { _ in windows.acquire(fresh, cost: 1, limit: limit, at: 2_000).isAllowed }
        #expect(decisions == [true, true, true, true, true, false, false, false])
        #expect(windows.count <= 160)
    }
}
