#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A read-through cache in front of any ``KeyStore``, keyed by digest: what a server puts between
/// the gate and a database.
///
/// - **Fresh for a bound.** A record is served from the cache for at most ``freshness`` (10 s by
///   default) after it was loaded; after that the next look-up loads it again. Call
///   ``invalidate(digest:)`` or ``invalidate(keyID:)`` from a change feed to drop an entry at once.
/// - **Negative entries.** A digest the store does not know is remembered as unknown for
///   ``negativeFreshness`` (1 s by default), so a client hammering with a bad key reaches the
///   store about once a second, not once a request.
/// - **Single flight.** At most one look-up per digest is in progress: concurrent misses for the
///   same digest wait for the same load.
/// - **Bounded.** At most ``maximumEntries`` known keys and ``maximumUnknownEntries`` unknown
///   digests, each with its own budget; when a shard is full its oldest entry of that kind is
///   dropped first, so unknown digests (a flood of random keys) never push a known key out.
/// - **Unconfirmed while no feed listens.** ``unconfirmAll()`` (what a change feed calls when its
///   connection drops, and before it first listens) makes every look-up ask the store, until
///   ``resumeConfirming()``; an entry is then served only if the store fails, and only within its
///   freshness: keys keep working through a database outage for that long, and never go stale
///   while the database answers.
/// - **Invalidation wins.** After ``invalidate(digest:)``, ``invalidate(keyID:)`` or
///   ``invalidateAll()`` returns, no look-up is answered from what was cached (or being loaded)
///   before it: a revoked, rolled or restricted key is never served stale from the cache.
///   Writes through the cache (``insert(_:)``, ``replace(_:with:)``, ``remove(_:)``) invalidate the
///   record they change.
///
/// Look-ups by identifier and merchant go to the store: only the gate's path is cached.
///
/// ```swift
/// let keys = CachedKeyStore(FileKeyStore(path: "keys.json"))
/// let gate = RequestGate(keys: keys, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
/// // From a change feed: keys.invalidate(keyID: changedID)
/// ```
///
/// **A hit takes no lock.** Confirmed entries are also published in a lock-free index per shard
/// (see `CacheIndex`): a fresh hit is a probe of an open-addressing table and a clock comparison,
/// synchronous and without a lock (the gate asks it before anything else). A miss, a stale or an
/// unconfirmed entry takes the shard's lock: loads, single flight and the fallback live there.
public final class CachedKeyStore: KeyStore {
    /// The store behind the cache.
    public let base: any KeyStore
    /// How long a loaded record is served without asking the store again.
    public let freshness: Duration
    /// How long an unknown digest is remembered as unknown.
    public let negativeFreshness: Duration
    /// The most known keys the cache holds.
    public let maximumEntries: Int
    /// The most unknown digests the cache remembers: their own budget, so that a flood of random
    /// keys never pushes a known key out (about 200 bytes each: 16,384 by default, about 3 MiB).
    public let maximumUnknownEntries: Int
    /// The clock that ages entries.
    public let clock: any MonotonicClock

    static let shardCount = 16

    /// One cached answer: the record, or `nil` for an unknown digest.
    struct Entry: Sendable {
        var record: KeyRecord?
        var loadedAt: MonotonicInstant
        /// Cleared by ``CachedKeyStore/unconfirmAll()``: the entry is served only if the store fails.
        var confirmed = true
    }

    /// A load in progress, shared by every look-up of its digest that arrives before it ends.
    struct Load: Sendable {
        var token: UInt64
        var task: Task<KeyRecord?, any Error>
        /// Cleared by ``CachedKeyStore/unconfirmAll()`` while the load runs: its answer may predate a
        /// change no one announced, so it is cached unconfirmed.
        var confirmable: Bool
    }

    struct Shard: Sendable {
        var entries: [KeyDigest: Entry] = [:]
        /// Digests in the order their known entries were stored, for eviction (may hold stale digests).
        var order: [KeyDigest] = []
        var orderStart = 0
        /// The same for unknown digests, which have a budget of their own: a flood of random keys
        /// evicts other unknown digests, never a known key.
        var unknownOrder: [KeyDigest] = []
        var unknownOrderStart = 0
        var unknownCount = 0
        var loads: [KeyDigest: Load] = [:]
        var nextToken: UInt64 = 0
        /// Whether loads are cached as confirmed: `false` from ``CachedKeyStore/unconfirmAll()`` to
        /// ``CachedKeyStore/resumeConfirming()``.
        var confirming = true

