import SentryAuthEngineSupport
import Testing

@Suite("Backoff: one jittered rule for every reconnect")
struct BackoffTests {
    let rule = Backoff(initial: .milliseconds(100), maximum: .seconds(5))

    @Test("The ceiling doubles from the first wait and stops at the maximum")
    func ceilings() {
        let ceilings = (0...10).map { rule.ceiling(afterFailures: $0) }
        #expect(
            ceilings == [
                .zero, .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                .milliseconds(1_600), .milliseconds(3_200), .seconds(5), .seconds(5), .seconds(5), .seconds(5),
            ])
        // No overflow however long the outage.
        #expect(rule.ceiling(afterFailures: 10_000) == .seconds(5))
        #expect(rule.ceiling(afterFailures: .max) == .seconds(5))
    }

    @Test("Every wait lies in the upper half of its ceiling, and the jitter spreads it there")
    func jitter() {
        var generator = SystemRandomNumberGenerator()
        for failures in 1...12 {
            let ceiling = rule.ceiling(afterFailures: failures)
            var seen = Set<Duration>()
            for _ in 0..<200 {
                let wait = rule.delay(afterFailures: failures, using: &generator)
                #expect(wait >= ceiling / 2 && wait <= ceiling, "after \(failures): \(wait) of \(ceiling)")
                seen.insert(wait)
            }
            // 200 draws over ≥ 50 ms of nanoseconds: nearly all distinct (servers that failed together
            // come back apart), and they cover the half-ceiling (not just one end of it).
            #expect(seen.count > 150)
            #expect(seen.min()! < ceiling / 2 + ceiling / 10 && seen.max()! > ceiling - ceiling / 10)
        }
    }

    @Test("Bounds are kept sane: a zero or inverted configuration still waits")
    func saneBounds() {
        let zero = Backoff(initial: .zero, maximum: .zero)
        #expect(zero.ceiling(afterFailures: 1) == .milliseconds(1))
        let inverted = Backoff(initial: .seconds(2), maximum: .seconds(1))
        #expect(inverted.ceiling(afterFailures: 5) == .seconds(2))
    }
}
