import Foundation
import Testing

@testable import SentryAuth

@Suite("In-memory key store")
struct InMemoryKeyStoreTests {
    @Test("Insert, look up by digest and id, list by merchant, refuse duplicates")
    func basics() async throws {
        let store = InMemoryKeyStore()
        let first = KeyRecordFixtures.record()
        let second = KeyRecordFixtures.record()
        try await store.insert(first)
        try await store.insert(second)
        #expect(await store.record(forDigest: first.digest) == first)
        #expect(await store.record(withID: second.id) == second)
        #expect(await store.record(forDigest: APIKey.generate().digest) == nil)
        #expect(Set(await store.records(forMerchant: .acme).map(\.id)) == [first.id, second.id])
        #expect(await store.records(forMerchant: .globex).isEmpty)
        await #expect(throws: KeyStoreError.duplicateKey) { try await store.insert(first) }
        let sameDigest = KeyRecord(
            id: .generate(), merchantID: .globex, name: "copy", scopes: [], createdAt: testEpoch,
            displayHint: first.displayHint, digest: first.digest)
        await #expect(throws: KeyStoreError.duplicateKey) { try await store.insert(sameDigest) }
        #expect(await store.records(forMerchant: .globex).isEmpty)
    }

    @Test("replace is a compare-and-swap; identity never changes; remove is conditional")
    func conditionalUpdates() async throws {
        let store = InMemoryKeyStore()
        let record = KeyRecordFixtures.record(scopes: [.customerRead, .customerWrite])
        try await store.insert(record)
        var narrowed = record
        narrowed.scopes = [.customerRead]
        #expect(try await store.replace(record, with: narrowed))
        var stale = record
        stale.revokedAt = testEpoch
        #expect(try await !store.replace(record, with: stale))
        #expect(await store.record(withID: record.id) == narrowed)
        let other = KeyRecordFixtures.record()
        await #expect(throws: KeyStoreError.identityChanged) { try await store.replace(narrowed, with: other) }
        #expect(await !store.remove(record))
        #expect(await store.remove(narrowed))
        #expect(await store.record(forDigest: record.digest) == nil)
        #expect(await store.records(forMerchant: .acme).isEmpty)
    }

    @Test("Thousands of concurrent inserts and look-ups lose nothing")
    func concurrency() async throws {
        let store = InMemoryKeyStore()
        let merchants = (0..<10).map { MerchantID("m\($0)")! }
        let records = (0..<4000).map { index in
            let key = APIKey.generate()
            return KeyRecord(
                id: .generate(), merchantID: merchants[index % 10], name: "k\(index)", scopes: [.salesRead],
                createdAt: testEpoch, displayHint: key.displayHint, digest: key.digest)
        }
        let found = try await withThrowingTaskGroup(of: Int.self) { group in
            for chunk in stride(from: 0, to: records.count, by: 100) {
                let slice = records[chunk..<chunk + 100]
                group.addTask {
                    var hits = 0
                    for record in slice {
                        try await store.insert(record)
                        if await store.record(forDigest: record.digest) == record { hits += 1 }
                    }
                    return hits
                }
                group.addTask {
                    // Readers racing the writers: whatever they see must be a whole record.
                    for record in slice.reversed() {
                        if let seen = await store.record(forDigest: record.digest) { #expect(seen == record) }
                    }
                    return 0
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(found == 4000)
        for merchant in merchants { #expect(await store.records(forMerchant: merchant).count == 400) }
        for record in records { #expect(await store.record(withID: record.id) == record) }
    }
}

@Suite("Key stores say whether they keep the audit trail")
struct AuditTrailTests {
    /// A store written against the protocol's defaults: it keeps records, not events.
    actor RecordsOnly: KeyStore {
        var records: [KeyRecord] = []
        func record(forDigest digest: KeyDigest) -> KeyRecord? { records.first { $0.digest == digest } }
        func record(withID id: APIKeyID) -> KeyRecord? { records.first { $0.id == id } }
        func records(forMerchant merchantID: MerchantID) -> [KeyRecord] {
            records.filter { $0.merchantID == merchantID }
        }
        func insert(_ record: KeyRecord) { records.append(record) }
        func replace(_ current: KeyRecord, with new: KeyRecord) -> Bool {
            guard let index = records.firstIndex(of: current) else { return false }
            records[index] = new
            return true
        }
        func remove(_ current: KeyRecord) -> Bool {
            guard let index = records.firstIndex(of: current) else { return false }
            records.remove(at: index)
            return true
        }
    }

    @Test("A store on the defaults says it keeps no trail, and its history is an error, not an empty list")
    func defaults() async throws {
        let store = RecordsOnly()
        #expect(!store.keepsAuditTrail)
        let created = try await KeyManager(store: store).create(for: .acme, name: "k", scopes: [.salesRead])
        await #expect(throws: KeyStoreError.auditTrailNotKept) { try await store.events(forKey: created.record.id) }
        #expect(KeyStoreError.auditTrailNotKept.description == "This key store keeps no audit trail.")
    }

    @Test("The stores that keep the trail say so; the cache says what its store says")
    func keepers() async throws {
        let memory = InMemoryKeyStore()
        #expect(memory.keepsAuditTrail)
        #expect(CachedKeyStore(memory).keepsAuditTrail)
        #expect(!CachedKeyStore(RecordsOnly()).keepsAuditTrail)
        let created = try await KeyManager(store: memory).create(for: .acme, name: "k", scopes: [.salesRead])
        #expect(await memory.events(forKey: created.record.id).count == 1)
    }
}
