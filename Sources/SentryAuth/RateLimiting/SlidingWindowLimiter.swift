import Synchronization

/// The exact sliding-window rate limiter for one key: in no window of the limit's length does it
/// admit more than the limit.
///
/// Its check is lock-free (atomic loads and one compare-and-swap; no mutex, no actor hop) and
/// allocates nothing: the state is allocated once, when the key is first seen.
///
/// ```swift
/// let limiter = SlidingWindowLimiter(limit: .default)            // 60 per 60 s
/// let decision = limiter.acquire(at: .milliseconds(1_000))
/// decision.isAllowed; decision.remaining                          // true, 59
/// ```
///
/// ## How it works
///
/// Every admitted unit of cost gets a sequence number *u* = 0, 1, 2, … and an admission time
/// *T(u)*; the limiter keeps the last `limit` of them (at least) in a ring of atomic 64-bit slots,
/// sized to the next power of two so every index is a mask (slot *u* mod ring holds *T(u)* and
/// the tag *u* mod 2²⁴). A 64-bit atomic
/// word holds the number *n* of units admitted so far together with the latest admission time.
///
/// Admitting cost *c* at time *t* is allowed exactly when at most `limit − c` units lie in
/// (*t* − window, *t*]. Because admission times never decrease along the sequence, that is the case
/// exactly when unit *k* = *n* + *c* − `limit` − 1 was admitted at or before *t* − window (or *k* < 0):
/// one slot read decides. The admission then claims units *n* ..< *n* + *c* with a compare-and-swap
/// of the counter word from (*n*, *T*) to (*n* + *c*, max(*t*, *T*)), and writes the new slots.
///
/// **Linearization.** A successful admission takes effect at its compare-and-swap: claims are
/// totally ordered by it, and the time stored with each claim is the maximum of its own time and
/// the previous claim's, so stored times are non-decreasing in claim order even when callers' clocks
/// disagree or step backwards. A refusal takes effect at its load of the counter word.
///
/// **Why it never over-admits.** A claim of *n* ..< *n* + *c* succeeds only if the counter still
/// read *n*, so the slot it checked, for unit *k* < *n*, held that unit's final time (its tag
/// matched). Every window (*t* − w, *t*] ending at an admission holds at most the units after *k*,
/// which number at most `limit`; windows that end elsewhere hold no more than the one ending at the
/// last admission before them.
///
/// **The one conservative case.** If the slot of unit *k* does not yet carry tag *k*, the thread
/// that claimed *k* has not written it yet. After a short spin the limiter refuses, so a stalled
/// writer can make it refuse early (it never over-admits). Reading a slot that a newer claim
/// already overwrote means the counter moved: the check starts again.
///
/// **Time.** The limiter works in whole milliseconds. Instants are rounded down when checking and
/// admission times rounded up when stored, so with millisecond-aligned clocks it is exact and
/// otherwise it errs towards refusing, by less than 1 ms.
public final class SlidingWindowLimiter: Sendable {
    /// The limit enforced.
    public let limit: RateLimit
    /// The window in milliseconds.
    let windowMilliseconds: UInt64
    /// The limit as a count of units.
    let slotCount: UInt64
    /// The ring's size: the limit rounded up to a power of two, so slot indices are masks, not divisions.
    let ringMask: UInt64
    /// Sequence numbers and tags run modulo 2²⁴ (a multiple of the ring size): a mask too.
    static let unitMask: UInt64 = (1 << 24) - 1
    /// Low 24 bits: units admitted, modulo 2²⁴. High 40 bits: the latest admission time, encoded.
    let counter: Atomic<UInt64>
    /// One slot per unit of the limit: low 24 bits tag, high 40 bits admission time, encoded.
    /// Allocated once in `init`, freed in `deinit`, and only ever accessed through its atomics.
    nonisolated(unsafe) let slots: UnsafeMutablePointer<Atomic<UInt64>>

    /// Times are stored as milliseconds + 1, so 0 means "never".
    static let never: UInt64 = 0
    static let timeLimit: UInt64 = (1 << 40) - 2
    static let tagMask: UInt64 = (1 << 24) - 1
    /// The counter value of a limiter that a store has retired.
    static let retired: UInt64 = .max
    /// Spins before a check gives up waiting for a stalled writer.
    static let spinLimit = 64

    /// Creates a limiter with no admissions.
    ///
    /// - Parameter limit: The limit to enforce.
    public convenience init(limit: RateLimit) {
        self.init(limit: limit, firstUnit: 0)
    }