        /// Stores a confirmed entry (and publishes it in `index`), dropping the oldest known entries
        /// beyond `capacity` and the oldest unknown ones beyond `unknownCapacity`.
        mutating func remember(
            _ digest: KeyDigest, _ entry: Entry, capacity: Int, unknownCapacity: Int, index: CacheIndex
        ) {
            let previous = entries.updateValue(entry, forKey: digest)
            let isUnknown = entry.record == nil
            let wasUnknown = previous.map { $0.record == nil }
            if wasUnknown != isUnknown {
                if isUnknown {
                    unknownOrder.append(digest)
                    unknownCount += 1
                } else {
                    order.append(digest)
                }
                if wasUnknown == true { unknownCount -= 1 }
            }
            if entry.confirmed {
                index.insert(
                    CacheIndex.Entry(
                        digest: digest, stored: entry.record.map(StoredRecord.init), loadedAt: entry.loadedAt))
            } else {
                index.remove(digest)
            }
            while entries.count - unknownCount > capacity, orderStart < order.count {
                let oldest = order[orderStart]
                orderStart += 1
                if let found = entries[oldest], found.record != nil {
                    entries[oldest] = nil
                    index.remove(oldest)
                }
            }
            while unknownCount > unknownCapacity, unknownOrderStart < unknownOrder.count {
                let oldest = unknownOrder[unknownOrderStart]
                unknownOrderStart += 1
                if let found = entries[oldest], found.record == nil {
                    entries[oldest] = nil
                    unknownCount -= 1
                    index.remove(oldest)
                }
            }
            index.synchronize()
            if orderStart > 1024 && orderStart * 2 > order.count {
                order.removeFirst(orderStart)
                orderStart = 0
            }
            if unknownOrderStart > 1024 && unknownOrderStart * 2 > unknownOrder.count {
                unknownOrder.removeFirst(unknownOrderStart)
                unknownOrderStart = 0
            }
        }

        /// Drops the entry for `digest`, keeping the count of unknown ones true.
        mutating func forget(_ digest: KeyDigest) {
            if let removed = entries.removeValue(forKey: digest), removed.record == nil { unknownCount -= 1 }
        }
    }

    private let shards: [Locked<Shard>]
    /// Each shard's lock-free index of its confirmed entries; changed only under the shard's lock.
    private let indexes: [CacheIndex]
    /// Which digest each cached record's identifier has, for ``invalidate(keyID:)``.
    private let digestsByID = Locked<[APIKeyID: KeyDigest]>([:])

    /// Creates a cache in front of `base`.
    ///
    /// - Parameters:
    ///   - base: The store that holds the records.
    ///   - freshness: How long a loaded record is served; 10 s by default.
    ///   - negativeFreshness: How long an unknown digest is remembered; 1 s by default.
    ///   - maximumEntries: The most known keys held; 100,000 by default.
    ///   - maximumUnknownEntries: The most unknown digests remembered; 16,384 by default.
    ///   - clock: The clock that ages entries; the system's monotonic clock by default.
    public init(
        _ base: some KeyStore, freshness: Duration = .seconds(10), negativeFreshness: Duration = .seconds(1),
        maximumEntries: Int = 100_000, maximumUnknownEntries: Int = 16_384,
        clock: any MonotonicClock = SystemMonotonicClock()
    ) {
        self.base = base
        self.freshness = freshness
        self.negativeFreshness = negativeFreshness
        self.maximumEntries = max(Self.shardCount, maximumEntries)
        self.maximumUnknownEntries = max(Self.shardCount, maximumUnknownEntries)
        self.clock = clock
        shards = (0..<Self.shardCount).map { _ in Locked(Shard()) }
        let capacity = (self.maximumEntries + self.maximumUnknownEntries) / Self.shardCount
        indexes = (0..<Self.shardCount).map { _ in CacheIndex(capacity: capacity) }
    }

    private func shardNumber(_ digest: KeyDigest) -> Int {
        Int(truncatingIfNeeded: digest.word0 & UInt64(Self.shardCount - 1))
    }

    private func shard(_ digest: KeyDigest) -> Locked<Shard> { shards[shardNumber(digest)] }

    private var capacityPerShard: Int { maximumEntries / Self.shardCount }
    private var unknownCapacityPerShard: Int { maximumUnknownEntries / Self.shardCount }

    private func isFresh(_ entry: Entry, at now: MonotonicInstant) -> Bool {
        isFresh(loadedAt: entry.loadedAt, isKnown: entry.record != nil, at: now)
    }

    private func isFresh(loadedAt: MonotonicInstant, isKnown: Bool, at now: MonotonicInstant) -> Bool {
        let age = now.nanoseconds &- loadedAt.nanoseconds
        let bound = isKnown ? freshness : negativeFreshness
        return now.nanoseconds >= loadedAt.nanoseconds && age < UInt64(bound.nanoseconds)
    }

    // MARK: The cached look-up

