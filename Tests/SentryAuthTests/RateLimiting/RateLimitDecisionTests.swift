import Testing

@testable import SentryAuth

@Suite("Rate-limit decisions and limits")
struct RateLimitDecisionTests {
    @Test("A limit keeps its window to the millisecond, up to a week; the default is 60 per 60,000 ms")
    func limitFields() throws {
        #expect(RateLimit.default.limit == 60 && RateLimit.default.windowMilliseconds == 60_000)
        #expect(RateLimit.default.window == .seconds(60))
        let week = try RateLimit(limit: RateLimit.maximumLimit, window: RateLimit.maximumWindow)
        #expect(week.limit == 100_000 && week.windowMilliseconds == 604_800_000 && week.window == .seconds(604_800))
        let odd = try RateLimit(limit: 7, window: .milliseconds(1_234_567))
        #expect(odd.windowMilliseconds == 1_234_567 && odd.window == .milliseconds(1_234_567))
        #expect(MemoryLayout<RateLimit>.size == 8)
        // Still validated: a sub-millisecond window or one over a week is refused.
        #expect(throws: RateLimitError.invalidLimit) { try RateLimit(limit: 1, window: .microseconds(1500)) }
        #expect(throws: RateLimitError.invalidLimit) { try RateLimit(limit: 1, window: .milliseconds(604_800_001)) }
    }

