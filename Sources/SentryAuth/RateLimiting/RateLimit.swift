/// How many requests a key may make in a sliding window: 60 per 60 seconds by default.
///
/// ```swift
/// let standard = RateLimit.default                       // 60 per minute
/// let burst = try RateLimit(limit: 10, window: .seconds(1))
/// ```
public struct RateLimit: Sendable, Hashable {
    // Two 32-bit fields (a week is 604,800,000 ms): a limit and every decision that carries one
    // fit in registers and copy for free.
    private let count: UInt32
    private let milliseconds: UInt32

    /// The most request cost admitted in any window.
    public var limit: Int { Int(count) }
    /// The window's length.
    public var window: Duration { .milliseconds(Int64(milliseconds)) }
    /// The window's length in milliseconds.
    public var windowMilliseconds: Int { Int(milliseconds) }

    /// The largest limit: the exact limiter keeps one slot per admitted unit of cost.
    public static let maximumLimit = 100_000
    /// The longest window: one week.
    public static let maximumWindow = Duration.seconds(7 * 24 * 3600)

    /// The documented limit: 60 requests per minute per key.
    public static let `default` = RateLimit(unchecked: 60, milliseconds: 60_000)

    /// Creates a limit.
    ///
    /// - Parameters:
    ///   - limit: 1 to ``maximumLimit``.
    ///   - window: From 1 millisecond to ``maximumWindow``, in whole milliseconds.
    /// - Throws: ``RateLimitError/invalidLimit`` when either is out of range.
    public init(limit: Int, window: Duration) throws(RateLimitError) {
        guard (1...Self.maximumLimit).contains(limit), window >= .milliseconds(1), window <= Self.maximumWindow,
            window.nanoseconds % 1_000_000 == 0
        else { throw .invalidLimit }
        self.init(unchecked: limit, milliseconds: window.nanoseconds / 1_000_000)
    }

    private init(unchecked limit: Int, milliseconds: Int64) {
        self.count = UInt32(limit)
        self.milliseconds = UInt32(milliseconds)
    }

    /// `limit` requests per minute.
    ///
    /// - Parameter limit: 1 to ``maximumLimit``.
    /// - Returns: The limit.
    /// - Throws: ``RateLimitError/invalidLimit`` when `limit` is out of range.
    public static func perMinute(_ limit: Int) throws(RateLimitError) -> RateLimit {
        try RateLimit(limit: limit, window: .seconds(60))
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

extension RateLimit: CustomStringConvertible {
    /// `60 per 60000 ms`.
    public var description: String { "\(limit) per \(milliseconds) ms" }
}

extension RateLimit: Codable {
    private enum CodingKeys: String, CodingKey {
        case limit
        case windowMilliseconds
    }

    /// Decodes `{"limit": 60, "windowMilliseconds": 60000}` and validates it.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let limit = try container.decode(Int.self, forKey: .limit)
        let milliseconds = try container.decode(Int64.self, forKey: .windowMilliseconds)
        guard (1...Int64(Self.maximumWindow.nanoseconds / 1_000_000)).contains(milliseconds) else {
            throw RateLimitError.invalidLimit
        }
        self = try RateLimit(limit: limit, window: .milliseconds(milliseconds))
    }

    /// Encodes `{"limit": 60, "windowMilliseconds": 60000}`.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(limit, forKey: .limit)
        try container.encode(windowMilliseconds, forKey: .windowMilliseconds)
    }
}

/// Why a rate limit or a request cost was refused.
public struct RateLimitError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case invalidLimit
        case invalidCost(cost: Int, limit: Int)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The limit or window is out of range.
    public static var invalidLimit: Self { Self(.invalidLimit) }

    /// A request's cost is negative or above the limit, so it could never be admitted.
    public static func invalidCost(cost: Int, limit: Int) -> Self { Self(.invalidCost(cost: cost, limit: limit)) }

    /// A message that says what is allowed.
    public var description: String {
        switch kind {
        case .invalidLimit:
            "A rate limit is 1 to \(RateLimit.maximumLimit) requests per window of 1 ms to 7 days, in whole milliseconds."
        case .invalidCost(let cost, let limit):
            "A request costing \(cost) can never be admitted under a limit of \(limit): the cost must be 0 to \(limit)."
        }
    }
}
