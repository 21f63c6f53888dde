#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where key records live: memory, a file, a database shared by many servers — the look-up the gate
/// needs (``KeyLookup``) and the administrative writes and audit trail ``KeyManager`` needs.
///
/// A store only keeps records; the lifecycle rules are enforced once, above it, by ``KeyManager``,
/// so every store obeys the same rules. A store must be linearizable: each call takes effect
/// atomically at some instant between its start and its return.
///
/// Updates are conditional (``replace(_:with:)``), so read-check-write sequences stay correct when
/// many servers change the same key at once.
public protocol KeyStore: KeyLookup {
    /// The record with the identifier `id`, or `nil`.
    ///
    /// - Parameter id: A key identifier.
    /// - Returns: The record, if one has that identifier.
    func record(withID id: APIKeyID) async throws -> KeyRecord?

    /// Every record of a merchant, ordered by creation time, then identifier.
    ///
    /// - Parameter merchantID: The merchant.
    /// - Returns: The merchant's records.
    func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord]

    /// Adds a new record.
    ///
    /// - Parameter record: The record.
    /// - Throws: ``KeyStoreError/duplicateKey`` when a record with the same identifier or digest exists.
    func insert(_ record: KeyRecord) async throws

    /// Replaces a record only if it is still exactly `current` (a compare-and-swap).
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement; it keeps `current`'s identifier and digest.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    /// - Throws: ``KeyStoreError/identityChanged`` when `new` has another identifier or digest.
    func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool

    /// Removes a record, if it is still exactly `current`, with its audit events: this takes back a
    /// key that was never handed out (a roll that lost a race), it is not a way to retire keys
    /// (revoke them).
    ///
    /// - Parameter current: The record as the caller last read it.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    func remove(_ current: KeyRecord) async throws -> Bool

    /// Records when keys were last used, in one batch: each record's ``KeyRecord/lastUsedAt``
    /// becomes the later of its value and the given time. Unknown identifiers are ignored.
    ///
    /// A store that does not keep last use may ignore the call: the default does nothing.
    ///
    /// - Parameter uses: For each key, when it was used, to the minute.
    func recordUses(_ uses: [APIKeyID: Date]) async throws

    /// Adds a new record and its audit event in one atomic write (see ``KeyEvent``).
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - event: What happened, for the key's history.
    /// - Throws: ``KeyStoreError/duplicateKey``, adding nothing.
    func insert(_ record: KeyRecord, event: KeyEvent) async throws

    /// Replaces a record, if it is still exactly `current`, and records the event in the same write.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement.
    ///   - event: What happened, for the key's history.
    /// - Returns: `false`, changing and recording nothing, when the record changed.
    func replace(_ current: KeyRecord, with new: KeyRecord, event: KeyEvent) async throws -> Bool

    /// The audit trail of a key, oldest first.
    ///
    /// - Parameter id: The key.
    /// - Returns: Its events.
    /// - Throws: ``KeyStoreError/auditTrailNotKept`` from a store that keeps none.
    func events(forKey id: APIKeyID) async throws -> [KeyEvent]

    /// Whether the store keeps the audit trail: writes each change's ``KeyEvent`` with the change
    /// and answers ``events(forKey:)``. A store that does not says so here (the default is
    /// `false`): its ``insert(_:event:)`` and ``replace(_:with:event:)`` keep the record and drop the
    /// event, and its history is an error, never an empty list that looks like no history.
    var keepsAuditTrail: Bool { get }
}

extension KeyStore {
    /// Adds a new record and its audit event in one atomic write. The default, for stores that keep
    /// no audit trail (``keepsAuditTrail`` is `false`), adds the record alone and drops the event.
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - event: What happened, for the key's history.
    public func insert(_ record: KeyRecord, event: KeyEvent) async throws {
        try await insert(record)
    }

    /// Replaces a record, if it is still exactly `current`, and records the event in the same atomic
    /// write. The default, for stores that keep no audit trail (``keepsAuditTrail`` is `false`),
    /// replaces the record alone and drops the event.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement.
    ///   - event: What happened, for the key's history.
    /// - Returns: `false`, changing nothing (and recording nothing), when the record changed.
    public func replace(_ current: KeyRecord, with new: KeyRecord, event: KeyEvent) async throws -> Bool {
        try await replace(current, with: new)
    }

    /// The audit trail of a key. The default, for stores that keep none, says so.
    ///
    /// - Parameter id: The key.
    /// - Returns: Never.
    /// - Throws: ``KeyStoreError/auditTrailNotKept``.
    public func events(forKey id: APIKeyID) async throws -> [KeyEvent] { throw KeyStoreError.auditTrailNotKept }

    /// `false`: a store keeps the audit trail only where it says so.
    public var keepsAuditTrail: Bool { false }

    /// Ignores last use: the default for stores that do not keep it.
    ///
    /// - Parameter uses: Ignored.
    public func recordUses(_ uses: [APIKeyID: Date]) async throws {}
}

/// Why a store refused a change.
public struct KeyStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case duplicateKey
        case identityChanged
        case auditTrailNotKept
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// A record with the same identifier or digest already exists.
    public static var duplicateKey: Self { Self(.duplicateKey) }

    /// A replacement tried to change a record's identifier or digest.
    public static var identityChanged: Self { Self(.identityChanged) }

    /// The store keeps no audit trail (``KeyStore/keepsAuditTrail`` is `false`), so it has no history to give.
    public static var auditTrailNotKept: Self { Self(.auditTrailNotKept) }

    /// A message saying what was refused.
    public var description: String {
        switch kind {
        case .duplicateKey: "A key with the same identifier or digest is already stored."
        case .identityChanged: "A record's identifier and digest never change."
        case .auditTrailNotKept: "This key store keeps no audit trail."
        }
    }
}
