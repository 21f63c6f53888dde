/// A ``RateLimitStore`` that can often decide without suspending: the gate then decides the whole
/// request synchronously and calls ``RateLimitStore/acquire(_:cost:limit:at:)`` only when this
/// returns `nil`.
///
/// ``InMemoryRateLimitStore`` conforms; so can a store you write that keeps a local answer (a leased
/// budget, a local fallback).
public protocol ImmediateRateLimitStore<Key>: RateLimitStore {
    /// The decision now, without suspending, or `nil` when only
    /// ``RateLimitStore/acquire(_:cost:limit:at:)`` can decide.
    ///
    /// - Parameters:
    ///   - key: Whose quota to spend.
    ///   - cost: The request's cost, from 0 to `limit.limit` (the gate checks it first).
    ///   - limit: The key's limit.
    ///   - instant: The request's time.
    /// - Returns: The decision, or `nil`.
    func immediateDecision(_ key: Key, cost: Int, limit: RateLimit, at instant: MonotonicInstant) -> RateLimitDecision?
}

/// The in-memory store's faster form of ``ImmediateRateLimitStore`` for the gate: the key
/// identifier's hashes come with the record, so a request does not hash it.
protocol PrehashedRateLimitStore: Sendable {
    func decision(for stored: StoredRecord, cost: Int, at instant: MonotonicInstant) -> RateLimitDecision?
}

/// A user's ``ImmediateRateLimitStore`` in that form.
struct ImmediateLimitsAdapter: PrehashedRateLimitStore {
    let base: any ImmediateRateLimitStore<APIKeyID>

    func decision(for stored: StoredRecord, cost: Int, at instant: MonotonicInstant) -> RateLimitDecision? {
        base.immediateDecision(stored.record.id, cost: cost, limit: stored.record.rateLimit, at: instant)
    }
}

extension InMemoryRateLimitStore: ImmediateRateLimitStore {
    /// The same as ``acquireNow(_:cost:limit:at:)``; `nil` only for a cost outside 0...limit.
    ///
    /// - Parameters:
    ///   - key: Whose quota to spend.
    ///   - cost: The request's cost, from 0 to `limit.limit`.
    ///   - limit: The key's limit.
    ///   - instant: The request's time.
    /// - Returns: The decision.
    public func immediateDecision(_ key: Key, cost: Int, limit: RateLimit, at instant: MonotonicInstant)
        -> RateLimitDecision?
    {
        try? acquireNow(key, cost: cost, limit: limit, at: instant)
    }
}

extension InMemoryRateLimitStore: PrehashedRateLimitStore where Key == APIKeyID {
    func decision(for stored: StoredRecord, cost: Int, at instant: MonotonicInstant) -> RateLimitDecision? {
        try? acquireNow(
            stored.record.id, hashValue: stored.idHash, secondHash: stored.idSecondHash, cost: cost,
            limit: stored.record.rateLimit, at: instant)
    }
}
