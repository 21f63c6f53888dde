/// A ``KeyLookup`` that can often answer without suspending: the gate then decides the whole request
/// synchronously, with no task hop, and asks ``KeyLookup/record(forDigest:)`` only when this says it
/// must.
///
/// ``InMemoryKeyStore``, ``FileKeyStore`` and ``CachedKeyStore`` conform; so can a store you write,
/// such as a snapshot held in memory:
///
/// ```swift
/// struct Snapshot: ImmediateKeyLookup {
///     let records: [KeyDigest: KeyRecord]
///     func record(forDigest digest: KeyDigest) async throws -> KeyRecord? { records[digest] }
///     func immediateRecord(forDigest digest: KeyDigest) -> ImmediateKeyAnswer {
///         records[digest].map(ImmediateKeyAnswer.found) ?? .unknown
///     }
/// }
/// ```
public protocol ImmediateKeyLookup: KeyLookup {
    /// What the store knows of `digest` now, without suspending.
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: ``ImmediateKeyAnswer/found(_:)`` or ``ImmediateKeyAnswer/unknown`` when the store
    ///   is sure, ``ImmediateKeyAnswer/mustAsk`` when only ``KeyLookup/record(forDigest:)`` can tell
    ///   (a cache miss, a stale entry, a source that cannot be read now).
    func immediateRecord(forDigest digest: KeyDigest) -> ImmediateKeyAnswer
}

/// What an ``ImmediateKeyLookup`` knows of a digest without suspending.
public enum ImmediateKeyAnswer: Sendable {
    /// The record with that digest.
    case found(KeyRecord)
    /// No record has that digest: the gate refuses the key (401).
    case unknown
    /// The store must be asked asynchronously.
    case mustAsk
}

/// The built-in stores' faster form of ``ImmediateKeyLookup``: records behind one reference that
/// carries the key identifier's hashes, so the gate neither copies a record nor hashes per request.
protocol StoredRecordLookup: Sendable {
    /// `.some(stored)`, `.some(nil)` for an unknown digest, or `nil` when the store must be asked.
    func storedAnswer(forDigest digest: KeyDigest) -> StoredRecord??
    /// Whether a cache holds a record for the digest, fresh or stale (a key that was valid: no flood
    /// of random keys guesses one).
    func holdsKnownEntry(forDigest digest: KeyDigest) -> Bool
}

extension StoredRecordLookup {
    func holdsKnownEntry(forDigest digest: KeyDigest) -> Bool { false }

    /// ``storedAnswer(forDigest:)`` as an ``ImmediateKeyAnswer``.
    func immediateAnswer(forDigest digest: KeyDigest) -> ImmediateKeyAnswer {
        switch storedAnswer(forDigest: digest) {
        case .some(.some(let stored)): .found(stored.record)
        case .some(.none): .unknown
        case .none: .mustAsk
        }
    }
}

/// A user's ``ImmediateKeyLookup`` in the built-ins' form: one object per request it answers.
struct ImmediateLookupAdapter: StoredRecordLookup {
    let base: any ImmediateKeyLookup

    func storedAnswer(forDigest digest: KeyDigest) -> StoredRecord?? {
        switch base.immediateRecord(forDigest: digest) {
        case .found(let record): .some(StoredRecord(record))
        case .unknown: .some(nil)
        case .mustAsk: nil
        }
    }
}

extension InMemoryKeyStore: ImmediateKeyLookup, StoredRecordLookup {
    /// The record with `digest`, or ``ImmediateKeyAnswer/unknown``: this store always knows.
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The answer.
    public func immediateRecord(forDigest digest: KeyDigest) -> ImmediateKeyAnswer {
        immediateAnswer(forDigest: digest)
    }

    func storedAnswer(forDigest digest: KeyDigest) -> StoredRecord?? { .some(storedRecord(forDigest: digest)) }
}

extension FileKeyStore: ImmediateKeyLookup, StoredRecordLookup {
    /// The record with `digest` in the file's current snapshot, ``ImmediateKeyAnswer/unknown``, or
    /// ``ImmediateKeyAnswer/mustAsk`` when the file cannot be read (the asynchronous look-up reports it).
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The answer.
    public func immediateRecord(forDigest digest: KeyDigest) -> ImmediateKeyAnswer {
        immediateAnswer(forDigest: digest)
    }

    func storedAnswer(forDigest digest: KeyDigest) -> StoredRecord?? {
        do {
            return .some(try storedRecord(forDigest: digest))
        } catch {
            return nil  // a file that cannot be read: the asynchronous path asks again and reports it
        }
    }
}

extension CachedKeyStore: ImmediateKeyLookup, StoredRecordLookup {
    /// A fresh, confirmed cached answer, or ``ImmediateKeyAnswer/mustAsk`` (a miss, a stale or
    /// unconfirmed entry).
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The answer.
    public func immediateRecord(forDigest digest: KeyDigest) -> ImmediateKeyAnswer {
        immediateAnswer(forDigest: digest)
    }

    func storedAnswer(forDigest digest: KeyDigest) -> StoredRecord?? { freshAnswer(forDigest: digest, at: clock.now()) }
}
