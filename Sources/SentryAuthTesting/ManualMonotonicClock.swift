import SentryAuth
import Synchronization

/// A monotonic clock that moves only when told to, for tests and simulations.
///
/// ```swift
/// let clock = ManualMonotonicClock(.milliseconds(1_000))
/// clock.advance(by: .seconds(60))
/// ```
///
/// It can also be set backwards, to check that what reads it copes.
public final class ManualMonotonicClock: MonotonicClock {
    private let current: Atomic<UInt64>

    /// Creates a clock reading `start`.
    ///
    /// - Parameter start: The first reading; the origin by default.
    public init(_ start: MonotonicInstant = MonotonicInstant(nanoseconds: 0)) {
        current = Atomic(start.nanoseconds)
    }

    /// The clock's reading.
    public func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: current.load(ordering: .acquiring)) }

    /// Moves the clock forward.
    ///
    /// - Parameter duration: How far; not negative.
    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        current.add(UInt64(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000), ordering: .releasing)
    }

    /// Sets the clock's reading, forward or backward.
    ///
    /// - Parameter instant: The new reading.
    public func set(to instant: MonotonicInstant) {
        current.store(instant.nanoseconds, ordering: .releasing)
    }
}
