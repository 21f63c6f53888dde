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
    /// `Retry-After` when limited. A convenience that allocates; adapters on the hot path use
    /// ``value(of:)`` or ``withValue(of:_:)`` field by field.
    public var headers: [HTTPHeaderField] {
        RateLimitDecision.Field.allCases.compactMap { field in
            value(of: field).map { HTTPHeaderField(name: field.name, value: $0) }
        }
    }

    /// The value of one field, or `nil` for `Retry-After` when the request is allowed.
    ///
    /// Numbers come back as small strings, held inline (no allocation); for the Sentry limit the
    /// `RateLimit-Policy` and every possible `RateLimit` value are made once. Only other limits'
    /// `RateLimit-Policy` and `RateLimit` values (17 bytes or more) are new strings on the heap:
    /// render those with ``withValue(of:_:)`` to allocate nothing.
    ///
    /// - Parameter field: The field.
    /// - Returns: Its value.
    public func value(of field: RateLimitDecision.Field) -> String? {
        switch field {
        case .limit: String(limit.limit)
        case .remaining: String(remaining)
        case .reset: String(resetSeconds)
        case .policy where limit == .default: Self.defaultPolicy
        case .rateLimit where limit == .default && resetSeconds <= 60:
            Self.defaultRateLimitValues[remaining &* 61 &+ resetSeconds]
        case .retryAfter: retryAfterSeconds.map { String($0) }
        case .policy, .rateLimit: withValue(of: field) { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Renders the value of one field as ASCII into storage on the stack and calls `body` with it:
    /// nothing is allocated. `nil` (and `body` is not called) for `Retry-After` when allowed.
    ///
    /// - Parameters:
    ///   - field: The field.
    ///   - body: Reads the bytes; they must not escape it.
    /// - Returns: What `body` returns.
    @inlinable
    public func withValue<Result>(
        of field: RateLimitDecision.Field, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result? {
        if field == .retryAfter && isAllowed { return nil }
        // The longest value: `"default";r=100000;t=4294968` (28 bytes).
        var storage: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &storage) { raw in
            var text = ASCIIWriter(raw.bindMemory(to: UInt8.self))
            switch field {
            case .limit: text.append(limit.limit)
            case .remaining: text.append(remaining)
            case .reset: text.append(resetSeconds)
            case .policy:
                text.append(#""default";q="#)
                text.append(limit.limit)
                text.append(";w=")
                text.append(windowSeconds)
            case .rateLimit:
                text.append(#""default";r="#)
                text.append(remaining)
                text.append(";t=")
                text.append(resetSeconds)
            case .retryAfter: text.append(retryAfterSeconds ?? 0)
            }
            return try body(text.written)
        }
    }

    /// The window in whole seconds, rounded up, at least 1: the policy's `w`.
    @usableFromInline
    var windowSeconds: Int { max(1, Self.wholeSecondsRoundedUp(milliseconds: limit.windowMilliseconds)) }

    /// The `RateLimit-Policy` of the Sentry limit (60 per 60 s), made once.
    static let defaultPolicy = #""default";q=60;w=60"#

    /// Every `RateLimit` value the Sentry limit can produce (remaining 0…60 × reset 0…60 s), made once
    /// on first use (3,721 strings, about 200 KB): the one field longer than a small string, so that
    /// adapters whose frameworks keep header values as `String` allocate nothing per response.
    static let defaultRateLimitValues: [String] = {
        var values: [String] = []
        values.reserveCapacity(61 * 61)
        for remaining in 0...60 {
            for reset in 0...60 {
                let value: String = #""default";r=\#(remaining);t=\#(reset)"#
                values.append(value)
            }
        }
        return values
    }()

    @usableFromInline
    static func wholeSecondsRoundedUp(milliseconds: Int) -> Int {
        (max(0, milliseconds) + 999) / 1000
    }
}
