extension GateDecision {
    /// An allowed request: its principal, the route it matched and its rate-limit state.
    public struct Allowed: Sendable {
        /// Who the request acts for.
        public let principal: Principal
        /// The route and its path parameters.
        public let match: EndpointMatch
        /// The rate limiter's decision, for the response headers.
        public let rateLimit: RateLimitDecision
        /// Whether the key stops working soon (rolled, or expiring within the gate's horizon), with
        /// the `Deprecation`, `Sunset` and `Link` headers that say so; `nil` for most keys.
        public let sunset: KeySunset?

        /// The headers to add to the response: the rate limit's, then the sunset warning's, if any.
        public var headers: [HTTPHeaderField] {
            guard let sunset else { return rateLimit.headers }
            return rateLimit.headers + sunset.headers
        }
    }
}

/// Renamed ``GateDecision/Allowed``.
@available(*, deprecated, renamed: "GateDecision.Allowed")
public typealias AllowedRequest = GateDecision.Allowed
