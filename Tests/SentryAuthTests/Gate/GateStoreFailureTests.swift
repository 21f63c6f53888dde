import Foundation
import Synchronization
import Testing

@testable import SentryAuth
import SentryAuthTesting

/// A rate-limit store that fails while `isDown` is set, like a shared store that went down.
private final class FailingRateLimits: RateLimitStore, Sendable {
    struct Down: Error {}
    let limits = InMemoryRateLimitStore<APIKeyID>()
    let isDown = Atomic<Bool>(false)

    func acquire(_ key: APIKeyID, cost: Int, limit: RateLimit, at instant: MonotonicInstant) async throws
        -> RateLimitDecision
    {
        if isDown.load(ordering: .relaxed) { throw Down() }
        return try await limits.acquire(key, cost: cost, limit: limit, at: instant)
    }
    func remove(_ key: APIKeyID) async throws { await limits.remove(key) }
}

/// A gate over a key store and a rate-limit store that can each be made to fail.
private struct FailingWorld {
    let fixture = GateFixture()
    let keys = InstrumentedStore()
    let limits = FailingRateLimits()
    var gate: RequestGate {
        RequestGate(keys: keys, policy: .sentry, rateLimits: limits, clock: fixture.clock, wallClock: fixture.wallClock)
    }

    func create() async throws -> CreatedKey {
        try await KeyManager(store: keys, clock: fixture.wallClock).create(
            for: .acme, name: "k", scopes: [.customerRead])
    }
}

@Suite("Request gate: a store that fails gives 503, never 200 or 401")
struct GateStoreFailureTests {
    @Test("Key store down: 503 SERVICE_UNAVAILABLE with Retry-After, whatever the key")
    func keyStoreDown() async throws {
        let world = FailingWorld()
        let (fixture, gate) = (world.fixture, world.gate)
        let key = try await world.create().key
        #expect(try await gate.evaluate(fixture.request(key)).status == 200)

        world.keys.lookupsFail.store(true, ordering: .relaxed)
        // A valid key and an unknown one get the same answer: the store could say neither.
        for presented in [key, APIKey.generate()] {
            let refusal = try #require(try await gate.evaluate(fixture.request(presented)).refusal)
            #expect(refusal.status == 503)
            #expect(refusal.code == .serviceUnavailable && refusal.reason == .keyStoreUnavailable)
            #expect(refusal.keyID == nil)
            #expect(refusal.header("Retry-After") == "2")
            #expect(refusal.header("WWW-Authenticate") == nil)
            #expect(refusal.header("Content-Type") == "application/json")
            #expect(
                try refusal.parsedBody == [
                    "error": "SERVICE_UNAVAILABLE",
                    "message": "Service temporarily unavailable. Please try again in 2 seconds.",
                ])
        }
        // Refusals that need no store still come first: no credentials is a 401, not a 503.
        #expect(try await gate.evaluate(fixture.request(nil)).status == 401)

        world.keys.lookupsFail.store(false, ordering: .relaxed)
        #expect(try await gate.evaluate(fixture.request(key)).status == 200)
    }

    @Test("Rate-limit store down (no fallback): 503 naming the key in logs, and nothing spent")
    func rateLimitStoreDown() async throws {
        let world = FailingWorld()
        let (fixture, gate) = (world.fixture, world.gate)
        let created = try await world.create()
        world.limits.isDown.store(true, ordering: .relaxed)
        let refusal = try #require(try await gate.evaluate(fixture.request(created.key)).refusal)
        #expect(refusal.status == 503 && refusal.reason == .rateLimitStoreUnavailable)
        #expect(refusal.keyID == created.record.id)
        #expect(refusal.header("Retry-After") == "2")
        #expect(refusal.header("X-RateLimit-Remaining") == nil)

        world.limits.isDown.store(false, ordering: .relaxed)
        let allowed = try await gate.evaluate(fixture.request(created.key))
        #expect(allowed.status == 200)
        #expect(allowed.header("X-RateLimit-Remaining") == "59")
    }
}
