import Foundation
import Testing

@testable import SentryAuth
import SentryAuthTesting

@Suite("Failed authentications per client address")
struct FailedAuthenticationLimitTests {
    static let flooder = try! IPAddress("198.51.100.7")
    static let other = try! IPAddress("203.0.113.9")

    func gate(_ store: some KeyLookup, clock: ManualMonotonicClock, limit: Int = 5) -> RequestGate {
        RequestGate(
            keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), clock: clock,
            failedAuthentications: FailedAuthenticationLimit(limit: limit, window: .seconds(60)))
    }

    func request(_ key: APIKey, from address: IPAddress?) -> GateRequest {
        GateRequest(
            method: "GET", target: "/public/api/v1/customers", authorization: ["Bearer " + key.revealSecret()],
            clientAddress: address)
    }

    @Test("A flood of random keys: the store is asked `limit` times, then 429 with Retry-After; others unaffected")
    func flood() async throws {
        let store = InstrumentedStore()
        let clock = ManualMonotonicClock(.milliseconds(10_000))
        let cache = CachedKeyStore(store, clock: clock)
        let valid = try await KeyManager(store: store).create(for: .acme, name: "k", scopes: [.customerRead])
        let gate = self.gate(cache, clock: clock)
        // The flooder's own valid key, cached before the flood.
        #expect(try await gate.evaluate(request(valid.key, from: Self.flooder)).status == 200)
        let before = store.lookups.load(ordering: .relaxed)
        var statuses: [Int] = []
        for _ in 0..<1_000 {
            let decision = try await gate.evaluate(request(APIKey.generate(), from: Self.flooder))
            statuses.append(decision.status)
            if decision.status == 429 {
                #expect(decision.refusal?.reason == .tooManyFailedAuthentications)
                #expect(decision.header("Retry-After") == "50")  // the window ends at 60 s; now is 10 s
                #expect(decision.header("X-RateLimit-Limit") == "5")
                #expect(decision.header("X-RateLimit-Remaining") == "0")
                #expect(decision.header("RateLimit") == #""default";r=0;t=50"#)
                #expect(
                    try decision.refusal?.parsedBody["message"]
                        == "Rate limit exceeded. Please try again in 50 seconds.")
            }
        }
        #expect(statuses.prefix(5) == [401, 401, 401, 401, 401])
        #expect(statuses.dropFirst(5).allSatisfy { $0 == 429 })
        #expect(store.lookups.load(ordering: .relaxed) - before == 5, "0.005 store queries per flood request")
        // The flooder's cached valid key still works, after its entry went stale too (looked up again);
        // a key the cache never saw waits for the window; a valid key from another address works.
        #expect(try await gate.evaluate(request(valid.key, from: Self.flooder)).status == 200)
        clock.advance(by: .seconds(11))  // past the cache's 10 s freshness, inside the minute
        let lookups = store.lookups.load(ordering: .relaxed)
        #expect(try await gate.evaluate(request(valid.key, from: Self.flooder)).status == 200)
        #expect(store.lookups.load(ordering: .relaxed) == lookups + 1)
        let unseen = try await KeyManager(store: store).create(for: .acme, name: "new", scopes: [.customerRead])
        #expect(try await gate.evaluate(request(unseen.key, from: Self.flooder)).status == 429)
        #expect(try await gate.evaluate(request(unseen.key, from: Self.other)).status == 200)
        #expect(try await gate.evaluate(request(APIKey.generate(), from: Self.other)).status == 401)
        // A malformed key costs the store nothing: still a 401 (and counted), even from a blocked address.
        let malformed = GateRequest(
            method: "GET", target: "/public/api/v1/customers", authorization: ["Bearer sntr_short"],
            clientAddress: Self.flooder)
        #expect(try await gate.evaluate(malformed).status == 401)
        #expect(
            store.lookups.load(ordering: .relaxed) - before == 8,
            "the flood's 5, the stale valid key's 1, the other address's 2")
        // The next window starts afresh.
        clock.advance(by: .seconds(50))
        #expect(try await gate.evaluate(request(APIKey.generate(), from: Self.flooder)).status == 401)
    }

    @Test("IPv6 is counted by its /64; a missing client address is never limited; the table never grows")
    func addresses() async throws {
        let store = InMemoryKeyStore()
        let clock = ManualMonotonicClock(.milliseconds(1_000))
        let gate = self.gate(store, clock: clock, limit: 2)
        for host in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
            #expect(try await gate.evaluate(request(APIKey.generate(), from: try IPAddress(host))).status == 401)
        }
        // An in-memory store answers without a look-up: a 401 still; the /64 is blocked for look-ups.
        #expect(
            try await gate.evaluate(request(APIKey.generate(), from: try IPAddress("2001:db8:1:2::3"))).status == 401)
        #expect(
            gate.failedAuthentications!.counter.isBlocked(try IPAddress("2001:db8:1:2::ffff"), at: .milliseconds(1_000))
        )
        #expect(
            !gate.failedAuthentications!.counter.isBlocked(try IPAddress("2001:db8:1:3::1"), at: .milliseconds(1_000)))
        #expect(
            try await gate.evaluate(request(APIKey.generate(), from: try IPAddress("2001:db8:1:3::1"))).status == 401)
        for _ in 0..<10 { #expect(try await gate.evaluate(request(APIKey.generate(), from: nil)).status == 401) }
        // 100,000 distinct addresses in a 64-slot table: bounded state, and no innocent address blocked.
        let small = FailedAuthenticationLimit(limit: 3, window: .seconds(60), trackedAddresses: 64)
        for index in 0..<100_000 {
            small.counter.recordFailure(IPAddress(ipv4: 0x0A00_0000 | UInt32(index)), at: .milliseconds(5))
        }
        #expect(!small.counter.isBlocked(Self.other, at: .milliseconds(5)))
    }

    @Test("Without a limit, every unknown key is a 401 and a store look-up (the default: nothing changes)")
    func off() async throws {
        let store = InstrumentedStore()
        let gate = RequestGate(keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        for _ in 0..<50 {
            #expect(try await gate.evaluate(request(APIKey.generate(), from: Self.flooder)).status == 401)
        }
        #expect(store.lookups.load(ordering: .relaxed) == 50)
    }
}
