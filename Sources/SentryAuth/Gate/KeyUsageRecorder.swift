#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// When each key was last used, noted in memory on the request's path and written to the key store
/// in the background: at most once per key per minute, in batches, never during a request.
///
/// Give it to the gate (``RequestGate/init(keys:policy:rateLimits:clock:wallClock:format:realm:usage:failedAuthentications:sunsetWarning:)``)
/// and run ``run(every:)`` for the life of the server (or call ``flush()`` yourself, and once more at
/// shutdown). A crash loses at most the uses noted since the last flush.
///
/// ```swift
/// let usage = KeyUsageRecorder(store: keys)
/// let gate = RequestGate(keys: keys, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), usage: usage)
/// Task { await usage.run() }   // flushes once a minute
/// ```
///
/// Times are coarse on purpose — to the minute, rounded down — which is what people ask of "last
/// used" and what keeps the writes to one per key per minute.
public final class KeyUsageRecorder: Sendable {
    /// Where last use is written, through ``KeyStore/recordUses(_:)``.
    public let store: any KeyStore
    /// The clock the gate reads (a use is noted at the gate's instant).
    public let clock: any MonotonicClock
    /// The clock that dates the uses when they are written.
    public let wallClock: any WallClock

    static let shardCount = 16

    struct Shard: Sendable {
        /// The latest use of each key since the last flush, on the monotonic clock (nanoseconds).
        var pending: [APIKeyID: UInt64] = [:]
        /// The minute last written for each key, to write each minute at most once.
        var written: [APIKeyID: Date] = [:]
    }

    private let shards: [Locked<Shard>]

    /// Creates a recorder.
    ///
    /// - Parameters:
    ///   - store: Where last use is written.
    ///   - clock: The gate's monotonic clock; the system's by default.
    ///   - wallClock: The wall clock that dates uses; the system's by default.
    public init(
        store: some KeyStore, clock: any MonotonicClock = SystemMonotonicClock(),
        wallClock: any WallClock = SystemWallClock()
    ) {
        self.store = store
        self.clock = clock
        self.wallClock = wallClock
        shards = (0..<Self.shardCount).map { _ in Locked(Shard()) }
    }

    private func shard(_ id: APIKeyID) -> Locked<Shard> {
        var hasher = Hasher()
        hasher.combine(id)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.shardCount))]
    }

    /// Notes that a key was used at `instant` (the gate's reading of ``clock``). One short critical
    /// section on one of 16 locks; no store access.
    ///
    /// - Parameters:
    ///   - id: The key.
    ///   - instant: When.
    public func note(_ id: APIKeyID, at instant: MonotonicInstant) {
        shard(id).withLock { state in
            if let noted = state.pending[id], noted >= instant.nanoseconds { return }
            state.pending[id] = instant.nanoseconds
        }
    }

    /// Writes the uses noted since the last flush, to the minute, in one ``KeyStore/recordUses(_:)``
    /// call; a key whose minute was already written is left out. On a store error the uses are
    /// kept for the next flush.
    ///
    /// - Returns: How many keys were written.
    /// - Throws: The store's error.
    @discardableResult
    public func flush() async throws -> Int {
        let nowMonotonic = clock.now().nanoseconds
        let nowWall = wallClock.now()
        var used: [APIKeyID: UInt64] = [:]
        for shard in shards {
            used.merge(
                shard.withLock { state in
                    defer { state.pending = [:] }
                    return state.pending
                }
            ) { $1 }
        }
        var batch: [APIKeyID: Date] = [:]
        for (id, instant) in used {
            let minute = Self.minute(
                of: nowWall.addingTimeInterval(-Double(nowMonotonic &- min(instant, nowMonotonic)) / 1e9))
            // Leave out what was already written for that minute.
            if shard(id).withLock({ $0.written[id] != minute }) { batch[id] = minute }
        }
        guard !batch.isEmpty else { return 0 }
        do {
            try await store.recordUses(batch)
        } catch {
            // Keep them for the next flush, at the instants they were noted (a later use still wins).
            for id in batch.keys { note(id, at: MonotonicInstant(nanoseconds: used[id]!)) }
            throw error
        }
        for (id, minute) in batch { shard(id).withLock { $0.written[id] = minute } }
        return batch.count
    }

    /// Flushes every `interval` (a minute by default) until the task is cancelled, then once more.
    /// Store errors are retried at the next interval.
    ///
    /// - Parameter interval: How often to write.
    public func run(every interval: Duration = .seconds(60)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            _ = try? await flush()
        }
    }

    /// `date` rounded down to the minute (UTC).
    static func minute(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60)
    }
}