    /// A limiter whose first admitted unit gets sequence number `firstUnit` (mod 2²⁴): tests start
    /// near the wraparound of the unit numbers instead of admitting 2²⁴ units first.
    init(limit: RateLimit, firstUnit: UInt64) {
        self.limit = limit
        self.windowMilliseconds = UInt64(limit.windowMilliseconds)
        let count = UInt64(limit.limit)
        let ring = 1 << (64 - (count - 1).leadingZeroBitCount)
        self.slotCount = count
        self.ringMask = UInt64(ring) - 1
        let first = firstUnit & Self.unitMask
        self.counter = Atomic(first)
        self.slots = .allocate(capacity: ring)
        // Units first − ring … first − 1 (mod 2²⁴) are "never admitted": each slot holds the tag of the
        // one of them that maps to it (for first = 0, slot i holds 2²⁴ − ring + i).
        for index in 0..<ring {
            let unit = (first &- UInt64(ring) &+ UInt64(index)) & Self.unitMask
            (slots + Int(unit & UInt64(ring - 1))).initialize(to: Atomic(unit))
        }
    }

    deinit {
        slots.deinitialize(count: Int(ringMask) + 1)
        slots.deallocate()
    }

    /// Admits a request of cost 1 at `instant` if the window has room.
    ///
    /// - Parameter instant: The time of the request, from a ``MonotonicClock``.
    /// - Returns: The decision.
    public func acquire(at instant: MonotonicInstant) -> RateLimitDecision {
        tryAcquire(cost: 1, at: instant) ?? retiredDecision
    }

    /// Admits a request of cost `cost` at `instant` if the window has room.
    ///
    /// - Parameters:
    ///   - cost: The request's cost, from 0 (a query that consumes nothing) to the limit.
    ///   - instant: The time of the request, from a ``MonotonicClock``.
    /// - Returns: The decision.
    /// - Throws: ``RateLimitError/invalidCost(cost:limit:)`` for a negative cost or one above the limit,
    ///   which could never be admitted.
    public func acquire(cost: Int, at instant: MonotonicInstant) throws(RateLimitError) -> RateLimitDecision {
        guard (0...limit.limit).contains(cost) else { throw .invalidCost(cost: cost, limit: limit.limit) }
        return tryAcquire(cost: cost, at: instant) ?? retiredDecision
    }

    /// The decision for a cost already checked to be in 0...limit, or `nil` when a store has retired
    /// this limiter.
    @inline(__always)
    func tryAcquire(cost: Int, at instant: MonotonicInstant) -> RateLimitDecision? {
        let cost = UInt64(cost)
        let now = min(instant.nanoseconds / 1_000_000, Self.timeLimit)  // rounded down, for checking
        let stamp = min((instant.nanoseconds + 999_999) / 1_000_000, Self.timeLimit) + 1  // rounded up, encoded
        var spins = 0
        while true {
            let word = counter.load(ordering: .acquiring)
            if word == Self.retired { return nil }
            let count = word & Self.tagMask
            let latest = word >> 24
            if cost == 0 {
                return decision(allowed: true, count: count, now: now)
            }
            // Unit k = count + cost − limit − 1 must have left the window.
            let k = (count &+ cost &- slotCount &- 1) & Self.unitMask
            let slot = slots[Int(k & ringMask)].load(ordering: .acquiring)
            let tag = slot & Self.tagMask
            if tag != k {
                // Either its writer has not stored it yet, or the counter moved on: look again.
                if counter.load(ordering: .acquiring) != word { continue }
                spins += 1
                if spins < Self.spinLimit { continue }
                // A stalled writer: refuse conservatively.
                return retiredDecision
            }
            let admittedAt = slot >> 24
            if admittedAt != Self.never && admittedAt - 1 + windowMilliseconds > now {
                // Refused: enough quota frees up when unit k leaves the window.
                // At most one window: an admission stored in `now`'s millisecond (rounded up) would
                // otherwise read as window + 1 ms, and a Retry-After of 61 s for a 60 s window.
                let wait = min(admittedAt - 1 + windowMilliseconds - now, windowMilliseconds)
                // For a cost of 1, unit k is the oldest of the last `limit`: all of them are inside.
                let remaining = cost == 1 ? 0 : slotCount - inWindow(count: count, now: now).used
                return RateLimitDecision(
                    isAllowed: false, limit: limit, remaining: UInt32(remaining), resetAfterMilliseconds: UInt32(wait))
            }
            let newLatest = max(latest, stamp)
            let newWord = newLatest << 24 | ((count &+ cost) & Self.unitMask)
            guard counter.compareExchange(expected: word, desired: newWord, ordering: .acquiringAndReleasing).exchanged
            else { continue }
            for unit in 0..<cost {
                let u = (count &+ unit) & Self.unitMask
                slots[Int(u & ringMask)].store(newLatest << 24 | u, ordering: .releasing)
            }
            return decision(allowed: true, count: (count &+ cost) & Self.unitMask, now: now)
        }
    }

