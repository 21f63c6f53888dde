import NIOConcurrencyHelpers
import SentryAuth

/// What an instance remembers of each key's window in Redis, and the admissions it made on its own
/// while Redis did not answer: the local limiter of ``RedisRateLimitStore``'s fallback.
///
/// - **Remembered.** Every answer from Redis carries the window's units as up to 8 groups (see
///   `SlidingWindowScript`), each with the time its newest unit leaves the window; they are kept per
///   key in this instance's clock (Redis's milliseconds minus the offset measured with the answer).
/// - **Local admissions** are checked against the remembered units plus the earlier local ones —
///   the exact sliding window, started from where Redis left it, so a stall never opens a fresh
///   window and `X-RateLimit-Remaining` stays truthful.
/// - **Written back.** Each local admission has a member name (`INSTANCE:N`) and is sent to Redis
///   with the key's next script run once Redis answers (and all at once by ``pendingKeys``), so
///   Redis's window holds it too; a pair sent twice is added once.
/// - **Bounded.** At most `capacity` keys: entries whose units have all left the window are swept
///   first; a key beyond that is not remembered (its fallback starts empty).
final class FallbackWindows: Sendable {
    /// One local admission not yet in Redis.
    struct LocalUnit: Sendable, Hashable {
        var stamp: Int64
        var sequence: UInt64
    }

    struct Group: Sendable, Hashable {
        /// When the group's units have all left the window, in local milliseconds.
        var expiresAt: Int64
        var units: Int
    }

    struct KeyWindow: Sendable {
        var limit: RateLimit
        var remembered: [Group] = []
        /// When Redis gave the remembered answer (its milliseconds) and how many units it counted:
        /// replies on different connections arrive in any order, and only the newest is kept.
        var observedAt = Int64.min
        var observedUsed = 0
        var local: [LocalUnit] = []
        var lastUsed: Int64
    }

    /// The admission names' prefix: unique per store, so that two instances' names never collide.
    let instance: String
    let capacity: Int
    private let shards: [NIOLockedValueBox<[APIKeyID: KeyWindow]>]
    private let nextSequence = NIOLockedValueBox<UInt64>(0)

    init(instance: String, capacity: Int = 100_000) {
        self.instance = instance
        self.capacity = max(16, capacity)
        shards = (0..<16).map { _ in NIOLockedValueBox([:]) }
    }

    private func shard(_ key: APIKeyID) -> NIOLockedValueBox<[APIKeyID: KeyWindow]> {
        shards[Int(UInt(bitPattern: key.hashValue) % 16)]
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Stores what Redis answered for `key` at `now` (local ms) — its `used` units and the stamps of
    /// the group boundaries, at `redisNow` (Redis ms) — unless a newer answer is remembered already.
    /// `written` local units were sent with this run and are in Redis now.
    func remember(
        _ key: APIKeyID, limit: RateLimit, used: Int, stamps: [Int64], redisNow: Int64, at now: Int64,
        written: [LocalUnit]
    ) {
        let offset = redisNow - now
        let window = Self.milliseconds(limit.window)
        var groups: [Group] = []
        var previousRank = -1
        for (index, stamp) in stamps.enumerated() {
            let rank = ((index + 1) * used + stamps.count - 1) / stamps.count - 1  // ⌈i·used/k⌉ − 1
            groups.append(Group(expiresAt: stamp + window - offset, units: rank - previousRank))
            previousRank = rank
        }
        let shard = shard(key)
        shard.withLockedValue { windows in
            if windows[key] == nil && windows.count >= capacity / 16 {
                windows = windows.filter { !Self.isIdle($0.value, at: now) }
                if windows.count >= capacity / 16 { return }
            }
            var entry = windows[key].flatMap { $0.limit == limit ? $0 : nil } ?? KeyWindow(limit: limit, lastUsed: now)
            if redisNow > entry.observedAt || (redisNow == entry.observedAt && used >= entry.observedUsed) {
                entry.remembered = groups
                entry.observedAt = redisNow
                entry.observedUsed = used
            }
            if !written.isEmpty {
                let sent = Set(written.map(\.sequence))
                entry.local.removeAll { sent.contains($0.sequence) }
            }
            entry.lastUsed = now
            windows[key] = entry
        }
    }

    private static func isIdle(_ window: KeyWindow, at now: Int64) -> Bool {
        let length = milliseconds(window.limit.window)
        return window.remembered.allSatisfy { $0.expiresAt <= now }
            && window.local.allSatisfy { $0.stamp + length <= now }
    }

    /// The local admissions of `key` not yet in Redis (stamps in local milliseconds).
    func pending(_ key: APIKeyID) -> [LocalUnit] {
        shard(key).withLockedValue { $0[key]?.local ?? [] }
    }

    /// Every key with local admissions not yet in Redis.
    var pendingKeys: [(key: APIKeyID, limit: RateLimit)] {
        shards.flatMap { shard in
            shard.withLockedValue { windows in
                windows.compactMap { $0.value.local.isEmpty ? nil : ($0.key, $0.value.limit) }
            }
        }
    }

    /// Decides without Redis: the exact sliding window over the remembered units and the local ones.
    func acquire(_ key: APIKeyID, cost: Int, limit: RateLimit, at now: Int64) -> RateLimitDecision {
        let window = Self.milliseconds(limit.window)
        let sequences: [UInt64] =
            cost == 0
            ? []
            : nextSequence.withLockedValue { next in
                defer { next &+= UInt64(cost) }
                return (0..<UInt64(cost)).map { next &+ $0 }
            }
        return shard(key).withLockedValue { windows in
            var entry = windows[key].flatMap { $0.limit == limit ? $0 : nil } ?? KeyWindow(limit: limit, lastUsed: now)
            entry.remembered.removeAll { $0.expiresAt <= now }
            // A local unit out of the window is dropped unwritten: Redis would skip it too.
            entry.local.removeAll { $0.stamp + window <= now }
            entry.lastUsed = now
            // Units in the window, each with when it leaves it, oldest first.
            var expiries =
                entry.remembered.map { ($0.expiresAt, $0.units) } + entry.local.map { ($0.stamp + window, 1) }
            expiries.sort { $0.0 < $1.0 }
            let used = expiries.reduce(0) { $0 + $1.1 }
            let decision: RateLimitDecision
            if cost > 0 && used + cost > limit.limit {
                // Wait until enough units leave: the first expiry after which used − freed + cost ≤ limit.
                var freed = 0
                var wait = window
                for (expiresAt, units) in expiries {
                    freed += units
                    if used - freed + cost <= limit.limit {
                        wait = expiresAt - now
                        break
                    }
                }
                decision = RateLimitDecision(
                    isAllowed: false, limit: limit, remaining: max(0, limit.limit - used),
                    resetAfter: .milliseconds(min(window, max(0, wait))))
            } else {
                for sequence in sequences { entry.local.append(LocalUnit(stamp: now, sequence: sequence)) }
                let oldest = expiries.first.map { $0.0 - now } ?? (cost > 0 ? window : 0)
                decision = RateLimitDecision(
                    isAllowed: true, limit: limit, remaining: max(0, limit.limit - used - cost),
                    resetAfter: .milliseconds(min(window, max(0, oldest))))
            }
            if windows[key] != nil || windows.count < capacity / 16 { windows[key] = entry }
            return decision
        }
    }

    /// Forgets a key.
    func remove(_ key: APIKeyID) {
        _ = shard(key).withLockedValue { $0.removeValue(forKey: key) }
    }

    /// How many keys are remembered.
    var count: Int { shards.reduce(0) { $0 + $1.withLockedValue { $0.count } } }
}
