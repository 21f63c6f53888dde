import NIOConcurrencyHelpers
import SentryAuth

/// What an instance remembers of each key's window in Redis, and the admissions it made on its own
/// while Redis did not answer: the local limiter of ``RedisRateLimitStore``'s fallback.
///
/// - **Remembered.** Every answer from Redis carries how many units the window holds; at most once
///   a second per key (``stampInterval``) it also carries their stamps, as up to 8 groups (see
///   `SlidingWindowScript`), each with the time its newest unit leaves the window. They are kept per
///   key in this instance's clock (Redis's milliseconds minus the offset measured with the answer);
///   between stamped answers the counts adjust the groups, never towards admitting more.
/// - **Local admissions** are checked against the remembered units plus the earlier local ones —
///   the exact sliding window, started from where Redis left it, so a stall never opens a fresh
///   window and `X-RateLimit-Remaining` stays truthful.
/// - **Written back.** Each local admission has a member name (`INSTANCE:N`) and is sent to Redis
///   with the key's next script run once Redis answers (and all at once by ``pendingKeys``), so
///   Redis's window holds it too; a pair sent twice is added once.
/// - **Bounded.** At most `capacity` keys: when full, entries whose units have all left the window
///   are swept (at most once a second), then another key is forgotten (its fallback starts empty,
///   as an unseen key's does): every key decided in a fallback is tracked.
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
        /// The earliest any of them can leave it: until then all of them are surely still there.
        var earliest: Int64
    }

    struct KeyWindow: Sendable {
        var limit: RateLimit
        var remembered: [Group] = []
        /// When Redis gave the remembered answer (its milliseconds) and how many units it counted:
        /// replies on different connections arrive in any order, and only the newest is kept.
        var observedAt = Int64.min
        var observedUsed = 0
        /// When (local ms) the groups last came from the window's stamps, not from counts alone.
        var stampedAt = Int64.min
        var local: [LocalUnit] = []
        var lastUsed: Int64
    }

    /// The admission names' prefix: unique per store, so that two instances' names never collide.
    let instance: String
    let capacity: Int
    /// One shard: its keys, and when it last swept the idle ones out (at most once a second when
    /// full, so a full shard costs a new key a dictionary look-up, not a sweep).
    private struct Shard {
        var windows: [APIKeyID: KeyWindow] = [:]
        var sweptAt = Int64.min

        /// Makes room for `key` at `now`: when the shard is full, sweeps the idle keys (at most once a
        /// second), and if it is still full forgets one other key — which then starts from nothing
        /// in a fallback, as an unseen key does, rather than `key` going untracked.
        mutating func makeRoom(for key: APIKeyID, capacity: Int, at now: Int64) {
            if windows[key] != nil || windows.count < capacity { return }
            if sweptAt == .min || now < sweptAt || now - sweptAt >= 1_000 {
                sweptAt = now
                windows = windows.filter { !FallbackWindows.isIdle($0.value, at: now) }
            }
            if windows.count >= capacity, let other = windows.first?.key { windows[other] = nil }
        }
    }

    private let shards: [NIOLockedValueBox<Shard>]
    private let nextSequence = NIOLockedValueBox<UInt64>(0)

    init(instance: String, capacity: Int = 100_000) {
        self.instance = instance
        self.capacity = max(16, capacity)
        shards = (0..<16).map { _ in NIOLockedValueBox(Shard()) }
    }

    private func shard(_ key: APIKeyID) -> NIOLockedValueBox<Shard> {
        shards[Int(UInt(bitPattern: key.hashValue) % 16)]
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// How often each key's stamps are asked for: between them, answers carry counts only.
    static let stampInterval: Int64 = 1_000

    /// Whether the next run for `key` should ask for the window's stamps: none remembered, or
    /// remembered more than ``stampInterval`` ago (the stamps cost Redis a few look-ups a run).
    func wantsStamps(_ key: APIKeyID, limit: RateLimit, at now: Int64) -> Bool {
        shard(key).withLockedValue { shard in
            guard let entry = shard.windows[key], entry.limit == limit else { return true }
            return entry.stampedAt == .min || now < entry.stampedAt || now - entry.stampedAt >= Self.stampInterval
        }
    }

    /// Stores what Redis answered for `key` at `now` (local ms) — its `used` units, at `redisNow`
    /// (Redis ms), and the stamps of the group boundaries if asked for — unless a newer answer is
    /// remembered already. Without stamps the count is reconciled with the remembered groups so that
    /// the fallback never admits more than Redis would: units beyond those surely still there may be
    /// new, and leave a window from now; of all of them, the `used` that leave latest are kept.
    /// `written` local units were sent with this run and are in Redis now.
    func remember(
        _ key: APIKeyID, limit: RateLimit, used: Int, stamps: [Int64]?, redisNow: Int64, at now: Int64,
        written: [LocalUnit]
    ) {
        let offset = redisNow - now
        let window = Self.milliseconds(limit.window)
        let shard = shard(key)
        shard.withLockedValue { shard in
            shard.makeRoom(for: key, capacity: capacity / 16, at: now)
            var entry =
                shard.windows[key].flatMap { $0.limit == limit ? $0 : nil } ?? KeyWindow(limit: limit, lastUsed: now)
            if redisNow > entry.observedAt || (redisNow == entry.observedAt && used >= entry.observedUsed) {
                if let stamps {
                    var groups: [Group] = []
                    var previousRank = -1
                    // The first group's units entered the window after `redisNow − window`.
                    var previousExpiry = now + 1
                    for (index, stamp) in stamps.enumerated() {
                        let rank = ((index + 1) * used + stamps.count - 1) / stamps.count - 1  // ⌈i·used/k⌉ − 1
                        let expiry = stamp + window - offset
                        groups.append(Group(expiresAt: expiry, units: rank - previousRank, earliest: previousExpiry))
                        previousRank = rank
                        previousExpiry = expiry
                    }
                    entry.remembered = groups
                    entry.stampedAt = now
                } else {
                    // Units admitted since the last answer can be as many as `used` minus the units
                    // surely still there; they leave a window from now at the latest. Of those and the
                    // remembered groups, the `used` that leave latest are kept: every unit Redis holds
                    // then leaves no later than one kept here (by induction over answers).
                    entry.remembered.removeAll { $0.expiresAt <= now }
                    let surely = entry.remembered.reduce(0) { $0 + ($1.earliest > now ? $1.units : 0) }
                    let observed = entry.observedAt == .min ? now : entry.observedAt - offset
                    if used > surely {
                        entry.remembered.append(
                            Group(expiresAt: now + window, units: used - surely, earliest: observed + window))
                    }
                    entry.remembered.sort { $0.expiresAt > $1.expiresAt }
                    var kept = 0
                    entry.remembered = entry.remembered.compactMap { group in
                        guard kept < used else { return nil }
                        var group = group
                        group.units = min(group.units, used - kept)
                        kept += group.units
                        return group
                    }
                    entry.remembered.reverse()
                }
                entry.observedAt = redisNow
                entry.observedUsed = used
            }
            if !written.isEmpty {
                let sent = Set(written.map(\.sequence))
                entry.local.removeAll { sent.contains($0.sequence) }
            }
            entry.lastUsed = now
            shard.windows[key] = entry
        }
    }

    fileprivate static func isIdle(_ window: KeyWindow, at now: Int64) -> Bool {
        let length = milliseconds(window.limit.window)
        return window.remembered.allSatisfy { $0.expiresAt <= now }
            && window.local.allSatisfy { $0.stamp + length <= now }
    }

    /// The local admissions of `key` not yet in Redis (stamps in local milliseconds).
    func pending(_ key: APIKeyID) -> [LocalUnit] {
        shard(key).withLockedValue { $0.windows[key]?.local ?? [] }
    }

    /// Every key with local admissions not yet in Redis.
    var pendingKeys: [(key: APIKeyID, limit: RateLimit)] {
        shards.flatMap { shard in
            shard.withLockedValue { shard in
                shard.windows.compactMap { $0.value.local.isEmpty ? nil : ($0.key, $0.value.limit) }
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
        return shard(key).withLockedValue { shard in
            var entry =
                shard.windows[key].flatMap { $0.limit == limit ? $0 : nil } ?? KeyWindow(limit: limit, lastUsed: now)
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
            shard.makeRoom(for: key, capacity: capacity / 16, at: now)
            shard.windows[key] = entry
            return decision
        }
    }

    /// Forgets a key.
    func remove(_ key: APIKeyID) {
        _ = shard(key).withLockedValue { $0.windows.removeValue(forKey: key) }
    }

    /// How many keys are remembered.
    var count: Int { shards.reduce(0) { $0 + $1.withLockedValue { $0.windows.count } } }
}
