import CoreMetrics

/// An engine client's metrics: how long its calls take (a timer) and how many failed, by kind.
/// The counters are made once, so a call costs a timer record and at most one increment.
package struct EngineMetrics: Sendable {
    private let duration: Timer
    private let errors: [String: Counter]

    /// Creates the metrics.
    ///
    /// - Parameters:
    ///   - duration: The timer's label.
    ///   - errors: The error counter's label; each kind is its `kind` dimension.
    ///   - kinds: The kinds of failure counted.
    ///   - factory: Where the metrics come from.
    package init(duration: String, errors: String, kinds: [String], factory: any MetricsFactory) {
        self.duration = Timer(label: duration, factory: factory)
        self.errors = Dictionary(
            uniqueKeysWithValues: kinds.map {
                ($0, Counter(label: errors, dimensions: [("kind", $0)], factory: factory))
            }
        )
    }

    /// Records how long a call took.
    package func record(_ elapsed: Duration) {
        duration.recordNanoseconds(elapsed.nanoseconds)
    }

    /// Counts a failure of `kind` (one of the kinds given at creation; others are not counted).
    package func count(_ kind: String) {
        errors[kind]?.increment()
    }
}
