#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SentryAuth
import Synchronization

/// A wall clock that moves only when told to, for tests.
///
/// ```swift
/// let clock = ManualWallClock(Date(timeIntervalSince1970: 1_700_000_000))
/// clock.advance(by: .seconds(90))
/// ```
public final class ManualWallClock: WallClock {
    /// The reading, as the bit pattern of its `timeIntervalSinceReferenceDate`.
    private let current: Atomic<UInt64>

    /// Creates a clock that reads `start` until moved.
    ///
    /// - Parameter start: The clock's first reading.
    public init(_ start: Date) {
        current = Atomic(start.timeIntervalSinceReferenceDate.bitPattern)
    }

    /// The clock's current reading.
    public func now() -> Date {
        Date(timeIntervalSinceReferenceDate: Double(bitPattern: current.load(ordering: .acquiring)))
    }

    /// Moves the clock forward (or backward, for a negative duration).
    ///
    /// - Parameter duration: How far to move.
    public func advance(by duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        var expected = current.load(ordering: .acquiring)
        while true {
            let moved = (Double(bitPattern: expected) + seconds).bitPattern
            let (exchanged, original) = current.compareExchange(
                expected: expected, desired: moved, ordering: .acquiringAndReleasing)
            if exchanged { return }
            expected = original
        }
    }

    /// Sets the clock's reading.
    ///
    /// - Parameter date: The new reading.
    public func set(to date: Date) {
        current.store(date.timeIntervalSinceReferenceDate.bitPattern, ordering: .releasing)
    }
}
