import Foundation
import Testing

@testable import SentryAuth
import SentryAuthTesting

/// A store that fails every call after `failing` is set, like a database that went down.
private final class FailingStores: KeyStore, RateLimitStore, Sendable {
    struct Down: Error {}
    let keys: InMemoryKeyStore
    let limits = InMemoryRateLimitStore<APIKeyID>()
    let keyStoreDown = ManualFlag()
    let limitStoreDown = ManualFlag()

    init(keys: InMemoryKeyStore) { self.keys = keys }

    func record(forDigest digest: KeyDigest) async throws -> KeyRecord? {
        if keyStoreDown.isSet { throw Down() }
        return await keys.record(forDigest: digest)
    }
    func record(withID id: APIKeyID) async throws -> KeyRecord? { await keys.record(withID: id) }
    func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] {
        await keys.records(forMerchant: merchantID)
    }
    func insert(_ record: KeyRecord) async throws { try await keys.insert(record) }
    func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool {
        try await keys.replace(current, with: new)
    }
    func remove(_ current: KeyRecord) async throws -> Bool { await keys.remove(current) }

    func acquire(_ key: APIKeyID, cost: Int, limit: RateLimit, at instant: MonotonicInstant) async throws
        -> RateLimitDecision
    {
        if limitStoreDown.isSet { throw Down() }
        return try await limits.acquire(key, cost: cost, limit: limit, at: instant)
    }
    func remove(_ key: APIKeyID) async throws { await limits.remove(key) }
}

/// A flag tests flip from outside.
private final class ManualFlag: Sendable {
    private let value = Locked(false)
    var isSet: Bool { value.withLock { $0 } }
    func set(_ newValue: Bool) { value.withLock { $0 = newValue } }
}

@Suite("Request gate: a store that fails gives 503, never 200 or 401")
struct GateStoreFailureTests {
    @Test("Key store down: 503 SERVICE_UNAVAILABLE with Retry-After, whatever the key")
    func keyStoreDown() async throws {
        let fixture = GateFixture()
        let stores = FailingStores(keys: fixture.keys)
        let gate = RequestGate(
            keys: stores, policy: .sentry, rateLimits: stores, clock: fixture.clock, wallClock: fixture.wallClock)
        let key = try await fixture.manager.create(for: .acme, name: "k", scopes: [.customerRead]).key
        #expect(try await gate.evaluate(fixture.request(key)).status == 200)

        stores.keyStoreDown.set(true)
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

        stores.keyStoreDown.set(false)
        #expect(try await gate.evaluate(fixture.request(key)).status == 200)
    }

    @Test("Rate-limit store down (no fallback): 503 naming the key in logs, and nothing spent")
    func rateLimitStoreDown() async throws {
        let fixture = GateFixture()
        let stores = FailingStores(keys: fixture.keys)
        let gate = RequestGate(
            keys: stores, policy: .sentry, rateLimits: stores, clock: fixture.clock, wallClock: fixture.wallClock)
        let created = try await fixture.manager.create(for: .acme, name: "k", scopes: [.customerRead])
        stores.limitStoreDown.set(true)
        let refusal = try #require(try await gate.evaluate(fixture.request(created.key)).refusal)
        #expect(refusal.status == 503 && refusal.reason == .rateLimitStoreUnavailable)
        #expect(refusal.keyID == created.record.id)
        #expect(refusal.header("Retry-After") == "2")
        #expect(refusal.header("X-RateLimit-Remaining") == nil)

        stores.limitStoreDown.set(false)
        let allowed = try await gate.evaluate(fixture.request(created.key))
        #expect(allowed.status == 200)
        #expect(allowed.header("X-RateLimit-Remaining") == "59")
    }
}
