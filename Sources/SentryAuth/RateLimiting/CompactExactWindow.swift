import Synchronization

/// The exact sliding window of one key in 128 bytes: the state that ``InMemoryRateLimitStore`` keeps
/// inline in its table for limits of at most 60 units in windows of at most 65,534 ms (the Sentry
/// limit among them). ``SlidingWindowLimiter`` keeps the rest.
///
/// ## Layout
///
/// Two adjacent cache lines, 128-byte aligned:
///
/// | bytes | content |
/// | --- | --- |
/// | 0–7 | the state word: lock bit (63), moved bit (62), head (56–61), count (49–55), newest admission time in ms (0–48) |
/// | 8–127 | 60 admission times, each its millisecond modulo 2¹⁶ |
///
/// The ring holds the times of the last `count` admitted units (at most the limit), oldest at `head`.
/// Every stored time lies within 65,535 ms of the newest, so a 16-bit time decodes exactly:
/// `newest − ((newest − stored) mod 2¹⁶)`. An admission that moves the newest time on drops the units
/// that would leave that range first.
///
/// ## Decisions
///
/// Exactly ``SlidingWindowLimiter``'s rule on the same times: admitting cost *c* at time *t* is allowed
/// when the unit `limit − c` places before the next one (unit *k*) was admitted at or before
/// *t* − window, or does not exist; every admitted unit is stored at the maximum of its time (rounded
/// up to the millisecond) and the newest, so stored times never decrease. Checks round *t* down.
///
/// **The one difference.** A unit more than 65,535 ms older than the newest admission is no longer
/// kept. It lies outside every window that ends at or after the newest admission, so the decisions are
/// exactly the ring's for any request at most 65,535 ms − window behind the newest (5.5 s for the Sentry
/// limit). A request whose clock is further behind may be admitted where the ring would refuse; it is
/// stored at the newest time, so no window of stored times ever holds more than the limit.
///
/// ## Concurrency
///
/// The caller holds the window's lock (bit 63 of the state word, taken with a compare-and-swap,
/// released by storing the new word) around ``decide(state:stamps:limit:cost:at:)``; the ring is read
/// and written only under it.
enum CompactExactWindow: CompactWindowKind {
    /// Bytes per window, and its alignment.
    static let size = 128
    /// The most units a compact window holds.
    static let maximumLimit = 60
    /// The longest window it keeps: stored times must decode within 2¹⁶ ms of the newest, and a
    /// unit 65,535 ms old must already have left every window.
    static let maximumWindowMilliseconds = 65_534

    /// Whether a limit fits a compact window: at most 60 units in at most 65,534 ms.
    @inline(__always)
    static func fits(_ limit: RateLimit) -> Bool {
        limit.limit <= maximumLimit && limit.windowMilliseconds <= maximumWindowMilliseconds
    }

    static let headShift: UInt64 = 56
    static let countShift: UInt64 = 49
    static let fieldMask: UInt64 = 0x3F
    static let countMask: UInt64 = 0x7F
    static let timeMask: UInt64 = (1 << 49) - 1

    /// The state word's fields.
    @inline(__always)
    static func fields(_ state: UInt64) -> (head: Int, count: Int, newest: UInt64) {
        (Int((state >> headShift) & fieldMask), Int((state >> countShift) & countMask), state & timeMask)
    }

    /// A state word from its fields (unlocked).
    @inline(__always)
    static func word(head: Int, count: Int, newest: UInt64) -> UInt64 {
        UInt64(head) << headShift | UInt64(count) << countShift | newest & timeMask
    }

    /// Whether nothing the window holds lies in the window at `now` (ms, rounded down): the key's
    /// state can be forgotten.
    @inline(__always)
    static func isIdle(state: UInt64, payload: UnsafeMutableRawPointer, windowMilliseconds: UInt64, now: UInt64)
        -> Bool
    {
        let (_, count, newest) = fields(state)
        return count == 0 || newest + windowMilliseconds <= now
    }

    /// The identity's low 22 bits: the limit (6 bits) and the window in ms (16 bits).
    static var limitBits: Int { 22 }

    @inline(__always)
    static func code(_ limit: RateLimit) -> UInt64 { UInt64(limit.limit) << 16 | UInt64(limit.windowMilliseconds) }

    @inline(__always)
    static func windowMilliseconds(code: UInt64) -> UInt64 { code & 0xFFFF }

    @inline(__always)
    static func decide(
        state: UInt64, payload: UnsafeMutableRawPointer, limit: RateLimit, cost: Int, at instant: MonotonicInstant
    ) -> (RateLimitDecision, UInt64) {
        decide(
            state: state, stamps: payload.assumingMemoryBound(to: UInt16.self), limit: limit, cost: cost, at: instant)
    }

