/// A ``RateLimitStore`` in process memory.
///
/// Each key's state is kept inline in an open-addressing table (64 shards; a 16-byte identity and
/// the window per slot, no object per key). A check of a known key takes no lock but its window's
/// lock bit, so checks of different keys never wait for each other, and it allocates nothing:
///
/// - **Exact limits of at most 60 units in at most 65,534 ms** (the Sentry limit among them): a
///   128-byte window of 60 16-bit admission times, with ``SlidingWindowLimiter``'s decisions.
///   170–177 bytes a key at 100,000 and 1,000,000 keys (`sentry-auth-bench --bytes-per-key`,
///   resident memory before and after; by construction 165–185: the table is kept between 7/9 and
///   7/8 full).
/// - **The approximate algorithm**, every limit: a 16-byte window with
///   ``ApproximateSlidingWindowLimiter``'s decisions (and its measured error): about 40 bytes a key.
/// - **Larger exact limits** keep a ``SlidingWindowLimiter`` per key in one of 64 dictionary shards,
///   each behind its own mutex held only for the look-up (the check itself is lock-free): about
///   `8 × ring + 180` bytes a key, the ring being the limit rounded up to a power of two.
///
/// State idle for a full window is forgotten: a table sweeps its idle keys when it is 7/8 full (and
/// grows only if that freed less than an eighth of it), a dictionary shard whenever it has doubled in
/// size since its last sweep, and ``removeIdle(at:)`` sweeps everything. ``remove(_:)`` drops a key
/// at once, such as a revoked one. A key whose limit changes starts a new window.
///
/// ```swift
/// let store = InMemoryRateLimitStore<String>()
/// let decision = try store.acquireNow("key_1", limit: .default, at: .milliseconds(0))
/// ```
public final class InMemoryRateLimitStore<Key: Hashable & Sendable>: RateLimitStore {
    /// The limiter kept per key.
    public let algorithm: RateLimitAlgorithm

    private struct Entries {
        var limiters: [HashedKey: SlidingWindowLimiter] = [:]
        var sweepAt = 1024
    }

    /// A key with its hash value, computed once per call: it picks the shard, and the dictionary
    /// hashes the integer instead of hashing the key (a 28-byte string for an ``APIKeyID``) again.
    private struct HashedKey: Hashable {
        let key: Key
        let hash: Int

        init(_ key: Key, hash: Int) {
            self.key = key
            self.hash = hash
        }

        static func == (lhs: Self, rhs: Self) -> Bool { lhs.hash == rhs.hash && lhs.key == rhs.key }
        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    private static var shardCount: Int { 64 }
    private let shards: [Locked<Entries>]
    /// Exact windows of limits that fit a compact window.
    private let exactWindows = CompactWindowTable<CompactExactWindow>()
    /// Approximate windows (every limit).
    private let approximateWindows = CompactWindowTable<CompactApproximateWindow>()

    /// Creates an empty store.
    ///
    /// - Parameter algorithm: The limiter to keep per key; ``RateLimitAlgorithm/exact`` by default.
    public init(algorithm: RateLimitAlgorithm = .exact) {
        self.algorithm = algorithm
        shards = (0..<Self.shardCount).map { _ in Locked(Entries()) }
    }

    /// Admits a request if the key's window has room (see ``RateLimitStore/acquire(_:cost:limit:at:)``).
    ///
    /// - Parameters:
    ///   - key: Whose quota to spend.
    ///   - cost: The request's cost, from 0 to `limit.limit`.
    ///   - limit: The key's limit. A key whose limit changes starts a new window.
    ///   - instant: The request's time.
    /// - Returns: The decision.
    /// - Throws: ``RateLimitError/invalidCost(cost:limit:)``.
    @_specialize(exported:true,where Key == APIKeyID)
    public func acquire(_ key: Key, cost: Int, limit: RateLimit, at instant: MonotonicInstant) async throws
        -> RateLimitDecision
    {
        try acquireNow(key, cost: cost, limit: limit, at: instant)
    }

    /// Admits a request without suspending: the same as ``acquire(_:cost:limit:at:)``.
    ///
    /// - Parameters:
    ///   - key: Whose quota to spend.
    ///   - cost: The request's cost, from 0 to `limit.limit`; 1 by default.
    ///   - limit: The key's limit.
    ///   - instant: The request's time.
    /// - Returns: The decision.
    /// - Throws: ``RateLimitError/invalidCost(cost:limit:)``.
    @_specialize(exported:true,where Key == APIKeyID)
    public func acquireNow(_ key: Key, cost: Int = 1, limit: RateLimit, at instant: MonotonicInstant)
        throws(RateLimitError) -> RateLimitDecision
    {
        let (hash, secondHash) = Self.hashes(of: key)
        return try acquireNow(key, hashValue: hash, secondHash: secondHash, cost: cost, limit: limit, at: instant)
    }

