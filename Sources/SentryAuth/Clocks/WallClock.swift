#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A source of wall-clock time, for key creation and expiry.
///
/// Inject `ManualWallClock` (from the `SentryAuthTesting` library) in tests to control expiry; use
/// ``SystemWallClock`` in production.
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
