/// A rate limiter's answer for one request: allowed or limited, with what the response headers need.
public struct RateLimitDecision: Sendable, Hashable {
    /// Whether the request may proceed.
    public let isAllowed: Bool
    /// The limit that applied.
    public let limit: RateLimit
    // 32-bit fields, so that a decision is returned in registers: quota never exceeds
    // `RateLimit.maximumLimit`, and no wait is longer than two windows (at most two weeks; 2³² ms
    // is 49 days).
    private let remainingCount: UInt32
    private let resetMilliseconds: UInt32

    /// Quota left in the current window after this request (0 when limited).
    public var remaining: Int { Int(remainingCount) }
    /// When limited: the exact time until enough quota frees up for this request.
    /// When allowed: the time until the oldest request counted in the window leaves it (the next
    /// time `remaining` grows), or zero when the window is empty. Whole milliseconds.
    public var resetAfter: Duration { .milliseconds(Int64(resetMilliseconds)) }
    /// ``resetAfter`` in milliseconds.
    public var resetAfterMilliseconds: Int { Int(resetMilliseconds) }

    /// Creates a decision.
    ///
    /// - Parameters:
    ///   - isAllowed: Whether the request may proceed.
    ///   - limit: The limit that applied.
    ///   - remaining: Quota left after this request; clamped to 0…`limit.limit`.
    ///   - resetAfter: See ``resetAfter``; a part of a millisecond counts as a whole one, and it is
    ///     clamped to zero…2³² − 1 ms (49 days).
    public init(isAllowed: Bool, limit: RateLimit, remaining: Int, resetAfter: Duration) {
        let nanoseconds = max(0, resetAfter.nanoseconds)  // saturated: never overflows below
        let milliseconds = nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1)
        self.init(
            isAllowed: isAllowed, limit: limit, remaining: UInt32(max(0, min(remaining, limit.limit))),
            resetAfterMilliseconds: UInt32(min(milliseconds, Int64(UInt32.max))))
    }

    /// A decision from a limiter's own arithmetic, already in range.
    init(isAllowed: Bool, limit: RateLimit, remaining: UInt32, resetAfterMilliseconds: UInt32) {
        self.isAllowed = isAllowed
        self.limit = limit
        self.remainingCount = remaining
        self.resetMilliseconds = resetAfterMilliseconds
    }

    /// When limited, how long to wait, in whole seconds rounded up and at least 1; `nil` when allowed.
    public var retryAfterSeconds: Int? {
        isAllowed ? nil : max(1, Self.wholeSecondsRoundedUp(milliseconds: resetAfterMilliseconds))
    }

    /// ``resetAfter`` in whole seconds, rounded up (at least 1 when limited).
    public var resetSeconds: Int {
        retryAfterSeconds ?? Self.wholeSecondsRoundedUp(milliseconds: resetAfterMilliseconds)
    }

    /// The rate-limit response headers, in this order: `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
    /// `X-RateLimit-Reset` (seconds), the IETF draft's `RateLimit-Policy` and `RateLimit`, and
    /// `Retry-After` when limited.
    public var headers: [HTTPHeaderField] {
        let windowSeconds = max(1, Self.wholeSecondsRoundedUp(milliseconds: limit.windowMilliseconds))
        var headers = [
            HTTPHeaderField(name: "X-RateLimit-Limit", value: String(limit.limit)),
            HTTPHeaderField(name: "X-RateLimit-Remaining", value: String(remaining)),
            HTTPHeaderField(name: "X-RateLimit-Reset", value: String(resetSeconds)),
            HTTPHeaderField(name: "RateLimit-Policy", value: "\"default\";q=\(limit.limit);w=\(windowSeconds)"),
            HTTPHeaderField(name: "RateLimit", value: "\"default\";r=\(remaining);t=\(resetSeconds)"),
        ]
        if let retryAfterSeconds {
            headers.append(HTTPHeaderField(name: "Retry-After", value: String(retryAfterSeconds)))
        }
        return headers
    }

    static func wholeSecondsRoundedUp(milliseconds: Int) -> Int {
        (max(0, milliseconds) + 999) / 1000
    }
}
