/// The approximate limiter's state for one key in 16 bytes: what ``InMemoryRateLimitStore`` keeps
/// inline in its table for `.approximate`, with every limit.
///
/// ``ApproximateSlidingWindowLimiter``'s 64-bit word (fixed-window index, previous and current count)
/// split in two, so that the table's lock and moved bits fit: the state word holds the counts (bits
/// 0–33), the payload word the index (bits 34–63 of the limiter's word, shifted down). Decisions are
/// the limiter's own (``ApproximateSlidingWindowLimiter/decide(word:cost:limit:at:)``), so its
/// measured error holds unchanged.
enum CompactApproximateWindow: CompactWindowKind {
    static var size: Int { 16 }

    /// The identity's low 47 bits: the limit − 1 (17 bits) and the window in ms (30 bits).
    static var limitBits: Int { 47 }

    static func fits(_ limit: RateLimit) -> Bool { true }

    @inline(__always)
    static func code(_ limit: RateLimit) -> UInt64 { UInt64(limit.limit - 1) << 30 | UInt64(limit.windowMilliseconds) }

    @inline(__always)
    static func windowMilliseconds(code: UInt64) -> UInt64 { code & (1 << 30 - 1) }

    static let countsMask: UInt64 = 1 << 34 - 1

    /// The limiter's word from the window's two words.
    @inline(__always)
    static func word(state: UInt64, payload: UnsafeMutableRawPointer) -> UInt64 {
        payload.load(as: UInt64.self) << 34 | state & countsMask
    }

    @inline(__always)
    static func decide(
        state: UInt64, payload: UnsafeMutableRawPointer, limit: RateLimit, cost: Int, at instant: MonotonicInstant
    ) -> (RateLimitDecision, UInt64) {
        let (decision, next) = ApproximateSlidingWindowLimiter.decide(
            word: word(state: state, payload: payload), cost: cost, limit: limit, at: instant)
        guard let next else { return (decision, state) }
        payload.storeBytes(of: next >> 34, as: UInt64.self)
        return (decision, next & countsMask)
    }

    @inline(__always)
    static func isIdle(state: UInt64, payload: UnsafeMutableRawPointer, windowMilliseconds: UInt64, now: UInt64)
        -> Bool
    {
        ApproximateSlidingWindowLimiter.isIdle(
            word: word(state: state, payload: payload), windowMilliseconds: windowMilliseconds,
            at: .milliseconds(now))
    }
}
