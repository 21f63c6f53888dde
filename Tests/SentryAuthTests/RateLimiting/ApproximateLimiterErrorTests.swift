import Foundation
import Testing

@testable import SentryAuth

/// Measures the approximate limiter against the exact one on seeded synthetic traffic. Each test pins
/// the figures written in ``ApproximateSlidingWindowLimiter``'s documentation exactly, so a change
/// in behaviour (or a stale table) fails here.
@Suite("Approximate limiter: measured error")
struct ApproximateLimiterErrorTests {
    struct Measurement {
        var disagreements = 0
        var requests = 0
        var worstWindow = 0  // most approximate admissions in any 60 s window
        var admittedExact = 0
        var admittedApproximate = 0
        var disagreementPercent: Double { 100 * Double(disagreements) / Double(requests) }
        var excessPercent: Double { 100 * Double(admittedApproximate - admittedExact) / Double(admittedExact) }
        var summary: String {
            "\(String(format: "%.1f", disagreementPercent))% of decisions differ; admitted \(admittedApproximate) vs "
                + "\(admittedExact) exact (\(String(format: "%+.1f", excessPercent))%); worst 60 s window \(worstWindow)"
        }
    }

    /// Runs both limiters over the same request times (ms) and measures.
    static func measure(_ times: [UInt64]) -> Measurement {
        let exact = SlidingWindowLimiter(limit: .default)
        let approximate = ApproximateSlidingWindowLimiter(limit: .default)
        var result = Measurement()
        var admitted: [UInt64] = []
        for time in times {
            let instant = MonotonicInstant.milliseconds(time)
            let approximateAnswer = approximate.acquire(at: instant).isAllowed
            let exactAnswer = exact.acquire(at: instant).isAllowed
            if exactAnswer != approximateAnswer { result.disagreements += 1 }
            if exactAnswer { result.admittedExact += 1 }
            if approximateAnswer {
                admitted.append(time)
                result.admittedApproximate += 1
            }
            result.requests += 1
        }
        var start = 0
        for end in admitted.indices {
            while admitted[end] - admitted[start] >= 60_000 { start += 1 }
            result.worstWindow = max(result.worstWindow, end - start + 1)
        }
        return result
    }

    @Test("Uniform traffic at 1.2× the limit")
    func uniform() {
        var random = SplitMix64(seed: 1)
        var time: UInt64 = 0
        var times: [UInt64] = []
        for _ in 0..<20_000 {
            // Exponential gaps with mean 833 ms: 72 requests a minute.
            let uniform = Double(random.next() % 1_000_000 + 1) / 1_000_000
            time += UInt64(-log(uniform) * 833)
            times.append(time)
        }
        let measured = Self.measure(times)
        // The figures of the documentation's table, exactly (the traffic is seeded).
        #expect(measured.requests == 20_000)
        #expect(
            measured.summary == "21.8% of decisions differ; admitted 16008 vs 15858 exact (+0.9%); worst 60 s window 71"
        )
        #expect(
            measured.admittedApproximate == 16_008 && measured.admittedExact == 15_858 && measured.worstWindow == 71)
    }

    @Test("Bursty on/off traffic")
    func bursty() {
        var random = SplitMix64(seed: 2)
        var time: UInt64 = 0
        var times: [UInt64] = []
        while times.count < 20_000 {
            // A burst of 20–80 requests 50 ms apart, then 10–90 s of silence.
            for _ in 0..<(20 + random.next() % 60) {
                time += 50
                times.append(time)
            }
            time += 10_000 + random.next() % 80_000
        }
        let measured = Self.measure(times)
        #expect(
            measured.summary
                == "19.3% of decisions differ; admitted 12849 vs 12746 exact (+0.8%); worst 60 s window 107")
        #expect(measured.worstWindow > 60)  // it does over-admit on this traffic
    }

    @Test("Bursts straddling fixed-window boundaries")
    func straddling() {
        var times: [UInt64] = []
        for window in stride(from: UInt64(1), to: 200, by: 2) {
            // 60 requests in the last second before a boundary, 60 in the first second after.
            let boundary = window * 60_000
            for index in 0..<60 { times.append(boundary - 1_000 + UInt64(index) * 16) }
            for index in 0..<60 { times.append(boundary + UInt64(index) * 16) }
        }
        let measured = Self.measure(times)
        #expect(
            measured.summary == "0.0% of decisions differ; admitted 6000 vs 6000 exact (+0.0%); worst 60 s window 60")
    }

    @Test("Adversarial burst straddling a boundary: the worst case approaches twice the limit")
    func adversarial() {
        // The whole limit at the very end of one fixed window, then one request every 100 ms.
        var times: [UInt64] = (0..<60).map { _ in 59_999 }
        times += (0..<600).map { 60_000 + UInt64($0) * 100 }
        let measured = Self.measure(times)
        #expect(
            measured.summary == "8.9% of decisions differ; admitted 119 vs 60 exact (+98.3%); worst 60 s window 119")
        // The exact limiter holds the line on the same traffic.
        let exact = SlidingWindowLimiter(limit: .default)
        var admitted: [UInt64] = []
        for time in times where exact.acquire(at: .milliseconds(time)).isAllowed { admitted.append(time) }
        #expect(admitted.filter { $0 < 119_999 }.count == 60)
    }

    @Test("Costs, limits and its own consistency: never admits more than the limit in one fixed window")
    func basics() throws {
        let limiter = ApproximateSlidingWindowLimiter(limit: try RateLimit(limit: 10, window: .seconds(1)))
        #expect(try limiter.acquire(cost: 10, at: .milliseconds(0)).isAllowed)
        let refused = limiter.acquire(at: .milliseconds(500))
        #expect(!refused.isAllowed && refused.retryAfterSeconds == 1)
        #expect(throws: RateLimitError.invalidCost(cost: 11, limit: 10)) {
            try limiter.acquire(cost: 11, at: .milliseconds(0))
        }
        // At 1 000 ms the estimate is 10 × (1000 − 0)/1000 = 10: still full; at 1 100 ms, 9 → one fits.
        #expect(!limiter.acquire(at: .milliseconds(1_000)).isAllowed)
        #expect(limiter.acquire(at: .milliseconds(1_100)).isAllowed)
        #expect(!limiter.acquire(at: .milliseconds(1_100)).isAllowed)
        // Two full windows later everything is forgotten; a backwards step stays in the stored window.
        #expect(try limiter.acquire(cost: 10, at: .milliseconds(3_000)).isAllowed)
        #expect(!limiter.acquire(at: .milliseconds(1_500)).isAllowed)
    }
}