    /// A key's `hashValue` and a second hash independent of it (the same seeded hasher, continued
    /// past the key with a salt), from one pass over the key: the compact table tells keys apart
    /// by both.
    @inline(__always)
    static func hashes(of key: Key) -> (first: Int, second: UInt64) {
        var hasher = Hasher()
        hasher.combine(key)
        var continued = hasher
        continued.combine(0x7365_636F_6E64 as UInt64)
        return (hasher.finalize(), UInt64(bitPattern: Int64(continued.finalize())))
    }

    /// ``acquireNow(_:cost:limit:at:)`` for a caller that already has the key's ``hashes(of:)`` (the
    /// gate keeps them with the record, so a request does not hash the key's identifier again).
    @inline(__always)
    func acquireNow(
        _ key: Key, hashValue: Int, secondHash: UInt64, cost: Int, limit: RateLimit, at instant: MonotonicInstant
    ) throws(RateLimitError) -> RateLimitDecision {
        guard (0...limit.limit).contains(cost) else { throw .invalidCost(cost: cost, limit: limit.limit) }
        let hash = UInt64(bitPattern: Int64(hashValue))
        switch algorithm {
        case .exact where CompactExactWindow.fits(limit):
            return exactWindows.acquire(hash: hash, secondHash: secondHash, limit: limit, cost: cost, at: instant)
        case .approximate:
            return approximateWindows.acquire(hash: hash, secondHash: secondHash, limit: limit, cost: cost, at: instant)
        case .exact:
            break
        }
        let key = HashedKey(key, hash: hashValue)
        let shard = shards[key.hash & (Self.shardCount - 1)]
        while true {
            let limiter = shard.withLock { entries in
                if let existing = entries.limiters[key], existing.limit == limit { return existing }
                return insert(key, limit: limit, at: instant, into: &entries)
            }
            if let decision = limiter.tryAcquire(cost: cost, at: instant) { return decision }
            // Retired by a sweep or a removal while we held it: drop it if it is still there, and retry.
            shard.withLock { entries in
                if let current = entries.limiters[key], current === limiter { entries.limiters[key] = nil }
            }
        }
    }

    private func insert(_ key: HashedKey, limit: RateLimit, at instant: MonotonicInstant, into entries: inout Entries)
        -> SlidingWindowLimiter
    {
        entries.limiters[key]?.retire()  // the limit changed: the old state is abandoned
        if entries.limiters.count >= entries.sweepAt {
            entries.limiters = entries.limiters.filter { !$0.value.retireIfIdle(at: instant) }
            entries.sweepAt = max(1024, 2 * entries.limiters.count)
        }
        let limiter = SlidingWindowLimiter(limit: limit)
        entries.limiters[key] = limiter
        return limiter
    }

    /// Forgets a key's state at once, such as a revoked key's.
    ///
    /// - Parameter key: The key to forget.
    public func remove(_ key: Key) async {
        removeNow(key)
    }

    /// Forgets a key's state at once, without suspending.
    ///
    /// - Parameter key: The key to forget.
    public func removeNow(_ key: Key) {
        let (hash, secondHash) = Self.hashes(of: key)
        exactWindows.remove(hash: UInt64(bitPattern: Int64(hash)), secondHash: secondHash)
        approximateWindows.remove(hash: UInt64(bitPattern: Int64(hash)), secondHash: secondHash)
        let key = HashedKey(key, hash: hash)
        let shard = shards[key.hash & (Self.shardCount - 1)]
        shard.withLock { entries in
            entries.limiters.removeValue(forKey: key)?.retire()
        }
    }

    /// Forgets every key whose state has been idle for a full window at `instant`.
    ///
    /// - Parameter instant: The current time.
    /// - Returns: How many keys were forgotten.
    @discardableResult
    public func removeIdle(at instant: MonotonicInstant) -> Int {
        var removed = exactWindows.sweep(at: instant) + approximateWindows.sweep(at: instant)
        for index in 0..<Self.shardCount {
            shards[index].withLock { entries in
                let before = entries.limiters.count
                entries.limiters = entries.limiters.filter { !$0.value.retireIfIdle(at: instant) }
                removed += before - entries.limiters.count
            }
        }
        return removed
    }

    /// How many keys have state.
    public var count: Int {
        (0..<Self.shardCount).reduce(exactWindows.count + approximateWindows.count) { total, index in
            total + shards[index].withLock { $0.limiters.count }
        }
    }
}
