#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A ``KeyStore`` in process memory, safe to use from any number of tasks at once.
///
/// Changes take one short critical section under a pthread mutex, so the store is linearizable. The
/// gate's look-up by digest takes only the lock of one of 64 shards of the records, so requests
/// with different keys on different threads rarely touch the same lock. Records are lost when the
/// process ends; use it for tests, demos, and single-process servers that load their keys at
/// start-up.
///
/// ```swift
/// let store = InMemoryKeyStore()
/// let manager = KeyManager(store: store)
/// ```
public final class InMemoryKeyStore: KeyStore {
    /// Records are kept by digest, the gate's look-up (one probe, the digest's first word hashed);
    /// identifiers lead to digests.
    private struct State {
        /// Changed only with the state's lock held; read by digest with only a shard's lock.
        let byDigest: RecordsByDigest
        var digestByID: [APIKeyID: KeyDigest] = [:]
        var idsByMerchant: [MerchantID: Set<APIKeyID>] = [:]
        var events: [APIKeyID: [KeyEvent]] = [:]

        func record(withID id: APIKeyID) -> KeyRecord? { digestByID[id].flatMap { byDigest[$0]?.record } }
    }

    /// The records by digest, in 64 shards, each behind its own lock.
    private final class RecordsByDigest: Sendable {
        private let shards = (0..<64).map { _ in Locked<[KeyDigest: StoredRecord]>([:]) }

        subscript(digest: KeyDigest) -> StoredRecord? {
            get { shards[Int(truncatingIfNeeded: digest.word0 & 63)].withLock { $0[digest] } }
            set { shards[Int(truncatingIfNeeded: digest.word0 & 63)].withLock { $0[digest] = newValue } }
        }

        var values: [StoredRecord] { shards.flatMap { $0.withLock { Array($0.values) } } }
    }

    /// The records by digest: written under `state`'s lock (which also holds them), read without it.
    private let byDigest = RecordsByDigest()
    private let state: Locked<State>

    /// Creates an empty store.
    public init() {
        state = Locked(State(byDigest: byDigest))
    }

    /// Creates a store holding `records`.
    ///
    /// - Parameter records: Records with distinct identifiers and digests.
    /// - Throws: ``KeyStoreError/duplicateKey`` when two records share an identifier or digest.
    public convenience init(_ records: some Sequence<KeyRecord>) throws(KeyStoreError) {
        self.init()
        for record in records { try insertNow(record) }
    }

    /// The record whose key has `digest`, or `nil`.
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The record, if one has that digest.
    public func record(forDigest digest: KeyDigest) async -> KeyRecord? {
        recordNow(forDigest: digest)
    }

    /// The record whose key has `digest`, without suspending.
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The record, if one has that digest.
    public func recordNow(forDigest digest: KeyDigest) -> KeyRecord? {
        byDigest[digest]?.record
    }

    /// The stored record for `digest`, shared, not copied: the gate's synchronous look-up.
    func storedRecord(forDigest digest: KeyDigest) -> StoredRecord? {
        byDigest[digest]
    }

    /// The record with the identifier `id`, or `nil`.
    ///
    /// - Parameter id: A key identifier.
    /// - Returns: The record, if one has that identifier.
    public func record(withID id: APIKeyID) async -> KeyRecord? {
        state.withLock { $0.record(withID: id) }
    }

