#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The key lifecycle — create, revoke, expire, roll, restrict, mint — and verification, written once
/// above the ``KeyStore`` protocol so every store obeys the same rules:
///
/// - The plaintext key is returned once, by the call that creates it, and never stored.
/// - Scopes are fixed at creation and only ever narrowed: no call adds a scope to an existing key,
///   and a key minted on behalf of another gets at most that key's scopes.
/// - Revocation takes effect immediately and is final.
/// - Rolling makes a new key with the same merchant, scopes, allowlist, limit and expiry; the old key
///   keeps working for a grace period (0 means it stops now), never past its own expiry. The new key
///   never inherits the grace deadline. A key is rolled once: rolling it again is refused with
///   ``KeyLifecycleError/alreadyRolled(_:successor:)``, which names the successor to roll instead.
/// - Times are kept to the millisecond, the precision every store keeps.
/// - A refused call changes nothing.
///
/// ```swift
/// let manager = KeyManager(store: InMemoryKeyStore())
/// let created = try await manager.create(
///     for: MerchantID("merchant_42")!, name: "Reminder job", scopes: [.invoiceRead, .invoiceRemind])
/// print(created.key.revealSecret())   // show once to the merchant
/// ```
public struct KeyManager<Store: KeyStore>: Sendable {
    /// The store that keeps the records.
    public let store: Store
    /// The clock that dates creation, revocation and expiry.
    public let clock: any WallClock
    /// The format of the keys this manager creates and accepts.
    public let format: APIKeyFormat
    /// Who is making the changes, for the audit trail (``KeyEvent/actor``), if known.
    public let actor: String?

    /// How many times a conditional update is retried before giving up with ``KeyLifecycleError/conflict(_:)``.
    static var maximumAttempts: Int { 32 }

    /// Creates a manager.
    ///
    /// - Parameters:
    ///   - store: The record store.
    ///   - clock: The wall clock; the system clock by default.
    ///   - format: The key format; ``APIKeyFormat/sentry`` by default.
    ///   - actor: Who is making the changes, recorded in each ``KeyEvent``; none by default.
    public init(
        store: Store, clock: any WallClock = SystemWallClock(), format: APIKeyFormat = .sentry, actor: String? = nil
    ) {
        self.store = store
        self.clock = clock
        self.format = format
        self.actor = actor
    }

    /// Creates a key.
    ///
    /// - Parameters:
    ///   - merchantID: The merchant the key belongs to.
    ///   - name: A human-readable name: 1 to 100 printable characters (see ``isValidName(_:)``).
    ///   - scopes: What the key may do; fixed for the key's life.
    ///   - allowlist: The networks the key may be used from; empty (the default) means any address.
    ///   - rateLimit: The key's rate limit; 60 per minute by default.
    ///   - expiresAt: When the key stops working, if ever.
    /// - Returns: The key, to show once, and its record.
    /// - Throws: ``KeyLifecycleError`` for a bad name or expiry; the store's errors.
    public func create(
        for merchantID: MerchantID, name: String, scopes: ScopeSet, allowlist: IPAllowlist = IPAllowlist(),
        rateLimit: RateLimit = .default, expiresAt: Date? = nil
    ) async throws -> CreatedKey {
        try await insertNewKey(
            merchantID: merchantID, name: name, scopes: scopes, allowlist: allowlist, rateLimit: rateLimit,
            expiresAt: expiresAt, parentID: nil, createdAt: now(), kind: .created, related: nil)
    }