    /// The record whose key has `digest`: from the cache while fresh, else from the store (one load
    /// per digest at a time).
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The record, if one has that digest.
    /// - Throws: The store's errors; nothing is cached then.
    public func record(forDigest digest: KeyDigest) async throws -> KeyRecord? {
        let now = clock.now()
        if let hit = freshAnswer(forDigest: digest, at: now) { return hit?.record }
        let shard = shard(digest)
        enum Step {
            case hit(KeyRecord?)
            case wait(Task<KeyRecord?, any Error>)
            case load(UInt64, Task<KeyRecord?, any Error>)
        }
        let base = self.base
        let step: Step = shard.withLock { state in
            if let entry = state.entries[digest], entry.confirmed, isFresh(entry, at: now) { return .hit(entry.record) }
            if let load = state.loads[digest] { return .wait(load.task) }
            state.nextToken &+= 1
            let task = Task { try await base.record(forDigest: digest) }
            state.loads[digest] = Load(token: state.nextToken, task: task, confirmable: state.confirming)
            return .load(state.nextToken, task)
        }
        switch step {
        case .hit(let record):
            return record
        case .wait(let task):
            do {
                return try await task.value
            } catch {
                if let fallback = unconfirmedRecord(digest, at: now, shard: shard) { return fallback }
                throw error
            }
        case .load(let token, let task):
            let result: KeyRecord?
            do {
                result = try await task.value
            } catch {
                shard.withLock { state in
                    if state.loads[digest]?.token == token { state.loads[digest] = nil }
                }
                if let fallback = unconfirmedRecord(digest, at: now, shard: shard) { return fallback }
                throw error
            }
            // Cache it only if no invalidation happened since the load began (the load is still ours).
            let stored = shard.withLock { state -> Bool in
                guard let load = state.loads[digest], load.token == token else { return false }
                state.loads[digest] = nil
                let confirmed = state.confirming && load.confirmable
                state.remember(
                    digest, Entry(record: result, loadedAt: now, confirmed: confirmed), capacity: capacityPerShard,
                    unknownCapacity: unknownCapacityPerShard, index: indexes[shardNumber(digest)])
                return true
            }
            if stored, let result { digestsByID.withLock { $0[result.id] = digest } }
            return result
        }
    }

    /// The lock-free look-up, sharing the stored record: `.some(nil)` for a digest known to be
    /// unknown, `nil` when only the locked path can answer. The shard's index holds only confirmed
    /// entries.
    func freshAnswer(forDigest digest: KeyDigest, at now: MonotonicInstant) -> StoredRecord?? {
        indexes[shardNumber(digest)].withEntry(for: digest) { entry -> StoredRecord?? in
            isFresh(loadedAt: entry.loadedAt, isKnown: entry.stored != nil, at: now) ? .some(entry.stored) : .none
        } ?? .none
    }

    /// Whether the cache holds a record for `digest`, fresh or not: a key that was valid when last
    /// loaded, whose look-up a flood of random keys could never have caused (see
    /// ``FailedAuthenticationLimit``).
    func holdsKnownEntry(forDigest digest: KeyDigest) -> Bool {
        shard(digest).withLock { $0.entries[digest]?.record != nil }
    }

    /// An unconfirmed entry still within its freshness, served when the store failed; `nil` when
    /// there is none (or it was invalidated meanwhile).
    private func unconfirmedRecord(_ digest: KeyDigest, at now: MonotonicInstant, shard: Locked<Shard>) -> KeyRecord?? {
        shard.withLock { state in
            guard let entry = state.entries[digest], !entry.confirmed, isFresh(entry, at: now) else { return nil }
            return .some(entry.record)
        }
    }

    // MARK: Invalidation

    /// Drops what the cache holds (or is loading) for `digest`; the next look-up asks the store.
    ///
    /// - Parameter digest: The digest of a key that changed.
    public func invalidate(digest: KeyDigest) {
        let index = indexes[shardNumber(digest)]
        shard(digest).withLock { state in
            state.forget(digest)
            state.loads[digest] = nil
            index.remove(digest)
            index.synchronize()
        }
    }

    /// Drops what the cache holds for the key with this identifier, if it was cached.
    ///
    /// - Parameter keyID: The identifier of a key that changed.
    public func invalidate(keyID: APIKeyID) {
        guard let digest = digestsByID.withLock({ $0.removeValue(forKey: keyID) }) else { return }
        invalidate(digest: digest)
    }

