/// How long to wait before the next connection attempt: exponential, capped, with jitter — the one
/// rule every engine connection (Redis slots, the PostgreSQL change feed) reconnects by.
///
/// After `n` failures in a row the ceiling is `initial × 2^(n−1)`, at most `maximum`; the wait is
/// drawn uniformly from the upper half of it ("equal jitter"), so that servers which lost the same
/// engine at the same instant do not all come back at the same instant, and no wait is ever
/// shorter than half the ceiling.
package struct Backoff: Sendable, Hashable {
    /// The ceiling after the first failure.
    package var initial: Duration
    /// The largest ceiling.
    package var maximum: Duration

    /// Creates a rule.
    ///
    /// - Parameters:
    ///   - initial: The ceiling after one failure (at least 1 ms).
    ///   - maximum: The largest ceiling (at least `initial`).
    package init(initial: Duration, maximum: Duration) {
        self.initial = max(initial, .milliseconds(1))
        self.maximum = max(maximum, self.initial)
    }

    /// The ceiling of the wait after `failures` failures in a row (0 for none).
    package func ceiling(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let base = initial.nanoseconds
        let cap = maximum.nanoseconds
        let shift = min(failures - 1, 40)
        let grown = base > cap >> shift ? cap : base << shift
        return .nanoseconds(min(cap, grown))
    }

    /// The wait after `failures` failures in a row: from half the ceiling to the ceiling.
    ///
    /// - Parameters:
    ///   - failures: Failures in a row so far.
    ///   - generator: The source of the jitter.
    package func delay(afterFailures failures: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(afterFailures: failures).nanoseconds
        guard ceiling > 0 else { return .zero }
        let half = ceiling / 2
        return .nanoseconds(half + Int64.random(in: 0...(ceiling - half), using: &generator))
    }

    /// The wait after `failures` failures in a row, with the system's random numbers.
    package func delay(afterFailures failures: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, using: &generator)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).overflow
            ? .max : scaled + attoseconds / 1_000_000_000
    }
}
