/// A limit on failed authentications per client address: what keeps a flood of random, well-formed
/// keys from reaching the key store once per request.
///
/// After ``limit`` failures (an unknown, malformed, revoked or expired key) within one ``window``
/// from one address, the gate answers every request from that address whose key it can confirm
/// only with a store look-up with 429 `RATE_LIMIT_EXCEEDED`, `Retry-After` (the end of the window) and
/// the rate-limit headers of this limit (`X-RateLimit-Limit: 30`, `X-RateLimit-Remaining: 0`, …),
/// and asks the store nothing. Valid keys from other addresses are unaffected, and so is a valid key
/// from the flooding address that the cache already holds: a ``CachedKeyStore`` entry, fresh or
/// stale (a stale one is looked up again, as usual: no flood of random keys guesses a known digest),
/// or any key of an ``InMemoryKeyStore`` or a ``FileKeyStore``. Only the look-ups a flood would
/// cause are refused; a valid key the cache has never seen, from a flooding address, waits for the
/// window to end.
///
/// Addresses are counted in fixed windows, IPv6 by its /64 (one host's usual allocation), in a table
/// of ``trackedAddresses`` slots made once: the state never grows, whatever the number of
/// addresses (16 bytes a slot; 1 MiB by default). When two addresses share a slot, the one seen
/// last in the current window keeps it, so a limit may forget an address under a flood from very
/// many addresses — it never blocks one that did not fail.
///
/// ```swift
/// let gate = RequestGate(
///     keys: CachedKeyStore(FileKeyStore(path: "keys.json")), policy: .sentry,
///     rateLimits: InMemoryRateLimitStore<APIKeyID>(), failedAuthentications: FailedAuthenticationLimit())
/// ```
public struct FailedAuthenticationLimit: Sendable {
    /// Failures allowed per address in a window; 30 by default.
    public let limit: Int
    /// The window; one minute by default.
    public let window: Duration
    /// How many addresses are tracked at once; 65,536 by default.
    public let trackedAddresses: Int

    let counter: FailedAuthenticationCounter
    /// The limit as the rate-limit headers of its 429 describe it.
    let rateLimit: RateLimit

    /// Creates a limit.
    ///
    /// - Parameters:
    ///   - limit: Failures allowed per address in a window, at least 1; 30 by default.
    ///   - window: The window, at least a millisecond; one minute by default.
    ///   - trackedAddresses: Addresses tracked at once, rounded up to a power of two (at least 64);
    ///     65,536 by default.
    public init(limit: Int = 30, window: Duration = .seconds(60), trackedAddresses: Int = 65_536) {
        self.limit = max(1, limit)
        self.window = max(.milliseconds(1), window)
        self.trackedAddresses = max(64, trackedAddresses)
        rateLimit =
            (try? RateLimit(limit: min(self.limit, RateLimit.maximumLimit), window: self.window)) ?? .default
        counter = FailedAuthenticationCounter(
            slots: self.trackedAddresses, limit: self.limit,
            windowMilliseconds: UInt64(self.window.components.seconds) * 1000
                + UInt64(self.window.components.attoseconds / 1_000_000_000_000_000))
    }
}

/// The fixed table behind a ``FailedAuthenticationLimit``.
final class FailedAuthenticationCounter: Sendable {
    struct Slot: Sendable {
        var tag: UInt64 = 0  // the address's hash, 0 for an empty slot
        var window: UInt32 = 0
        var count: UInt32 = 0
    }

    private let slots: Locked<[Slot]>
    private let mask: Int
    private let limit: UInt32
    private let windowMilliseconds: UInt64

    init(slots count: Int, limit: Int, windowMilliseconds: UInt64) {
        var size = 64
        while size < count { size <<= 1 }
        slots = Locked(Array(repeating: Slot(), count: size))
        mask = size - 1
        self.limit = UInt32(min(limit, Int(UInt32.max)))
        self.windowMilliseconds = max(1, windowMilliseconds)
    }

    /// The counted form of an address: IPv4 whole, IPv6 by its /64, hashed with a fixed seed of
    /// the process (SipHash through `Hasher`), never 0.
    private static func tag(_ address: IPAddress) -> UInt64 {
        var hasher = Hasher()
        let plain = address.unmapped
        if plain.family == .v4 {
            hasher.combine(plain)
        } else {
            hasher.combine(UInt64(truncatingIfNeeded: plain.value >> 64))
        }
        return UInt64(bitPattern: Int64(hasher.finalize())) | 1
    }

    private func window(_ instant: MonotonicInstant) -> UInt32 {
        UInt32(truncatingIfNeeded: instant.nanoseconds / 1_000_000 / windowMilliseconds &+ 1)
    }

    /// The milliseconds until the window of `instant` ends.
    func millisecondsLeft(at instant: MonotonicInstant) -> Int {
        let now = instant.nanoseconds / 1_000_000
        return Int(windowMilliseconds - now % windowMilliseconds)
    }

    /// Whether the address has failed `limit` times in the current window.
    func isBlocked(_ address: IPAddress, at instant: MonotonicInstant) -> Bool {
        let tag = Self.tag(address)
        let current = window(instant)
        let index = Int(truncatingIfNeeded: tag) & mask
        return slots.withLock { slots in
            let slot = slots[index]
            return slot.tag == tag && slot.window == current && slot.count >= limit
        }
    }

    /// Counts one failure.
    func recordFailure(_ address: IPAddress, at instant: MonotonicInstant) {
        let tag = Self.tag(address)
        let current = window(instant)
        let index = Int(truncatingIfNeeded: tag) & mask
        slots.withLock { slots in
            if slots[index].tag == tag && slots[index].window == current {
                slots[index].count &+= slots[index].count < UInt32.max ? 1 : 0
            } else {
                slots[index] = Slot(tag: tag, window: current, count: 1)
            }
        }
    }
}
