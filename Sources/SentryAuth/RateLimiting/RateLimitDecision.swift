/// A rate limiter's answer for one request: allowed or limited, with what the response headers need.
public struct RateLimitDecision: Sendable, Hashable {
    /// Whether the request may proceed.
    public let isAllowed: Bool
    /// The limit that applied.
    public let limit: RateLimit
    /// Quota left in the current window after this request (0 when limited).
    public let remaining: Int
    /// When limited: the exact time until enough quota frees up for this request.
    /// When allowed: the time until the oldest request counted in the window leaves it (the next
    /// time `remaining` grows), or zero when the window is empty.
    public let resetAfter: Duration

    /// Creates a decision.
    ///
    /// - Parameters:
    ///   - isAllowed: Whether the request may proceed.
    ///   - limit: The limit that applied.
    ///   - remaining: Quota left after this request.
    ///   - resetAfter: See ``resetAfter``.
    public init(isAllowed: Bool, limit: RateLimit, remaining: Int, resetAfter: Duration) {
        self.isAllowed = isAllowed
        self.limit = limit
        self.remaining = remaining
        self.resetAfter = resetAfter
    }

    /// When limited, how long to wait, in whole seconds rounded up and at least 1; `nil` when allowed.
    public var retryAfterSeconds: Int? {
        isAllowed ? nil : max(1, Self.wholeSecondsRoundedUp(resetAfter))
    }

    /// ``resetAfter`` in whole seconds, rounded up (at least 1 when limited).
    public var resetSeconds: Int {
        retryAfterSeconds ?? Self.wholeSecondsRoundedUp(resetAfter)
    }

    /// The rate-limit response headers, in this order: `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
    /// `X-RateLimit-Reset` (seconds), the IETF draft's `RateLimit-Policy` and `RateLimit`, and
    /// `Retry-After` when limited.
    public var headers: [HTTPHeaderField] {
        let windowSeconds = max(1, Self.wholeSecondsRoundedUp(limit.window))
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

    static func wholeSecondsRoundedUp(_ duration: Duration) -> Int {
        let nanoseconds = max(0, duration.nanoseconds)
        return Int((nanoseconds + 999_999_999) / 1_000_000_000)
    }
}
