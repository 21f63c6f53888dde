#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A source of wall-clock time, for key creation and expiry.
///
/// Inject ``ManualWallClock`` in tests to control expiry; use ``SystemWallClock`` in production.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's wall clock.
public struct SystemWallClock: WallClock {
    /// Creates the system wall clock.
    public init() {}

    /// The current time.
    public func now() -> Date { Date() }
}

/// A wall clock that moves only when told to, for tests.
///
/// ```swift
/// let clock = ManualWallClock(Date(timeIntervalSince1970: 1_700_000_000))
/// clock.advance(by: .seconds(90))
/// ```
public final class ManualWallClock: WallClock {
    private let current: Locked<Date>

    /// Creates a clock that reads `start` until moved.
    ///
    /// - Parameter start: The clock's first reading.
    public init(_ start: Date) {
        current = Locked(start)
    }

    /// The clock's current reading.
    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward (or backward, for a negative duration).
    ///
    /// - Parameter duration: How far to move.
    public func advance(by duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    /// Sets the clock's reading.
    ///
    /// - Parameter date: The new reading.
    public func set(to date: Date) {
        current.withLock { $0 = date }
    }
}
