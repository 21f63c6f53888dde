import Foundation
import Synchronization

@testable import SentryAuth

/// A store over an in-memory one that counts digest look-ups (and can hold them until released, to
/// stage races, or fail them) and records every `recordUses` batch (and can fail it).
final class InstrumentedStore: KeyStore {
    let base = InMemoryKeyStore()
    let lookups = Atomic<Int>(0)
    let batches = Locked<[[APIKeyID: Date]]>([])
    let failing = Atomic<Bool>(false)
    /// Digest look-ups throw while set (a database that is down).
    let lookupsFail = Atomic<Bool>(false)

    struct Unavailable: Error {}
    private let gate = Locked<(held: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// Look-ups from now on wait until ``release()``.
    func hold() { gate.withLock { $0.held = true } }

    /// Lets every held look-up (and later ones) go.
    func release() {
        let waiting = gate.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.held = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// How many look-ups are waiting.
    var waiting: Int { gate.withLock { $0.waiting.count } }

    func record(forDigest digest: KeyDigest) async throws -> KeyRecord? {
        lookups.add(1, ordering: .relaxed)
        if lookupsFail.load(ordering: .relaxed) { throw Unavailable() }
        // Read before waiting: a held look-up returns what the store held when it started.
        let record = base.recordNow(forDigest: digest)
        await withCheckedContinuation { continuation in
            let held = gate.withLock { state -> Bool in
                if state.held { state.waiting.append(continuation) }
                return state.held
            }
            if !held { continuation.resume() }
        }
        return record
    }

    func record(withID id: APIKeyID) async throws -> KeyRecord? { await base.record(withID: id) }
    func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] {
        await base.records(forMerchant: merchantID)
    }
    func insert(_ record: KeyRecord) async throws { try await base.insert(record) }
    func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool {
        try await base.replace(current, with: new)
    }
    func remove(_ current: KeyRecord) async throws -> Bool { await base.remove(current) }
    func recordUses(_ uses: [APIKeyID: Date]) async throws {
        if failing.load(ordering: .relaxed) { throw Unavailable() }
        batches.withLock { $0.append(uses) }
        await base.recordUses(uses)
    }
}
