import Foundation
import Synchronization
import Testing

@testable import SentryAuth
import SentryAuthTesting

/// A user-written snapshot that answers immediately, counting every asynchronous look-up.
private final class Snapshot: ImmediateKeyLookup {
    let records: [KeyDigest: KeyRecord]
    let mustAsk: Set<KeyDigest>
    let asked = Atomic<Int>(0)

    init(_ records: [KeyRecord], mustAsk: Set<KeyDigest> = []) {
        self.records = Dictionary(uniqueKeysWithValues: records.map { ($0.digest, $0) })
        self.mustAsk = mustAsk
    }

    func record(forDigest digest: KeyDigest) async throws -> KeyRecord? {
        asked.add(1, ordering: .relaxed)
        return records[digest]
    }

    func immediateRecord(forDigest digest: KeyDigest) -> ImmediateKeyAnswer {
        if mustAsk.contains(digest) { return .mustAsk }
        return records[digest].map(ImmediateKeyAnswer.found) ?? .unknown
    }
}

/// A user-written limiter: a fixed budget per key, decided immediately; its asynchronous path counts.
private final class Budget: ImmediateRateLimitStore {
    let spent = Mutex<[APIKeyID: Int]>([:])
    let asked = Atomic<Int>(0)

    func acquire(_ key: APIKeyID, cost: Int, limit: RateLimit, at instant: MonotonicInstant) async throws
        -> RateLimitDecision
    {
        asked.add(1, ordering: .relaxed)
        return immediateDecision(key, cost: cost, limit: limit, at: instant)!
    }

    func remove(_ key: APIKeyID) async throws { spent.withLock { $0[key] = nil } }

    func immediateDecision(_ key: APIKeyID, cost: Int, limit: RateLimit, at instant: MonotonicInstant)
        -> RateLimitDecision?
    {
        spent.withLock { spent in
            let used = spent[key, default: 0]
            guard used + cost <= 2 else {
                return RateLimitDecision(isAllowed: false, limit: limit, remaining: 2 - used, resetAfter: .seconds(9))
            }
            spent[key] = used + cost
            return RateLimitDecision(isAllowed: true, limit: limit, remaining: 2 - used - cost, resetAfter: .seconds(9))
        }
    }
}

@Suite("Gate: user-written stores take the synchronous path through protocols")
struct GateImmediateStoreTests {
    @Test("A snapshot and a budget that answer immediately are never asked asynchronously")
    func immediate() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(for: MerchantID("m1")!, name: "k", scopes: .all)
        let record = try #require(await fixture.keys.record(withID: created.record.id))
        let keys = Snapshot([record])
        let limits = Budget()
        let gate = RequestGate(
            keys: keys, policy: .sentry, rateLimits: limits, clock: fixture.clock, wallClock: fixture.wallClock)
        let codes = try await (0..<3).asyncMap { _ in try await gate.evaluate(fixture.request(created.key)).code }
        #expect(codes == ["ALLOWED", "ALLOWED", "RATE_LIMIT_EXCEEDED"])
        let unknown = APIKey.generate()
        #expect(try await gate.evaluate(fixture.request(unknown)).code == "UNAUTHORIZED")
        #expect(keys.asked.load(ordering: .relaxed) == 0)
        #expect(limits.asked.load(ordering: .relaxed) == 0)
    }

    @Test("A snapshot that says it must be asked is asked, once per such request")
    func mustAsk() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(for: MerchantID("m1")!, name: "k", scopes: .all)
        let record = try #require(await fixture.keys.record(withID: created.record.id))
        let keys = Snapshot([record], mustAsk: [record.digest])
        let gate = RequestGate(
            keys: keys, policy: .sentry, rateLimits: Budget(), clock: fixture.clock, wallClock: fixture.wallClock)
        #expect(try await gate.evaluate(fixture.request(created.key)).code == "ALLOWED")
        #expect(try await gate.evaluate(fixture.request(created.key)).code == "ALLOWED")
        #expect(keys.asked.load(ordering: .relaxed) == 2)
    }

    @Test("The built-in stores answer immediately too, and agree with their asynchronous look-ups")
    func builtIns() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(for: MerchantID("m1")!, name: "k", scopes: .all)
        guard case .found(let found) = fixture.keys.immediateRecord(forDigest: created.record.digest) else {
            Issue.record("not found")
            return
        }
        #expect(found == created.record)
        let absent = KeyDigest.SHA256.hash(Array("sntr_absent".utf8))
        guard case .unknown = fixture.keys.immediateRecord(forDigest: absent) else {
            Issue.record("an absent digest is not unknown")
            return
        }
        let decision = fixture.limits.immediateDecision(
            created.record.id, cost: 1, limit: .default, at: .milliseconds(1))
        #expect(decision?.remaining == 59)
        #expect(
            fixture.limits.immediateDecision(created.record.id, cost: 61, limit: .default, at: .milliseconds(1)) == nil)
    }
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
