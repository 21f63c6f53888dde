import Foundation
import Synchronization
import Testing

@testable import SentryAuth
import SentryAuthTesting

@Suite("Cached key store")
struct CachedKeyStoreTests {
    let store = InstrumentedStore()
    let clock = ManualMonotonicClock(.milliseconds(1_000_000))

    func cache(maximumEntries: Int = 1000) -> CachedKeyStore {
        CachedKeyStore(store, maximumEntries: maximumEntries, clock: clock)
    }

    func create(in keys: some KeyStore) async throws -> CreatedKey {
        try await KeyManager(store: keys).create(for: MerchantID("m")!, name: "k", scopes: [.salesRead])
    }

    @Test("A record is served from the cache for exactly its freshness bound, then loaded again")
    func staleness() async throws {
        let cache = cache()
        let created = try await create(in: store)
        #expect(try await cache.record(forDigest: created.key.digest) == created.record)
        // Revoked behind the cache's back (no invalidation): served as cached until the bound.
        try await KeyManager(store: store).revoke(created.record.id)
        for _ in 0..<100 {
            #expect(try await cache.record(forDigest: created.key.digest)?.revokedAt == nil)
        }
        clock.advance(by: .milliseconds(9_999))
        #expect(try await cache.record(forDigest: created.key.digest)?.revokedAt == nil)
        #expect(store.lookups.load(ordering: .relaxed) == 1)
        clock.advance(by: .milliseconds(1))
        #expect(try await cache.record(forDigest: created.key.digest)?.revokedAt != nil)
        #expect(store.lookups.load(ordering: .relaxed) == 2)
    }

    @Test(
        "Unconfirmed (a lost change feed): every look-up asks the store; an entry is served only when the store fails, within its freshness"
    )
    func unconfirmed() async throws {
        let cache = cache()
        let created = try await create(in: store)
        let digest = created.key.digest
        #expect(try await cache.record(forDigest: digest) == created.record)
        // Revoked behind the cache's back, as a change whose notification was lost.
        let revoked = try await KeyManager(store: store).revoke(created.record.id)
        #expect(try await cache.record(forDigest: digest)?.revokedAt == nil)
        #expect(store.lookups.load(ordering: .relaxed) == 1)

        cache.unconfirmAll()
        #expect(!cache.isConfirming)
        #expect(try await cache.record(forDigest: digest) == revoked)  // asked the store: never stale
        #expect(store.lookups.load(ordering: .relaxed) == 2)
        // Still unconfirmed: what was just loaded is not trusted either (the feed is still not
        // listening, so a change now would go unannounced). Every look-up asks, each sees the store.
        #expect(try await store.replace(revoked, with: created.record))
        #expect(try await cache.record(forDigest: digest) == created.record)
        #expect(store.lookups.load(ordering: .relaxed) == 3)
        #expect(try await store.replace(created.record, with: revoked))
        #expect(try await cache.record(forDigest: digest) == revoked)
        #expect(store.lookups.load(ordering: .relaxed) == 4)
        // Listening again: the cache is emptied and trusted again.
        cache.resumeConfirming()
        #expect(cache.isConfirming && cache.count == 0)
        #expect(try await cache.record(forDigest: digest) == revoked)
        #expect(try await cache.record(forDigest: digest) == revoked)
        #expect(store.lookups.load(ordering: .relaxed) == 5)

        cache.unconfirmAll()
        store.lookupsFail.store(true, ordering: .relaxed)
        clock.advance(by: .milliseconds(9_999))
        #expect(try await cache.record(forDigest: digest) == revoked)  // the store failed: served
        #expect(store.lookups.load(ordering: .relaxed) == 6)
        clock.advance(by: .milliseconds(1))
        await #expect(throws: InstrumentedStore.Unavailable.self) { try await cache.record(forDigest: digest) }

        // A confirmed entry whose store fails is never needed; an invalidated one is never served.
        store.lookupsFail.store(false, ordering: .relaxed)
        #expect(try await cache.record(forDigest: digest) == revoked)
        cache.unconfirmAll()
        cache.invalidate(digest: digest)
        store.lookupsFail.store(true, ordering: .relaxed)
        await #expect(throws: InstrumentedStore.Unavailable.self) { try await cache.record(forDigest: digest) }
    }

    @Test("A load that was running when the feed dropped is cached unconfirmed: the next look-up asks again")
    func loadRunningWhenUnconfirmed() async throws {
        let cache = cache()
        let created = try await create(in: store)
        store.hold()
        let running = Task { try await cache.record(forDigest: created.key.digest) }
        while store.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
        cache.unconfirmAll()
        store.release()
        #expect(try await running.value == created.record)
        #expect(try await cache.record(forDigest: created.key.digest) == created.record)
        #expect(store.lookups.load(ordering: .relaxed) == 2)
        // And the fast path never serves it.
        #expect(cache.freshAnswer(forDigest: created.key.digest, at: clock.now()) == nil)
    }