    /// Decides a request of cost `cost` (already checked to be in 0...limit) at `instant`, changing the
    /// ring if it is admitted.
    ///
    /// - Parameters:
    ///   - state: The state word, without the lock bit.
    ///   - stamps: The window's 60 stored times (bytes 8–127).
    ///   - limit: The key's limit; it must fit (``fits(_:)``).
    ///   - cost: The request's cost.
    ///   - instant: The request's time.
    /// - Returns: The decision, and the state word to store (unlocked).
    @inline(__always)
    static func decide(
        state: UInt64, stamps: UnsafeMutablePointer<UInt16>, limit: RateLimit, cost: Int, at instant: MonotonicInstant
    ) -> (RateLimitDecision, UInt64) {
        let capacity = limit.limit
        let window = UInt64(limit.windowMilliseconds)
        let now = min(instant.nanoseconds / 1_000_000, timeMask)  // rounded down, for checking
        let stamp = min(instant.nanoseconds / 1_000_000 + (instant.nanoseconds % 1_000_000 == 0 ? 0 : 1), timeMask)
        var (head, count, newest) = fields(state)
        var ring = Ring(stamps: stamps, capacity: capacity, head: head, newest: newest)
        if cost == 0 {
            return (decision(ring, count: count, allowed: true, limit: limit, now: now), state)
        }
        // Unit k, the (limit − cost + 1)-th newest, must have left the window.
        let k = count - (capacity - cost + 1)
        if k >= 0 {
            let admittedAt = ring.time(at: k)
            if admittedAt + window > now {
                let wait = min(admittedAt + window - now, window)
                let remaining = cost == 1 ? 0 : capacity - ring.inWindow(count: count, now: now, window: window).used
                return (
                    RateLimitDecision(
                        isAllowed: false, limit: limit, remaining: UInt32(remaining),
                        resetAfterMilliseconds: UInt32(wait)),
                    state
                )
            }
        }
        // Admitted: drop what the new newest time can no longer encode, make room, append.
        let latest = max(newest, stamp)
        if count > 0 && latest - newest > 0xFFFF {
            count = 0
        } else {
            while count > 0 && latest - ring.time(at: 0) > 0xFFFF {
                head = head + 1 == capacity ? 0 : head + 1
                count -= 1
                ring.head = head
            }
        }
        let overflow = count + cost - capacity
        if overflow > 0 {
            head = (head + overflow) % capacity
            count -= overflow
        }
        var slot = (head + count) % capacity
        let encoded = UInt16(truncatingIfNeeded: latest)
        for _ in 0..<cost {
            stamps[slot] = encoded
            slot = slot + 1 == capacity ? 0 : slot + 1
        }
        count += cost
        newest = latest
        let after = Ring(stamps: stamps, capacity: capacity, head: head, newest: newest)
        return (
            decision(after, count: count, allowed: true, limit: limit, now: now),
            word(head: head, count: count, newest: newest)
        )
    }

    /// An allowed decision (or a cost-0 query) with `remaining` and `resetAfter` from the ring.
    @inline(__always)
    private static func decision(_ ring: Ring, count: Int, allowed: Bool, limit: RateLimit, now: UInt64)
        -> RateLimitDecision
    {
        let window = UInt64(limit.windowMilliseconds)
        let (used, oldest) = ring.inWindow(count: count, now: now, window: window)
        // Never more than the window: a time stored in now's millisecond (rounded up) would read as window + 1 ms.
        let reset = used == 0 ? 0 : min(oldest + window - min(now, oldest + window), window)
        return RateLimitDecision(
            isAllowed: allowed, limit: limit, remaining: UInt32(limit.limit - used),
            resetAfterMilliseconds: UInt32(reset))
    }

    /// The ring's stored times, oldest first.
    struct Ring {
        let stamps: UnsafeMutablePointer<UInt16>
        let capacity: Int
        var head: Int
        let newest: UInt64

        /// The full time of the `index`-th oldest stored unit.
        @inline(__always)
        func time(at index: Int) -> UInt64 {
            var slot = head + index
            if slot >= capacity { slot -= capacity }
            return newest - UInt64(UInt16(truncatingIfNeeded: newest) &- stamps[slot])
        }

        /// How many stored units lie in (now − window, now], and the time of the oldest of them.
        /// Times are non-decreasing from the oldest: a busy key has all inside (one probe), otherwise
        /// a binary search finds the first inside.
        @inline(__always)
        func inWindow(count: Int, now: UInt64, window: UInt64) -> (used: Int, oldest: UInt64) {
            guard count > 0 else { return (0, 0) }
            let first = time(at: 0)
            if first + window > now { return (count, first) }
            var low = 1
            var high = count
            while low < high {
                let middle = (low + high) / 2
                if time(at: middle) + window > now { high = middle } else { low = middle + 1 }
            }
            let used = count - low
            return used == 0 ? (0, 0) : (used, time(at: low))
        }
    }
}