    /// Stores an existing key — one made before this library, or elsewhere — under a new record, as
    /// ``create(for:name:scopes:allowlist:rateLimit:expiresAt:)`` would. Only its digest and hint
    /// are kept. A key without a valid checksum is accepted by the gate only with a format that
    /// accepts legacy keys (``APIKeyFormat/sentryAcceptingLegacyKeys``): the migration path.
    ///
    /// - Parameters:
    ///   - key: The existing key, parsed with the format it was made in.
    ///   - merchantID: The merchant the key belongs to.
    ///   - name: A human-readable name: 1 to 100 printable characters.
    ///   - scopes: What the key may do; fixed for the key's life.
    ///   - allowlist: The networks the key may be used from; empty (the default) means any address.
    ///   - rateLimit: The key's rate limit; 60 per minute by default.
    ///   - expiresAt: When the key stops working, if ever.
    /// - Returns: The new record.
    /// - Throws: ``KeyStoreError/duplicateKey`` when the key is already stored; ``KeyLifecycleError``
    ///   for a bad name or expiry.
    @discardableResult
    public func importKey(
        _ key: APIKey, for merchantID: MerchantID, name: String, scopes: ScopeSet,
        allowlist: IPAllowlist = IPAllowlist(), rateLimit: RateLimit = .default, expiresAt: Date? = nil
    ) async throws -> KeyRecord {
        try await insertRecord(
            for: key, merchantID: merchantID, name: name, scopes: scopes, allowlist: allowlist, rateLimit: rateLimit,
            expiresAt: expiresAt, parentID: nil, createdAt: now(), kind: .imported, related: nil)
    }

    /// Creates a key on behalf of an existing, active key, with at most that key's scopes.
    ///
    /// The new key belongs to the parent's merchant, keeps the parent's allowlist, has the parent's
    /// rate limit unless told otherwise, and never outlives the parent (its expiry, or the end of its
    /// grace period if it was rolled).
    ///
    /// - Parameters:
    ///   - parentID: The key on whose behalf the new one is made.
    ///   - name: A human-readable name: 1 to 100 printable characters (see ``isValidName(_:)``).
    ///   - scopes: The new key's scopes; a subset of the parent's.
    ///   - rateLimit: The new key's rate limit; the parent's by default.
    ///   - expiresAt: When the new key stops working; capped at the parent's expiry.
    /// - Returns: The key, to show once, and its record.
    /// - Throws: ``KeyLifecycleError/scopeEscalation(_:)`` naming the scopes the parent lacks, or
    ///   another ``KeyLifecycleError`` when the parent is missing, revoked or expired.
    public func mint(
        onBehalfOf parentID: APIKeyID, name: String, scopes: ScopeSet, rateLimit: RateLimit? = nil,
        expiresAt: Date? = nil
    ) async throws -> CreatedKey {
        let now = now()
        let parent = try await activeRecord(parentID, at: now)
        let extra = scopes.subtracting(parent.scopes)
        guard extra.isEmpty, scopes.isSubset(of: parent.scopes) else { throw KeyLifecycleError.scopeEscalation(extra) }
        return try await insertNewKey(
            merchantID: parent.merchantID, name: name, scopes: scopes, allowlist: parent.allowlist,
            rateLimit: rateLimit ?? parent.rateLimit, expiresAt: Self.earlier(expiresAt, parent.stopsWorkingAt),
            parentID: parent.id, createdAt: now, kind: .minted, related: parent.id)
    }

    /// Revokes a key, with immediate effect. Revoking a revoked key changes nothing.
    ///
    /// - Parameter id: The key to revoke.
    /// - Returns: The revoked record.
    /// - Throws: ``KeyLifecycleError/keyNotFound(_:)``; the store's errors.
    @discardableResult
    public func revoke(_ id: APIKeyID) async throws -> KeyRecord {
        try await update(id, kind: .revoked) { record, now in
            if record.revokedAt == nil { record.revokedAt = now }
        }
    }

    /// Narrows a key's scopes.
    ///
    /// - Parameters:
    ///   - id: The key to restrict.
    ///   - scopes: The key's new scopes: a subset of the ones it holds.
    /// - Returns: The updated record.
    /// - Throws: ``KeyLifecycleError/scopeEscalation(_:)`` naming the scopes the key lacks, changing
    ///   nothing; ``KeyLifecycleError`` when the key is missing, revoked or expired.
    @discardableResult
    public func restrict(_ id: APIKeyID, to scopes: ScopeSet) async throws -> KeyRecord {
        try await update(id, kind: .restricted) { record, now in
            try Self.requireActive(record, at: now)
            let extra = scopes.subtracting(record.scopes)
            guard extra.isEmpty, scopes.isSubset(of: record.scopes) else {
                throw KeyLifecycleError.scopeEscalation(extra)
            }
            record.scopes = ScopeSet(
                rawValue: scopes.bits(in: record.scopes.catalog) ?? 0, catalog: record.scopes.catalog)
        }
    }

