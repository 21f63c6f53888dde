extension RateLimitDecision {
    /// One of the response header fields a ``RateLimitDecision`` produces, in the order they are sent.
    ///
    /// Adapters loop over `allCases` with the framework's own name for each (made once), and ask the
    /// decision for each value: no array of fields, no name parsed or looked up per request.
    ///
    /// ```swift
    /// for field in RateLimitDecision.Field.allCases {
    ///     if let value = decision.value(of: field) { print("\(field.name): \(value)") }
    /// }
    /// ```
    public enum Field: Int, Sendable, Hashable, CaseIterable {
        /// `X-RateLimit-Limit`: the limit, such as `60`.
        case limit
        /// `X-RateLimit-Remaining`: quota left in the window after this request.
        case remaining
        /// `X-RateLimit-Reset`: seconds until quota next frees up, rounded up.
        case reset
        /// `RateLimit-Policy` (IETF draft): `"default";q=60;w=60`.
        case policy
        /// `RateLimit` (IETF draft): `"default";r=59;t=60`.
        case rateLimit
        /// `Retry-After`, seconds: only when the request is limited.
        case retryAfter

        /// The field's name, such as `X-RateLimit-Remaining`.
        public var name: String {
            switch self {
            case .limit: "X-RateLimit-Limit"
            case .remaining: "X-RateLimit-Remaining"
            case .reset: "X-RateLimit-Reset"
            case .policy: "RateLimit-Policy"
            case .rateLimit: "RateLimit"
            case .retryAfter: "Retry-After"
            }
        }
    }
}

/// Renamed ``RateLimitDecision/Field``.
@available(*, deprecated, renamed: "RateLimitDecision.Field")
public typealias RateLimitField = RateLimitDecision.Field
