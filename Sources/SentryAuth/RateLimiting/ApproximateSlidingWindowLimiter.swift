import Synchronization

/// A lighter, approximate sliding-window limiter for one key: Cloudflare's two-counter estimate,
/// packed into a single 64-bit atomic word.
///
/// The window is divided into fixed windows of the limit's length. The limiter counts admissions in
/// the current and the previous fixed window and estimates the sliding count as
/// `previous × (window − elapsed) / window + current`, rounded up; a request of cost `c` is admitted
/// when the estimate plus `c` stays within the limit. The word holds the fixed-window index
/// (30 bits), the previous count (17 bits) and the current count (17 bits), and is updated with one
/// compare-and-swap: lock-free, allocation-free, 8 bytes of state.
///
/// ## Error
///
/// The estimate assumes the previous fixed window's requests were spread evenly. When they were not,
/// it errs in both directions, and in the worst case it over-admits by almost the whole limit:
///
/// - **Worst case:** if all `limit` requests of one fixed window come at its very end, the estimate
///   lets requests back in at a rate that adds nearly `limit` more by the end of the next fixed
///   window, so one sliding window can hold up to `2 × limit − 1` admissions: measured 119 for a
///   limit of 60 (the exact limiter: 60).
/// - **Measured against ``SlidingWindowLimiter``**, 60 per 60 s, decision by decision, in
///   `ApproximateLimiterErrorTests` (deterministic seeds):
///
/// | Traffic | Decisions that differ | Admitted, approximate vs exact | Most in one 60 s window |
/// | --- | --- | --- | --- |
/// | Uniform (Poisson) at 1.2× the limit, 20,000 requests | 21.8 % | 16,008 vs 15,858 (+0.9 %) | 71 |
/// | Bursts of 20–80 at 20/s, 10–90 s apart | 19.3 % | 12,849 vs 12,746 (+0.8 %) | 107 |
/// | 60 just before and 60 just after each boundary | 0 % | 6,000 vs 6,000 | 60 |
/// | 60 at the end of a window, then 10/s | 8.9 % | 119 vs 60 (+98 %) | 119 |
///
/// Over long runs the approximate limiter admits about as much as the exact one (within 1 %), but
/// which requests it admits differs often under overload, and over short spans it can let in up to
/// almost twice the limit.
///
/// Use ``SlidingWindowLimiter`` where the documented limit must hold exactly.
public final class ApproximateSlidingWindowLimiter: Sendable {
    /// The limit enforced (approximately).
    public let limit: RateLimit
    let windowMilliseconds: UInt64
    /// Bits 34–63: fixed-window index (mod 2³⁰); bits 17–33: previous count; bits 0–16: current count.
    let state: Atomic<UInt64>

    static let countMask: UInt64 = (1 << 17) - 1
    static let indexMask: UInt64 = (1 << 30) - 1
    static let retired: UInt64 = .max
    /// The longest wait a decision reports: two windows of a week (the next window's share).
    static let longestWait = UInt64(UInt32.max)

    /// Creates a limiter with no admissions.
    ///
    /// - Parameter limit: The limit to enforce.
    public init(limit: RateLimit) {
        self.limit = limit
        self.windowMilliseconds = UInt64(limit.windowMilliseconds)
        self.state = Atomic(0)
    }

    /// Admits a request of cost 1 at `instant` if the estimate has room.
    ///
    /// - Parameter instant: The time of the request.
    /// - Returns: The decision.
    public func acquire(at instant: MonotonicInstant) -> RateLimitDecision {
        tryAcquire(cost: 1, at: instant) ?? retiredDecision
    }

    /// Admits a request of cost `cost` at `instant` if the estimate has room.
    ///
    /// - Parameters:
    ///   - cost: The request's cost, from 0 to the limit.
    ///   - instant: The time of the request.
    /// - Returns: The decision.
    /// - Throws: ``RateLimitError/invalidCost(cost:limit:)`` for a cost outside 0...limit.
    public func acquire(cost: Int, at instant: MonotonicInstant) throws(RateLimitError) -> RateLimitDecision {
        guard (0...limit.limit).contains(cost) else { throw .invalidCost(cost: cost, limit: limit.limit) }
        return tryAcquire(cost: cost, at: instant) ?? retiredDecision
    }

    @inline(__always)
    func tryAcquire(cost: Int, at instant: MonotonicInstant) -> RateLimitDecision? {
        while true {
            let word = state.load(ordering: .acquiring)
            if word == Self.retired { return nil }
            let (decision, newWord) = Self.decide(word: word, cost: cost, limit: limit, at: instant)
            guard let newWord, newWord != word else { return decision }
            if state.compareExchange(expected: word, desired: newWord, ordering: .acquiringAndReleasing).exchanged {
                return decision
            }
        }
    }