    /// Replaces a key with a new one that has the same merchant, name, scopes, allowlist, rate limit
    /// and expiry.
    ///
    /// The old key keeps working for `grace` and then stops; with a grace of zero it stops now. It
    /// never works past its own expiry. The new key keeps the old key's expiry (as set at creation),
    /// never the grace deadline. A key is rolled once: to replace the new key, roll the new key.
    ///
    /// - Parameters:
    ///   - id: The key to roll.
    ///   - grace: How long the old key keeps working; not negative.
    /// - Returns: The new key, to show once, its record, and the old key's record as rolled.
    /// - Throws: ``KeyLifecycleError/alreadyRolled(_:successor:)`` naming the successor;
    ///   ``KeyLifecycleError`` when the key is missing, revoked or expired, or `grace` is negative.
    ///   A refused roll changes nothing.
    public func roll(_ id: APIKeyID, grace: Duration = .zero) async throws -> RolledKey {
        guard grace >= .zero else { throw KeyLifecycleError.invalidGracePeriod }
        let now = now()
        // A rolled key names its successor first: with no grace it has also stopped working, and
        // "expired" would hide the key to roll instead.
        guard let old = try await store.record(withID: id) else { throw KeyLifecycleError.keyNotFound(id) }
        try Self.requireNotRolled(old)
        try Self.requireActive(old, at: now)
        let created = try await insertNewKey(
            merchantID: old.merchantID, name: old.name, scopes: old.scopes, allowlist: old.allowlist,
            rateLimit: old.rateLimit, expiresAt: old.expiresAt, parentID: old.parentID, createdAt: now,
            kind: .rolledFrom, related: old.id)
        let graceEnd = RFC3339Time.millisecondPrecision(now.addingTimeInterval(Self.seconds(grace)))
        do {
            let previous = try await update(id, at: now, kind: .rolled) { record, now in
                try Self.requireNotRolled(record)  // the loser of a roll/roll race learns the winner
                try Self.requireActive(record, at: now)
                record.successorID = created.record.id
                record.graceEndsAt = Self.earlier(record.expiresAt, graceEnd)
            }
            return RolledKey(key: created.key, record: created.record, previous: previous)
        } catch {
            // The old key changed under us (revoked, expired, rolled by someone else): take the new key back.
            _ = try? await store.remove(created.record)
            throw error
        }
    }