    /// An allowed decision (or a cost-0 query) after `count` units, with `remaining` and `resetAfter`.
    @inline(__always)
    private func decision(allowed: Bool, count: UInt64, now: UInt64) -> RateLimitDecision {
        let (used, oldest) = inWindow(count: count, now: now)
        // The oldest unit inside leaves the window at oldest − 1 + window (times are stored + 1).
        // Never more than the window (see the refusal above: stored times are rounded up, `now` down).
        let reset =
            oldest == Self.never
            ? 0 : min(oldest - 1 + windowMilliseconds - min(now, oldest - 1 + windowMilliseconds), windowMilliseconds)
        return RateLimitDecision(
            isAllowed: allowed, limit: limit, remaining: UInt32(slotCount - used), resetAfterMilliseconds: UInt32(reset)
        )
    }

    /// How many of the last `limit` units (before sequence number `count`) lie in (now − window, now],
    /// and the encoded admission time of the oldest of them (``never`` if none, or if its slot no
    /// longer holds it). Admission times are non-decreasing along the sequence, so a binary search
    /// finds the first one inside. A slot not (or no longer) holding its unit counts as inside:
    /// remaining errs low.
    @inline(__always)
    func inWindow(count: UInt64, now: UInt64) -> (used: UInt64, oldest: UInt64) {
        // A busy key (the common case under load: at its limit, or refused) has all of its last
        // `limit` units inside: one probe of the oldest settles it, instead of a full search.
        let first = probe(unit: (count &- slotCount) & Self.unitMask, now: now)
        if first.isInside { return (slotCount, first.admittedAt) }
        var low: UInt64 = 1  // offsets from the oldest of the last `slotCount` units; offset 0 is outside
        var high = slotCount
        while low < high {
            let middle = (low + high) / 2
            if probe(unit: (count &- slotCount &+ middle) & Self.unitMask, now: now).isInside {
                high = middle
            } else {
                low = middle + 1
            }
        }
        let used = slotCount - low
        guard used > 0 else { return (0, Self.never) }
        return (used, probe(unit: (count &- used) & Self.unitMask, now: now).admittedAt)
    }

    /// Whether a unit lies in the window, and its encoded admission time (``never`` when its slot
    /// does not hold it: a unit not yet written, or already overwritten, counts as inside).
    @inline(__always)
    private func probe(unit: UInt64, now: UInt64) -> (isInside: Bool, admittedAt: UInt64) {
        let slot = slots[Int(unit & ringMask)].load(ordering: .acquiring)
        guard slot & Self.tagMask == unit else { return (true, Self.never) }
        let admittedAt = slot >> 24
        return (admittedAt != Self.never && admittedAt - 1 + windowMilliseconds > now, admittedAt)
    }

    private var retiredDecision: RateLimitDecision {
        RateLimitDecision(isAllowed: false, limit: limit, remaining: 0, resetAfterMilliseconds: 1)
    }

    /// Whether nothing admitted lies in the window at `instant`: the state could be forgotten.
    func isIdle(at instant: MonotonicInstant) -> Bool {
        let word = counter.load(ordering: .acquiring)
        guard word != Self.retired else { return true }
        let latest = word >> 24
        return latest == Self.never || latest - 1 + windowMilliseconds <= instant.nanoseconds / 1_000_000
    }

    /// Marks the limiter retired if it is still idle, so a store can drop it: any check racing with
    /// the retirement sees it and goes back to the store.
    func retireIfIdle(at instant: MonotonicInstant) -> Bool {
        let word = counter.load(ordering: .acquiring)
        guard word != Self.retired else { return true }
        let latest = word >> 24
        guard latest == Self.never || latest - 1 + windowMilliseconds <= instant.nanoseconds / 1_000_000 else {
            return false
        }
        return counter.compareExchange(expected: word, desired: Self.retired, ordering: .acquiringAndReleasing)
            .exchanged
    }

    /// Marks the limiter retired unconditionally (for a revoked key).
    func retire() {
        counter.store(Self.retired, ordering: .releasing)
    }
}
