import Foundation
import Synchronization
import Testing

@testable import SentryAuth
import SentryAuthTesting

@Suite("Last use")
struct KeyUsageRecorderTests {
    let store = InstrumentedStore()
    let clock = ManualMonotonicClock(.milliseconds(1_000_000))
    // 2026-01-01T00:00:30Z: half a minute past a minute boundary.
    let wallClock = ManualWallClock(Date(timeIntervalSince1970: 1_767_225_630))

    func world() async throws -> (RequestGate, KeyUsageRecorder, CreatedKey, CreatedKey) {
        let manager = KeyManager(store: store, clock: wallClock)
        let used = try await manager.create(
            for: MerchantID("m")!, name: "used", scopes: [.salesRead],
            rateLimit: try RateLimit(limit: 100_000, window: .seconds(60)))
        let idle = try await manager.create(for: MerchantID("m")!, name: "idle", scopes: [.salesRead])
        let usage = KeyUsageRecorder(store: store, clock: clock, wallClock: wallClock)
        let gate = RequestGate(
            keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), clock: clock,
            wallClock: wallClock, usage: usage)
        return (gate, usage, used, idle)
    }

    func request(_ key: CreatedKey, _ target: String = "/public/api/v1/sales") -> GateRequest {
        GateRequest(
            method: "GET", target: target, authorization: ["Bearer " + key.key.revealSecret()], clientAddress: nil)
    }

    @Test("1,000 uses in a minute cause one store write, dated to the minute; the next minute, one more")
    func oneWriteAMinute() async throws {
        let (gate, usage, used, idle) = try await world()
        var allowed = 0
        for _ in 0..<1000 {
            // 20 ms apart: 20 s of traffic, inside one wall-clock minute.
            clock.advance(by: .milliseconds(20))
            if try await gate.evaluate(request(used)).status == 200 { allowed += 1 }
        }
        #expect(allowed == 1000)
        // A refused request (the key lacks customer:read) notes no use.
        #expect(try await gate.evaluate(request(idle, "/public/api/v1/customers")).status == 403)
        wallClock.advance(by: .seconds(20))
        #expect(try await usage.flush() == 1)
        #expect(try await usage.flush() == 0)  // nothing new: no write
        let batches = store.batches.withLock { $0 }
        #expect(batches.count == 1 && batches[0].count == 1)
        let minute = Date(timeIntervalSince1970: 1_767_225_600)  // 00:00:00, rounded down
        #expect(try await store.record(withID: used.record.id)?.lastUsedAt == minute)
        #expect(try await store.record(withID: idle.record.id)?.lastUsedAt == nil)
        // More uses in the same minute: nothing to write. In the next minute: one more write.
        clock.advance(by: .seconds(1))
        wallClock.advance(by: .seconds(1))
        _ = try await gate.evaluate(request(used))
        #expect(try await usage.flush() == 0)
        clock.advance(by: .seconds(60))
        wallClock.advance(by: .seconds(60))
        #expect(try await gate.evaluate(request(used)).status == 200)
        #expect(try await usage.flush() == 1)
        #expect(try await store.record(withID: used.record.id)?.lastUsedAt == minute.addingTimeInterval(60))
        #expect(store.batches.withLock { $0.count } == 2)
    }

    @Test("Until a flush nothing is written (a crash loses at most the unflushed uses); a failed write is retried")
    func unflushedAndRetried() async throws {
        let (gate, usage, used, _) = try await world()
        #expect(try await gate.evaluate(request(used)).status == 200)
        #expect(try await store.record(withID: used.record.id)?.lastUsedAt == nil)
        store.failing.store(true, ordering: .relaxed)
        await #expect(throws: InstrumentedStore.Unavailable.self) { try await usage.flush() }
        store.failing.store(false, ordering: .relaxed)
        #expect(try await usage.flush() == 1)
        #expect(
            try await store.record(withID: used.record.id)?.lastUsedAt == Date(timeIntervalSince1970: 1_767_225_600))
    }

    @Test("A key store file keeps the later time, in one write per batch, and none when nothing changes")
    func fileStore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("keys.json").path
        let store = FileKeyStore(path: path)
        let created = try await KeyManager(store: store).create(for: MerchantID("m")!, name: "k", scopes: [.salesRead])
        let later = Date(timeIntervalSince1970: 1_767_225_660)
        try await store.recordUses([created.record.id: later])
        try await store.recordUses([created.record.id: later.addingTimeInterval(-60)])  // earlier: ignored
        #expect(try FileKeyStore(path: path).allRecords().first?.lastUsedAt == later)
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        try await store.recordUses([created.record.id: later, APIKeyID("key_unknown")!: later])
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == modified)
        // The default for stores that do not keep last use: nothing happens, nothing throws.
        try await CountingOnlyStore().recordUses([created.record.id: later])
    }
}

/// A store that keeps no last use (the protocol's default).
struct CountingOnlyStore: KeyStore {
    func record(forDigest digest: KeyDigest) async throws -> KeyRecord? { nil }
    func record(withID id: APIKeyID) async throws -> KeyRecord? { nil }
    func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] { [] }
    func insert(_ record: KeyRecord) async throws {}
    func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool { false }
    func remove(_ current: KeyRecord) async throws -> Bool { false }
}