    /// Whether `name` can name a key: 1 to 100 Unicode scalars, none of them a control character
    /// (C0, DEL, C1), a formatting character (bidirectional overrides, zero-width characters), or a
    /// line or paragraph separator, and no space at either end.
    ///
    /// - Parameter name: The proposed name.
    /// - Returns: `true` when the name is accepted.
    public static func isValidName(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard (1...100).contains(scalars.count), scalars.first?.properties.isWhitespace == false,
            scalars.last?.properties.isWhitespace == false
        else { return false }
        return scalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate: false
            default: true
            }
        }
    }

    // MARK: - Helpers

    private func insertNewKey(
        merchantID: MerchantID, name: String, scopes: ScopeSet, allowlist: IPAllowlist, rateLimit: RateLimit,
        expiresAt: Date?, parentID: APIKeyID?, createdAt: Date, kind: KeyEvent.Kind, related: APIKeyID?
    ) async throws -> CreatedKey {
        let key = APIKey.generate(format: format)
        let record = try await insertRecord(
            for: key, merchantID: merchantID, name: name, scopes: scopes, allowlist: allowlist, rateLimit: rateLimit,
            expiresAt: expiresAt, parentID: parentID, createdAt: createdAt, kind: kind, related: related)
        return CreatedKey(key: key, record: record)
    }

    /// Inserts a new record with its event (created, imported, minted or rolled-from), atomically.
    private func insertRecord(
        for key: APIKey, merchantID: MerchantID, name: String, scopes: ScopeSet, allowlist: IPAllowlist,
        rateLimit: RateLimit, expiresAt: Date?, parentID: APIKeyID?, createdAt: Date, kind: KeyEvent.Kind,
        related: APIKeyID?
    ) async throws -> KeyRecord {
        guard Self.isValidName(name) else { throw KeyLifecycleError.invalidName }
        let expiresAt = expiresAt.map(RFC3339Time.millisecondPrecision)
        if let expiresAt, expiresAt <= createdAt { throw KeyLifecycleError.invalidExpiry }
        let record = KeyRecord(
            id: .generate(), merchantID: merchantID, name: name, scopes: scopes, allowlist: allowlist,
            rateLimit: rateLimit,
            createdAt: createdAt, expiresAt: expiresAt, displayHint: key.displayHint, digest: key.digest,
            parentID: parentID)
        let event = KeyEvent(
            time: createdAt, actor: actor, keyID: record.id, merchantID: merchantID, kind: kind, related: related,
            scopesAfter: scopes.formatted)
        try await store.insert(record, event: event)
        return record
    }

    private func activeRecord(_ id: APIKeyID, at now: Date) async throws -> KeyRecord {
        guard let record = try await store.record(withID: id) else { throw KeyLifecycleError.keyNotFound(id) }
        try Self.requireActive(record, at: now)
        return record
    }

    /// Reads, changes and conditionally writes a record with its event, retrying when it changed in
    /// between. A change that changes nothing writes nothing and records no event.
    private func update(
        _ id: APIKeyID, at time: Date? = nil, kind: KeyEvent.Kind, _ change: (inout KeyRecord, Date) throws -> Void
    ) async throws -> KeyRecord {
        for _ in 0..<Self.maximumAttempts {
            guard let current = try await store.record(withID: id) else { throw KeyLifecycleError.keyNotFound(id) }
            var updated = current
            let now = time ?? now()
            try change(&updated, now)
            if updated == current { return current }
            let event = KeyEvent(
                time: now, actor: actor, keyID: id, merchantID: current.merchantID, kind: kind,
                related: kind == .rolled ? updated.successorID : nil,
                scopesBefore: kind == .restricted ? current.scopes.formatted : nil,
                scopesAfter: kind == .restricted ? updated.scopes.formatted : nil)
            if try await store.replace(current, with: updated, event: event) { return updated }
        }
        throw KeyLifecycleError.conflict(id)
    }

    private static func requireActive(_ record: KeyRecord, at now: Date) throws(KeyLifecycleError) {
        switch record.status(at: now) {
        case .active: return
        case .revoked: throw .keyRevoked(record.id)
        case .expired: throw .keyExpired(record.id)
        }
    }

    private static func requireNotRolled(_ record: KeyRecord) throws(KeyLifecycleError) {
        if let successor = record.successorID { throw .alreadyRolled(record.id, successor: successor) }
    }

    /// The wall clock's reading to the millisecond: what every store keeps, so a record reads back
    /// equal to what was written.
    private func now() -> Date { RFC3339Time.millisecondPrecision(clock.now()) }

    private static func earlier(_ lhs: Date?, _ rhs: Date?) -> Date? {
        guard let lhs else { return rhs }
        guard let rhs else { return lhs }
        return min(lhs, rhs)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// A key made by rolling another, its record, and the rolled key's record. The only time the new
/// plaintext key exists outside the caller.
public struct RolledKey: Sendable {
    /// The new key: show it to its owner once, then drop it.
    public let key: APIKey
    /// The new key's record.
    public let record: KeyRecord
    /// The old key's record after the roll: ``KeyRecord/stopsWorkingAt`` says when it stops working.
    public let previous: KeyRecord
}

/// A newly created key and its record. The only time the plaintext key exists outside the caller.
public struct CreatedKey: Sendable {
    /// The key: show it to its owner once, then drop it.
    public let key: APIKey
    /// The stored record.
    public let record: KeyRecord
}
