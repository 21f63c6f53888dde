import Foundation
import Testing

@testable import SentryAuth
import SentryAuthTesting

@Suite("Sunset warnings: Deprecation, Sunset and Link on allowed requests whose key stops working soon")
struct KeySunsetTests {
    @Test("HTTP dates: the RFCs' examples, and Foundation's formatter on 20,000 random times from year 1 to 9999")
    func httpDates() {
        #expect(KeySunset.httpDate(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")  // RFC 9110, 5.6.7
        // RFC 8594's example moment; its example says "Sat", but 31 December 2018 was a Monday.
        #expect(KeySunset.httpDate(1_546_300_799) == "Mon, 31 Dec 2018 23:59:59 GMT")
        #expect(KeySunset.httpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = SystemRandomNumberGenerator()
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            // 1583 on: Foundation's Gregorian calendar is Julian before the 1582 reform.
            let seconds = Int64.random(in: -12_212_553_600...253_402_300_799, using: &generator)
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let actual = KeySunset.httpDate(seconds)
            if actual != expected, mismatches.count < 5 { mismatches.append("\(seconds): \(actual) vs \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test("A key expiring within the horizon warns with its moment; beyond it, not until the clock gets there")
    func expiring() async throws {
        let fixture = GateFixture()
        let soon = try await fixture.manager.create(
            for: MerchantID("m_1")!, name: "soon", scopes: [.customerRead],
            expiresAt: testEpoch.addingTimeInterval(3 * 86_400))
        let later = try await fixture.manager.create(
            for: MerchantID("m_1")!, name: "later", scopes: [.customerRead],
            expiresAt: testEpoch.addingTimeInterval(8 * 86_400 + 30))
        let forever = try await fixture.manager.create(
            for: MerchantID("m_1")!, name: "forever", scopes: [.customerRead])

        let warned = try #require(try await fixture.evaluate(fixture.request(soon.key)).allowed)
        #expect(warned.sunset?.reason == .expiring && warned.sunset?.successorID == nil)
        #expect(warned.header("Deprecation") == "@1767484800")
        #expect(warned.header("Sunset") == "Sun, 04 Jan 2026 00:00:00 GMT")
        #expect(warned.header("Link") == nil)
        #expect(warned.header("X-RateLimit-Remaining") == "59", "the rate-limit headers stay")
        #expect(try await fixture.evaluate(fixture.request(later.key)).allowed?.sunset == nil)
        #expect(try await fixture.evaluate(fixture.request(forever.key)).allowed?.sunset == nil)
        fixture.wallClock.advance(by: .seconds(86_400 + 31))  // 7 days before `later` expires, and a second
        let now = try #require(try await fixture.evaluate(fixture.request(later.key)).allowed)
        #expect(now.header("Sunset") == "Fri, 09 Jan 2026 00:00:30 GMT")
        // Refusals carry no warning: a request without the scope is refused as before.
        let refused = try await fixture.evaluate(fixture.request(soon.key, "POST", "/public/api/v1/invoices"))
        #expect(refused.refusal != nil && refused.header("Deprecation") == nil)
    }

    @Test(
        "A rolled key in its grace period names its successor; the successor has no warning; a horizon of 0 still warns for a roll"
    )
    func rolled() async throws {
        let fixture = GateFixture()
        let old = try await fixture.manager.create(for: MerchantID("m_2")!, name: "old", scopes: [.customerRead])
        let rolled = try await fixture.manager.roll(old.record.id, grace: .seconds(3_600))
        let allowed = try #require(try await fixture.evaluate(fixture.request(old.key)).allowed)
        #expect(allowed.sunset?.reason == .rolled)
        #expect(allowed.header("Sunset") == "Thu, 01 Jan 2026 01:00:00 GMT")
        #expect(allowed.header("Deprecation") == "@1767229200")
        #expect(allowed.header("Link") == "</manage/v1/keys/\(rolled.record.id.rawValue)>; rel=\"successor-version\"")
        #expect(try await fixture.evaluate(fixture.request(rolled.key)).allowed?.sunset == nil)

        let noHorizon = RequestGate(
            keys: fixture.keys, policy: .sentry, rateLimits: fixture.limits, clock: fixture.clock,
            wallClock: fixture.wallClock, sunsetWarning: .zero)
        let expiring = try await fixture.manager.create(
            for: MerchantID("m_2")!, name: "expiring", scopes: [.customerRead],
            expiresAt: testEpoch.addingTimeInterval(60))
        #expect(try await noHorizon.evaluate(fixture.request(expiring.key)).allowed?.sunset == nil)
        #expect(try await noHorizon.evaluate(fixture.request(old.key)).allowed?.sunset?.reason == .rolled)
        // The horizon counts its fraction of a second: 1.5 s announces an expiry 1.2 s away, 1 s does not.
        let closing = try await fixture.manager.create(
            for: MerchantID("m_2")!, name: "closing", scopes: [.customerRead],
            expiresAt: testEpoch.addingTimeInterval(1.2))
        #expect(KeySunset(record: closing.record, at: testEpoch, horizon: .milliseconds(1_500))?.reason == .expiring)
        #expect(KeySunset(record: closing.record, at: testEpoch, horizon: .seconds(1)) == nil)
    }
}

extension GateDecision.Allowed {
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