    /// The decision for state `word` (0 for a key never seen), and the word to store if it changes:
    /// the check itself, apart from where the word lives (this limiter's atomic, or a compact table's
    /// window under its lock).
    @inline(__always)
    static func decide(word: UInt64, cost: Int, limit: RateLimit, at instant: MonotonicInstant)
        -> (RateLimitDecision, UInt64?)
    {
        let cost = UInt64(cost)
        let limitCount = UInt64(limit.limit)
        let window = UInt64(limit.windowMilliseconds)
        let nowMilliseconds = instant.nanoseconds / 1_000_000
        var index = (nowMilliseconds / window) & Self.indexMask
        var elapsed = nowMilliseconds % window
        let storedIndex = word >> 34
        let storedPrevious = word >> 17 & Self.countMask
        let storedCurrent = word & Self.countMask
        let previous: UInt64
        let current: UInt64
        switch (index &- storedIndex) & Self.indexMask {
        case 0:
            (previous, current) = (storedPrevious, storedCurrent)
        case 1:
            (previous, current) = (storedCurrent, 0)
        case let step where step >= 1 << 29 && word != 0:
            // The clock stepped back into an earlier window: stay in the stored one, at its start.
            (index, elapsed) = (storedIndex, 0)
            (previous, current) = (storedPrevious, storedCurrent)
        default:
            (previous, current) = (0, 0)
        }
        let estimate = (previous * (window - elapsed) + window - 1) / window + current
        if estimate + cost > limitCount {
            let wait = Self.wait(
                previous: previous, current: current, cost: cost, limit: limitCount,
                window: window, elapsed: elapsed)
            return (
                RateLimitDecision(
                    isAllowed: false, limit: limit, remaining: UInt32(limitCount - min(limitCount, estimate)),
                    resetAfterMilliseconds: UInt32(min(wait, Self.longestWait))),
                nil
            )
        }
        return (
            RateLimitDecision(
                isAllowed: true, limit: limit, remaining: UInt32(limitCount - estimate - cost),
                resetAfterMilliseconds: UInt32(window - elapsed)),
            cost == 0 ? nil : index << 34 | previous << 17 | (current + cost)
        )
    }

    /// Whether both counted windows of state `word` are over at `instant`: it could be forgotten.
    @inline(__always)
    static func isIdle(word: UInt64, windowMilliseconds: UInt64, at instant: MonotonicInstant) -> Bool {
        guard word != retired, word != 0 else { return true }
        let index = (instant.nanoseconds / 1_000_000 / windowMilliseconds) & indexMask
        let step = (index &- (word >> 34)) & indexMask
        return step >= 2 && step < 1 << 29
    }

    /// Milliseconds until the estimate leaves room for `cost`.
    static func wait(
        previous: UInt64, current: UInt64, cost: UInt64, limit: UInt64, window: UInt64, elapsed: UInt64
    ) -> UInt64 {
        if current + cost <= limit, previous > 0 {
            // Later in this window: previous × (window − e) / window ≤ room.
            let room = limit - current - cost
            let firstFit = window - min(window, room * window / previous)
            if firstFit < window { return max(1, firstFit - min(firstFit, elapsed)) }
        }
        // In the next window, the current count becomes the previous one.
        let untilNext = window - elapsed
        guard current > 0, cost <= limit else { return untilNext }
        let firstFit = window - min(window, (limit - cost) * window / current)
        return untilNext + firstFit
    }

    private var retiredDecision: RateLimitDecision {
        RateLimitDecision(isAllowed: false, limit: limit, remaining: 0, resetAfterMilliseconds: 1)
    }

    /// Whether both counted windows are over at `instant`: the state could be forgotten.
    func isIdle(at instant: MonotonicInstant) -> Bool {
        Self.isIdle(word: state.load(ordering: .acquiring), windowMilliseconds: windowMilliseconds, at: instant)
    }

    /// Marks the limiter retired if it is still idle.
    func retireIfIdle(at instant: MonotonicInstant) -> Bool {
        let word = state.load(ordering: .acquiring)
        guard word != Self.retired else { return true }
        guard isIdle(at: instant) else { return false }
        return state.compareExchange(expected: word, desired: Self.retired, ordering: .acquiringAndReleasing).exchanged
    }

    /// Marks the limiter retired unconditionally.
    func retire() {
        state.store(Self.retired, ordering: .releasing)
    }
}