    @Test("The public initializer rounds a part of a millisecond up and clamps what cannot be")
    func publicInitializer() throws {
        let limit = try RateLimit(limit: 10, window: .seconds(1))
        let rounded = RateLimitDecision(isAllowed: false, limit: limit, remaining: 3, resetAfter: .microseconds(1_001))
        #expect(rounded.resetAfter == .milliseconds(2) && rounded.resetAfterMilliseconds == 2)
        #expect(rounded.remaining == 3 && rounded.retryAfterSeconds == 1)
        let exact = RateLimitDecision(isAllowed: true, limit: limit, remaining: 10, resetAfter: .milliseconds(1_000))
        #expect(exact.resetAfterMilliseconds == 1_000 && exact.resetSeconds == 1 && exact.retryAfterSeconds == nil)
        let clamped = RateLimitDecision(isAllowed: false, limit: limit, remaining: 11, resetAfter: .seconds(-5))
        #expect(clamped.remaining == 10 && clamped.resetAfter == .zero && clamped.retryAfterSeconds == 1)
        let negative = RateLimitDecision(isAllowed: false, limit: limit, remaining: -1, resetAfter: .seconds(1 << 40))
        #expect(negative.remaining == 0 && negative.resetAfterMilliseconds == Int(UInt32.max))
        // Two decisions are equal exactly when what they say is equal.
        #expect(
            rounded == RateLimitDecision(isAllowed: false, limit: limit, remaining: 3, resetAfter: .milliseconds(2)))
        #expect(
            rounded != RateLimitDecision(isAllowed: false, limit: limit, remaining: 2, resetAfter: .milliseconds(2)))
        #expect(MemoryLayout<RateLimitDecision>.size <= 24)
    }

    @Test("Headers of a week-long window: seconds rounded up, from the millisecond fields")
    func weekHeaders() throws {
        let week = try RateLimit(limit: 5, window: .seconds(604_800))
        let decision = RateLimitDecision(
            isAllowed: false, limit: week, remaining: 0, resetAfter: .milliseconds(604_799_001))
        let headers = Dictionary(uniqueKeysWithValues: decision.headers.map { ($0.name, $0.value) })
        #expect(
            headers == [
                "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "604800",
                "RateLimit-Policy": "\"default\";q=5;w=604800", "RateLimit": "\"default\";r=0;t=604800",
                "Retry-After": "604800",
            ])
    }

    /// The header values as the first implementation wrote them, with string interpolation: the oracle.
    static func interpolated(_ decision: RateLimitDecision) -> [String: String] {
        let window = max(1, (decision.limit.windowMilliseconds + 999) / 1000)
        let reset = decision.isAllowed ? (decision.resetAfterMilliseconds + 999) / 1000 : decision.retryAfterSeconds!
        var values = [
            "X-RateLimit-Limit": "\(decision.limit.limit)", "X-RateLimit-Remaining": "\(decision.remaining)",
            "X-RateLimit-Reset": "\(reset)", "RateLimit-Policy": "\"default\";q=\(decision.limit.limit);w=\(window)",
            "RateLimit": "\"default\";r=\(decision.remaining);t=\(reset)",
        ]
        if !decision.isAllowed { values["Retry-After"] = "\(max(1, (decision.resetAfterMilliseconds + 999) / 1000))" }
        return values
    }

    @Test("Every field rendered in place equals string interpolation, for 20,000 random decisions and the extremes")
    func renderedValues() throws {
        var random = SplitMix64(seed: 0xF1E1D5)
        var decisions = [
            RateLimitDecision(
                isAllowed: false,
                limit: try RateLimit(limit: RateLimit.maximumLimit, window: RateLimit.maximumWindow),
                remaining: RateLimit.maximumLimit, resetAfter: .milliseconds(Int64(UInt32.max))),
            RateLimitDecision(isAllowed: true, limit: .default, remaining: 0, resetAfter: .zero),
            RateLimitDecision(
                isAllowed: true, limit: try RateLimit(limit: 1, window: .milliseconds(1)), remaining: 1,
                resetAfter: .milliseconds(1)),
        ]
        for _ in 0..<20_000 {
            let limit = try RateLimit(
                limit: 1 + Int(random.next() % UInt64(RateLimit.maximumLimit)),
                window: .milliseconds(1 + Int64(random.next() % 604_800_000)))
            decisions.append(
                RateLimitDecision(
                    isAllowed: random.next() % 2 == 0, limit: limit,
                    remaining: Int(random.next() % UInt64(limit.limit + 1)),
                    resetAfter: .milliseconds(Int64(random.next() % (UInt64(UInt32.max) + 1)))))
        }
        for decision in decisions {
            let expected = Self.interpolated(decision)
            var rendered: [String: String] = [:]
            var inPlace: [String: String] = [:]
            for field in RateLimitDecision.Field.allCases {
                rendered[field.name] = decision.value(of: field)
                inPlace[field.name] = decision.withValue(of: field) { String(decoding: $0, as: UTF8.self) }
            }
            #expect(rendered == expected && inPlace == expected, "\(decision)")
            #expect(
                decision.headers.map(\.name)
                    == RateLimitDecision.Field.allCases.map(\.name).filter { expected[$0] != nil })
        }
        #expect(RateLimitDecision.defaultPolicy == Self.interpolated(decisions[1])["RateLimit-Policy"])
    }

    @Test("The Sentry limit's 3,721 possible RateLimit values, made once, are exactly the rendered ones")
    func defaultLimitTable() {
        #expect(RateLimitDecision.defaultRateLimitValues.count == 61 * 61)
        for remaining in 0...60 {
            for resetMilliseconds in stride(from: 0, through: 60_000, by: 250) {
                for isAllowed in [true, false] {
                    let decision = RateLimitDecision(
                        isAllowed: isAllowed, limit: .default, remaining: remaining,
                        resetAfter: .milliseconds(Int64(resetMilliseconds)))
                    let rendered = decision.withValue(of: .rateLimit) { String(decoding: $0, as: UTF8.self) }
                    #expect(decision.value(of: .rateLimit) == rendered)
                    #expect(rendered == Self.interpolated(decision)["RateLimit"])
                }
            }
        }
        // A wait past the window (only a hand-made decision can have one) is rendered, not looked up.
        let long = RateLimitDecision(isAllowed: false, limit: .default, remaining: 0, resetAfter: .seconds(61))
        #expect(long.value(of: .rateLimit) == #""default";r=0;t=61"#)
    }
}
