/// Where per-key rate-limit state lives, so that a deployment of many servers can share it.
///
/// A store answers one question atomically: may `key` spend `cost` under `limit` at `instant`?
/// ``InMemoryRateLimitStore`` keeps the state in process memory; a shared store (Redis, a database)
/// implements the same call with its own atomic operation.
public protocol RateLimitStore<Key>: Sendable {
    /// What state is kept per: typically an ``APIKeyID``.
    associatedtype Key: Hashable & Sendable

    /// Admits a request if the key's window has room, consuming `cost` if it does.
    ///
    /// - Parameters:
    ///   - key: Whose quota to spend.
    ///   - cost: The request's cost, from 0 (consume nothing, just report) to `limit.limit`.
    ///   - limit: The key's limit.
    ///   - instant: The request's time, read once from a ``MonotonicClock``.
    /// - Returns: The decision.
    /// - Throws: ``RateLimitError/invalidCost(cost:limit:)`` for a cost that can never be admitted;
    ///   a shared store's own errors.
    func acquire(_ key: Key, cost: Int, limit: RateLimit, at instant: MonotonicInstant) async throws
        -> RateLimitDecision

    /// Forgets a key's state, for example when the key is revoked.
    ///
    /// - Parameter key: The key to forget.
    func remove(_ key: Key) async throws
}

/// Which limiter an ``InMemoryRateLimitStore`` keeps per key.
public enum RateLimitAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// ``SlidingWindowLimiter``'s decisions: never more than the limit in any window. 170–177 bytes
    /// a key for limits of at most 60 in at most 65,534 ms (the Sentry limit), more for larger limits
    /// (see ``InMemoryRateLimitStore``).
    case exact
    /// ``ApproximateSlidingWindowLimiter``'s decisions: two counters, about 40 bytes a key; can
    /// over-admit (see its error).
    case approximate
}
