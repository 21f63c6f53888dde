@testable import SentryAuth

/// A brute-force exact sliding log: every admitted unit's time, scanned on every request.
/// Obviously correct, slow, and independent of the lock-free ring it checks.
struct SlidingWindowOracle {
    let limit: Int
    let windowMilliseconds: UInt64
    var units: [UInt64] = []  // admission time (ms) of every admitted unit still possibly inside, in order
    var start = 0  // units before this index have left the window for good (times only grow here)

    struct Answer: Equatable {
        var allowed: Bool
        var remaining: Int
        var resetMilliseconds: UInt64
    }

    mutating func acquire(cost: Int, at now: UInt64) -> Answer {
        while start < units.count && units[start] + windowMilliseconds <= now { start += 1 }
        if start > 4096 {
            units.removeFirst(start)
            start = 0
        }
        let inside = units[start...].filter { $0 + windowMilliseconds > now }
        if inside.count + cost <= limit {
            units.append(contentsOf: repeatElement(now, count: cost))
            let after = inside + repeatElement(now, count: cost)
            let reset = after.first.map { $0 + windowMilliseconds - now } ?? 0
            return Answer(allowed: true, remaining: limit - after.count, resetMilliseconds: reset)
        }
        // The (inside + cost − limit)-th oldest unit inside must leave the window.
        let mustLeave = inside[inside.count + cost - limit - 1]
        return Answer(
            allowed: false, remaining: limit - inside.count, resetMilliseconds: mustLeave + windowMilliseconds - now)
    }
}

extension RateLimitDecision {
    var answer: SlidingWindowOracle.Answer {
        SlidingWindowOracle.Answer(
            allowed: isAllowed, remaining: remaining, resetMilliseconds: UInt64(resetAfter.nanoseconds / 1_000_000))
    }
}
