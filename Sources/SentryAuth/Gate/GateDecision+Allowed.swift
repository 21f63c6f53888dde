extension GateDecision {
    /// An allowed request: its principal, the route it matched and its rate-limit state.
    public struct Allowed: Sendable {
        /// Who the request acts for.
        public let principal: Principal
        /// The route and its path parameters.
        public let match: EndpointMatch
        /// The rate limiter's decision, for the response headers.
        public let rateLimit: RateLimitDecision

        /// The rate-limit headers to add to the response.
        public var headers: [HTTPHeaderField] {
            rateLimit.headers
        }
    }
}

/// Renamed ``GateDecision/Allowed``.
@available(*, deprecated, renamed: "GateDecision.Allowed")
public typealias AllowedRequest = GateDecision.Allowed