    /// Keeps every entry but stops trusting it, until ``resumeConfirming()``: each look-up asks the
    /// store again, and its answer is cached *unconfirmed* too (as is the answer of a load already
    /// running), so the next look-up asks again. An entry is served only if the store fails, and
    /// only within its freshness. What a change feed does when it is not listening: changes may go
    /// unannounced, so nothing is served as confirmed — but a database that is down too should not
    /// turn every key into an error at once.
    public func unconfirmAll() {
        for (shard, index) in zip(shards, indexes) {
            shard.withLock { state in
                state.confirming = false
                state.entries = state.entries.mapValues { entry in
                    var entry = entry
                    entry.confirmed = false
                    return entry
                }
                state.loads = state.loads.mapValues { load in
                    var load = load
                    load.confirmable = false
                    return load
                }
                index.removeAll()
                index.synchronize()
            }
        }
    }

    /// Drops everything and caches loads as confirmed again: what a change feed calls once it
    /// listens (again), since changes made while it was not listening were not announced to it.
    public func resumeConfirming() {
        for (shard, index) in zip(shards, indexes) {
            shard.withLock { state in
                state = Shard(nextToken: state.nextToken, confirming: true)
                index.removeAll()
                index.synchronize()
            }
        }
        digestsByID.withLock { $0.removeAll() }
    }

    /// Whether loads are cached as confirmed: `false` after ``unconfirmAll()``, until
    /// ``resumeConfirming()``.
    public var isConfirming: Bool { shards[0].withLock { $0.confirming } }

    /// Drops everything (an unannounced change of unknown keys, such as a `NOTIFY` typed by hand).
    /// Whether loads are confirmed does not change.
    public func invalidateAll() {
        for (shard, index) in zip(shards, indexes) {
            shard.withLock { state in
                state = Shard(nextToken: state.nextToken, confirming: state.confirming)
                index.removeAll()
                index.synchronize()
            }
        }
        digestsByID.withLock { $0.removeAll() }
    }

    /// How many entries the cache holds now (known and unknown digests).
    public var count: Int { shards.reduce(0) { $0 + $1.withLock { $0.entries.count } } }

    /// What the shards hold, for tests of the memory bound: entries, and digests in the eviction queues.
    var heldState: (entries: Int, queued: Int) {
        shards.reduce(into: (0, 0)) { total, shard in
            shard.withLock { state in
                total.0 += state.entries.count
                total.1 += state.order.count + state.unknownOrder.count
            }
        }
    }

    // MARK: Pass-through

    /// The record with the identifier `id`, from the store (not cached).
    ///
    /// - Parameter id: A key identifier.
    /// - Returns: The record, if one has that identifier.
    public func record(withID id: APIKeyID) async throws -> KeyRecord? {
        try await base.record(withID: id)
    }

    /// Every record of a merchant, from the store (not cached).
    ///
    /// - Parameter merchantID: The merchant.
    /// - Returns: The merchant's records.
    public func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] {
        try await base.records(forMerchant: merchantID)
    }

    /// Adds a record to the store and drops any cached answer for its digest (such as "unknown").
    ///
    /// - Parameter record: The record.
    public func insert(_ record: KeyRecord) async throws {
        defer { invalidate(digest: record.digest) }
        try await base.insert(record)
    }

    /// Replaces a record in the store and drops the cached one.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement.
    /// - Returns: Whether the store replaced it.
    public func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool {
        defer { invalidate(digest: current.digest) }
        return try await base.replace(current, with: new)
    }

    /// Removes a record from the store and drops the cached one.
    ///
    /// - Parameter current: The record as the caller last read it.
    /// - Returns: Whether the store removed it.
    public func remove(_ current: KeyRecord) async throws -> Bool {
        defer { invalidate(digest: current.digest) }
        return try await base.remove(current)
    }

    /// Records last use in the store (cached records keep their old value until reloaded: last use
    /// is not part of any decision).
    ///
    /// - Parameter uses: For each key, when it was used, to the minute.
    public func recordUses(_ uses: [APIKeyID: Date]) async throws {
        try await base.recordUses(uses)
    }

    /// Adds a record and its event to the store and drops any cached answer for its digest.
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - event: What happened.
    public func insert(_ record: KeyRecord, event: KeyEvent) async throws {
        defer { invalidate(digest: record.digest) }
        try await base.insert(record, event: event)
    }

    /// Replaces a record and records the event in the store, and drops the cached record.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement.
    ///   - event: What happened.
    /// - Returns: Whether the store replaced it.
    public func replace(_ current: KeyRecord, with new: KeyRecord, event: KeyEvent) async throws -> Bool {
        defer { invalidate(digest: current.digest) }
        return try await base.replace(current, with: new, event: event)
    }

    /// Whether the store behind the cache keeps the audit trail.
    public var keepsAuditTrail: Bool { base.keepsAuditTrail }

    /// The audit trail of a key, from the store.
    ///
    /// - Parameter id: The key.
    /// - Returns: Its events.
    public func events(forKey id: APIKeyID) async throws -> [KeyEvent] {
        try await base.events(forKey: id)
    }
}