    @Test("Unknown digests are remembered for the negative bound, then asked again")
    func negativeEntries() async throws {
        let cache = cache()
        let digest = APIKey.generate().digest
        for _ in 0..<100 { #expect(try await cache.record(forDigest: digest) == nil) }
        #expect(store.lookups.load(ordering: .relaxed) == 1)
        clock.advance(by: .milliseconds(999))
        #expect(try await cache.record(forDigest: digest) == nil)
        #expect(store.lookups.load(ordering: .relaxed) == 1)
        clock.advance(by: .milliseconds(1))
        #expect(try await cache.record(forDigest: digest) == nil)
        #expect(store.lookups.load(ordering: .relaxed) == 2)
    }

    @Test("Creating a key through the cache drops the 'unknown' entry for its digest at once")
    func writesInvalidate() async throws {
        let cache = cache()
        let key = APIKey.generate()
        #expect(try await cache.record(forDigest: key.digest) == nil)
        let record = KeyRecord(
            id: .generate(), merchantID: MerchantID("m")!, name: "imported", scopes: [.salesRead],
            createdAt: Date(timeIntervalSince1970: 0), displayHint: key.displayHint, digest: key.digest)
        try await cache.insert(record)
        #expect(try await cache.record(forDigest: key.digest) == record)
        // Revoking through the cache (as KeyManager over it does) is seen by the next look-up.
        let manager = KeyManager(store: cache)
        try await manager.revoke(record.id)
        #expect(try await cache.record(forDigest: key.digest)?.revokedAt != nil)
    }

    @Test("Single flight: 50 concurrent misses for one digest make one look-up")
    func singleFlight() async throws {
        let cache = cache()
        let created = try await create(in: store)
        store.hold()
        let results = try await withThrowingTaskGroup(of: KeyRecord?.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.record(forDigest: created.key.digest) } }
            while store.waiting == 0 { await Task.yield() }
            for _ in 0..<20 { await Task.yield() }
            store.release()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 50 && results.allSatisfy { $0 == created.record })
        #expect(store.lookups.load(ordering: .relaxed) == 1)
    }

    @Test("An invalidation racing a load: what was loading before it is never cached")
    func invalidationRacingALoad() async throws {
        let cache = cache()
        let created = try await create(in: store)
        store.hold()
        // A look-up starts and reads the active record, then stalls.
        let stale = Task { try await cache.record(forDigest: created.key.digest) }
        while store.waiting == 0 { await Task.yield() }
        // Meanwhile the key is revoked and the change feed invalidates it.
        try await KeyManager(store: store).revoke(created.record.id)
        cache.invalidate(digest: created.key.digest)
        store.release()
        // The stalled look-up answers what it read (it began before the revocation) ...
        #expect(try await stale.value?.revokedAt == nil)
        // ... but it is not cached: every look-up that starts after the invalidation sees the revocation.
        #expect(try await cache.record(forDigest: created.key.digest)?.revokedAt != nil)
        #expect(store.lookups.load(ordering: .relaxed) == 2)
        // The same by key ID, for a cached record.
        let other = try await create(in: store)
        #expect(try await cache.record(forDigest: other.key.digest)?.revokedAt == nil)
        try await KeyManager(store: store).revoke(other.record.id)
        cache.invalidate(keyID: other.record.id)
        #expect(try await cache.record(forDigest: other.key.digest)?.revokedAt != nil)
    }

    @Test("Invalidating everything drops every entry")
    func invalidateAll() async throws {
        let cache = cache()
        let created = try await create(in: store)
        _ = try await cache.record(forDigest: created.key.digest)
        _ = try await cache.record(forDigest: APIKey.generate().digest)
        #expect(cache.count == 2)
        cache.invalidateAll()
        #expect(cache.count == 0)
        _ = try await cache.record(forDigest: created.key.digest)
        #expect(store.lookups.load(ordering: .relaxed) == 3)
    }

    @Test("Bounded: 10⁶ random digests never hold more than the unknown budget, and never push a known key out")
    func bounded() async throws {
        let cache = CachedKeyStore(store, maximumEntries: 64, maximumUnknownEntries: 4096, clock: clock)
        let created = try await create(in: store)
        var generator = SystemRandomNumberGenerator()
        var highest = 0
        var found = 0
        for index in 0..<1_000_000 {
            let digest = KeyDigest(
                word0: generator.next(), word1: generator.next(), word2: generator.next(), word3: generator.next())
            if try await cache.record(forDigest: digest) != nil { found += 1 }
            if index % 50_000 == 0 {
                highest = max(highest, cache.count)
                // A live key among the flood is still found, and still cached: the flood never evicts it.
                let lookups = store.lookups.load(ordering: .relaxed)
                #expect(try await cache.record(forDigest: created.key.digest) == created.record)
                #expect(index == 0 || store.lookups.load(ordering: .relaxed) == lookups, "served from the cache")
            }
        }
        highest = max(highest, cache.count)
        #expect(found == 0)
        // 4,096 unknown digests at most (each shard keeps its 256), plus the one known key.
        #expect(highest <= 4096 + 1 && highest >= 4096 - CachedKeyStore.shardCount * 64)
    }

    @Test("A flood of unknown digests holds a fixed amount of state once the unknown budget is full")
    func unknownStateBudget() async throws {
        let cache = CachedKeyStore(store, maximumEntries: 1024, maximumUnknownEntries: 4096, clock: clock)
        var generator = SystemRandomNumberGenerator()
        var largest = (entries: 0, queued: 0)
        for round in 0..<80 {
            for _ in 0..<1_000 {
                let digest = KeyDigest(
                    word0: generator.next(), word1: generator.next(), word2: generator.next(), word3: generator.next())
                _ = try await cache.record(forDigest: digest)
            }
            let held = cache.heldState
            if round >= 10 { largest = (max(largest.entries, held.entries), max(largest.queued, held.queued)) }
        }
        // Entries never pass the budget; the eviction queues stay under twice it plus their compaction slack.
        #expect(largest.entries <= 4096)
        #expect(largest.queued <= 2 * 4096 + CachedKeyStore.shardCount * 1025, "\(largest)")
    }

    @Test("The gate over the cache: a revocation through the manager is refused at the next request")
    func gateOverCache() async throws {
        let cache = cache()
        let manager = KeyManager(store: cache)
        let created = try await manager.create(for: MerchantID("m")!, name: "k", scopes: [.salesRead])
        let gate = RequestGate(
            keys: cache, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), clock: clock)
        let request = GateRequest(
            method: "GET", target: "/public/api/v1/sales", authorization: ["Bearer " + created.key.revealSecret()],
            clientAddress: nil)
        #expect(try await gate.evaluate(request).status == 200)
        try await manager.revoke(created.record.id)
        #expect(try await gate.evaluate(request).status == 401)
    }

    @Test(
        "The gate's synchronous path through the cache keeps every rule: freshness, negative entries, unconfirmation, invalidation"
    )
    func gateSynchronousPath() async throws {
        let cache = cache()
        let gate = RequestGate(
            keys: cache, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(),
            clock: ManualMonotonicClock(.milliseconds(0)))
        func status(_ key: APIKey) async throws -> Int {
            try await gate.evaluate(
                GateRequest(
                    method: "GET", target: "/public/api/v1/sales", authorization: ["Bearer " + key.revealSecret()],
                    clientAddress: nil)
            ).status
        }
        var lookups: Int { store.lookups.load(ordering: .relaxed) }
        let created = try await create(in: store)
        #expect(try await status(created.key) == 200)
        for _ in 0..<20 { #expect(try await status(created.key) == 200) }
        #expect(lookups == 1)  // one load, then hits
        // Revoked behind the cache's back: served until the freshness bound, not one millisecond more.
        try await KeyManager(store: store).revoke(created.record.id)
        clock.advance(by: .milliseconds(9_999))
        #expect(try await status(created.key) == 200)
        clock.advance(by: .milliseconds(1))
        #expect(try await status(created.key) == 401)
        #expect(lookups == 2)

        // An unknown digest is remembered as unknown for one second.
        let unknown = APIKey.generate()
        #expect(try await status(unknown) == 401)
        #expect(try await status(unknown) == 401)
        #expect(lookups == 3)
        clock.advance(by: .seconds(1))
        #expect(try await status(unknown) == 401)
        #expect(lookups == 4)

        // Unconfirmed entries are never served while the store answers; invalidated ones never.
        let second = try await create(in: store)
        #expect(try await status(second.key) == 200)
        #expect(lookups == 5)
        cache.unconfirmAll()
        #expect(try await status(second.key) == 200)
        #expect(lookups == 6)
        cache.invalidate(keyID: second.record.id)
        try await KeyManager(store: store).revoke(second.record.id)
        #expect(try await status(second.key) == 401)
        #expect(lookups == 7)
    }
}
