#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Everything a store keeps about one API key. Never the key itself: only its SHA-256 digest and a
/// short display hint.
///
/// Records are created by ``KeyManager``, which enforces the lifecycle rules (scopes never grow,
/// revocation is final, a rolled key expires after its grace period).
public struct KeyRecord: Sendable, Hashable, Codable {
    /// The key's public identifier.
    public let id: APIKeyID
    /// The merchant account the key belongs to.
    public let merchantID: MerchantID
    /// A human-readable name, such as "Invoice reminder job".
    public let name: String
    /// What the key may do. Only ever narrowed after creation.
    public internal(set) var scopes: ScopeSet
    /// The networks the key may be used from; empty means any address.
    public let allowlist: IPAllowlist
    /// How many requests the key may make per window.
    public let rateLimit: RateLimit
    /// When the key was created.
    public let createdAt: Date
    /// When the key expires, if ever, as set when it was created (or inherited by rolling). At
    /// `expiresAt` the key is already expired. A rolled key may stop working earlier: see
    /// ``graceEndsAt`` and ``stopsWorkingAt``.
    public internal(set) var expiresAt: Date?
    /// When a rolled key's grace period ends, if the key was rolled: it stops working then. Never
    /// after ``expiresAt``, and never copied to the successor.
    public internal(set) var graceEndsAt: Date?
    /// The key that replaced this one when it was rolled, if it was. A key is rolled at most once.
    public internal(set) var successorID: APIKeyID?
    /// When the key was last used, to the minute (rounded down), if it has been: written by a
    /// ``KeyUsageRecorder`` at most once a minute per key, never on the request's path.
    public internal(set) var lastUsedAt: Date?
    /// When the key was revoked, if it was.
    public internal(set) var revokedAt: Date?
    /// The key's display hint, such as `sntr_…3456`.
    public let displayHint: String
    /// The SHA-256 digest of the key.
    public let digest: KeyDigest
    /// The key this one was minted on behalf of, if any.
    public let parentID: APIKeyID?

    /// Creates a record. Use ``KeyManager`` to create keys; this initializer exists for stores that
    /// rebuild records from their own storage.
    ///
    /// - Parameters:
    ///   - id: The public identifier.
    ///   - merchantID: The owning merchant.
    ///   - name: A human-readable name.
    ///   - scopes: What the key may do.
    ///   - allowlist: The networks the key may be used from; empty means any address.
    ///   - rateLimit: The key's rate limit.
    ///   - createdAt: The creation time.
    ///   - expiresAt: The expiry time, if any.
    ///   - revokedAt: The revocation time, if any.
    ///   - displayHint: The display hint.
    ///   - digest: The key's SHA-256 digest.
    ///   - parentID: The key it was minted on behalf of, if any.
    ///   - graceEndsAt: When a rolled key's grace period ends, if it was rolled.
    ///   - successorID: The key that replaced it, if it was rolled.
    ///   - lastUsedAt: When it was last used, to the minute, if ever.
    public init(
        id: APIKeyID, merchantID: MerchantID, name: String, scopes: ScopeSet, allowlist: IPAllowlist = IPAllowlist(),
        rateLimit: RateLimit = .default, createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil,
        displayHint: String, digest: KeyDigest,
        parentID: APIKeyID? = nil, graceEndsAt: Date? = nil, successorID: APIKeyID? = nil, lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.merchantID = merchantID
        self.name = name
        self.scopes = scopes
        self.allowlist = allowlist
        self.rateLimit = rateLimit
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.displayHint = displayHint
        self.digest = digest
        self.parentID = parentID
        self.graceEndsAt = graceEndsAt
        self.successorID = successorID
        self.lastUsedAt = lastUsedAt
    }

    /// Whether the key may be used from `address`: always when the allowlist is empty; otherwise only
    /// from a listed network, and never when the client address is unknown (fail closed).
    ///
    /// - Parameter address: The client address, or `nil` when it is unknown.
    /// - Returns: `true` when the request may proceed.
    public func isAllowed(from address: IPAddress?) -> Bool {
        if allowlist.isEmpty { return true }
        guard let address else { return false }
        return allowlist.contains(address)
    }

    /// Whether the key works at `time`: not revoked, not expired and, if it was rolled, inside its
    /// grace period. The one place this rule is written; the gate and the manager ask it.
    ///
    /// - Parameter time: The time to check; evaluated only when the key has an expiry or grace deadline.
    /// - Returns: The key's status at that time.
    public func status(at time: @autoclosure () -> Date) -> KeyRecord.Status {
        if revokedAt != nil { return .revoked }
        if let stopsWorkingAt, time() >= stopsWorkingAt { return .expired }
        return .active
    }

    /// When the key stops working unless revoked first: the earlier of its expiry and, for a rolled
    /// key, the end of its grace period; `nil` when neither is set.
    public var stopsWorkingAt: Date? {
        guard let graceEndsAt else { return expiresAt }
        guard let expiresAt else { return graceEndsAt }
        return min(expiresAt, graceEndsAt)
    }
}

extension KeyRecord {
    /// Whether a key works.
    public enum Status: String, Sendable, Hashable, Codable {
        /// The key works.
        case active
        /// The key was revoked; it never works again.
        case revoked
        /// The key's expiry time has passed.
        case expired
    }
}

/// Renamed ``KeyRecord/Status``.
@available(*, deprecated, renamed: "KeyRecord.Status")
public typealias KeyStatus = KeyRecord.Status