    /// Every record of a merchant, ordered by creation time, then identifier.
    ///
    /// - Parameter merchantID: The merchant.
    /// - Returns: The merchant's records.
    public func records(forMerchant merchantID: MerchantID) async -> [KeyRecord] {
        let records = state.withLock { state in
            (state.idsByMerchant[merchantID] ?? []).compactMap { state.record(withID: $0) }
        }
        return records.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Every record in the store, ordered by creation time, then identifier.
    public var allRecords: [KeyRecord] {
        state.withLock { $0.byDigest.values.map(\.record) }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Adds a new record.
    ///
    /// - Parameter record: The record.
    /// - Throws: ``KeyStoreError/duplicateKey`` when a record with the same identifier or digest exists.
    public func insert(_ record: KeyRecord) async throws {
        try insertNow(record)
    }

    private func insertNow(_ record: KeyRecord) throws(KeyStoreError) {
        try state.withLock { (state) throws(KeyStoreError) in try Self.insert(record, into: &state) }
    }

    private static func insert(_ record: KeyRecord, into state: inout State) throws(KeyStoreError) {
        guard state.digestByID[record.id] == nil, state.byDigest[record.digest] == nil else {
            throw .duplicateKey
        }
        state.byDigest[record.digest] = StoredRecord(record)
        state.digestByID[record.id] = record.digest
        state.idsByMerchant[record.merchantID, default: []].insert(record.id)
    }

    /// Replaces a record only if it is still exactly `current`.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement, with `current`'s identifier and digest.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    /// - Throws: ``KeyStoreError/identityChanged`` when `new` has another identifier, digest or merchant.
    public func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool {
        guard new.id == current.id, new.digest == current.digest, new.merchantID == current.merchantID else {
            throw KeyStoreError.identityChanged
        }
        return state.withLock { state in
            guard state.byDigest[current.digest]?.record == current else { return false }
            state.byDigest[current.digest] = StoredRecord(new)
            return true
        }
    }

    /// Removes a record, if it is still exactly `current`.
    ///
    /// - Parameter current: The record as the caller last read it.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    public func remove(_ current: KeyRecord) async -> Bool {
        state.withLock { state in
            guard state.byDigest[current.digest]?.record == current else { return false }
            state.byDigest[current.digest] = nil
            state.digestByID[current.id] = nil
            state.idsByMerchant[current.merchantID]?.remove(current.id)
            state.events[current.id] = nil
            if state.idsByMerchant[current.merchantID]?.isEmpty == true {
                state.idsByMerchant[current.merchantID] = nil
            }
            return true
        }
    }

    /// Records when keys were last used (the later time wins), in one critical section.
    ///
    /// - Parameter uses: For each key, when it was used, to the minute.
    public func recordUses(_ uses: [APIKeyID: Date]) async {
        state.withLock { state in
            for (id, time) in uses {
                guard var record = state.record(withID: id), record.lastUsedAt.map({ $0 < time }) ?? true else {
                    continue
                }
                record.lastUsedAt = time
                state.byDigest[record.digest] = StoredRecord(record)
            }
        }
    }

    /// Adds a record and its event in one critical section.
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - event: What happened.
    /// - Throws: ``KeyStoreError/duplicateKey``, adding nothing.
    public func insert(_ record: KeyRecord, event: KeyEvent) async throws {
        try state.withLock { (state) throws(KeyStoreError) in
            try Self.insert(record, into: &state)
            state.events[record.id, default: []].append(event)
        }
    }

    /// Replaces a record, if it is still exactly `current`, and records the event, in one critical section.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement.
    ///   - event: What happened.
    /// - Returns: `false`, changing and recording nothing, when the record changed.
    public func replace(_ current: KeyRecord, with new: KeyRecord, event: KeyEvent) async throws -> Bool {
        guard new.id == current.id, new.digest == current.digest, new.merchantID == current.merchantID else {
            throw KeyStoreError.identityChanged
        }
        return state.withLock { state in
            guard state.byDigest[current.digest]?.record == current else { return false }
            state.byDigest[current.digest] = StoredRecord(new)
            state.events[current.id, default: []].append(event)
            return true
        }
    }

    /// `true`: every change is kept with its event.
    public var keepsAuditTrail: Bool { true }

    /// The audit trail of a key, oldest first.
    ///
    /// - Parameter id: The key.
    /// - Returns: Its events.
    public func events(forKey id: APIKeyID) async -> [KeyEvent] {
        state.withLock { $0.events[id] ?? [] }
    }
}
