#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The outcome of checking a presented key.
public enum KeyVerification: Sendable, Hashable {
    /// The key is known and active.
    case valid(KeyRecord)
    /// The key does not work, for this reason.
    case rejected(KeyRejection)
}

/// Why a presented key does not work. All of them are answered 401 `UNAUTHORIZED`.
public enum KeyRejection: Sendable, Hashable, CustomStringConvertible {
    /// The text is not a key of the expected format.
    case malformed(APIKeyFormatError)
    /// No stored key has this digest.
    case unknown
    /// The key was revoked.
    case revoked
    /// The key has expired.
    case expired

    /// A message safe to log: it never contains the key.
    public var description: String {
        switch self {
        case .malformed(let error): error.description
        case .unknown: "The API key is not known."
        case .revoked: "The API key has been revoked."
        case .expired: "The API key has expired."
        }
    }
}

extension KeyManager {
    /// Checks a presented key: strict parsing, then digest, look-up by digest, a constant-time
    /// confirmation of the digest, and the revocation and expiry checks.
    ///
    /// - Parameters:
    ///   - presented: The key as presented, such as the token of an `Authorization: Bearer` header.
    ///   - time: The time to check expiry at; the manager's clock by default.
    /// - Returns: ``KeyVerification/valid(_:)`` with the record, or why the key does not work.
    /// - Throws: Only the store's errors.
    public func verify(_ presented: some StringProtocol, at time: Date? = nil) async throws -> KeyVerification {
        let key: APIKey
        do {
            key = try APIKey(parsing: presented, format: format)
        } catch {
            return .rejected(.malformed(error))
        }
        return try await verify(key, at: time)
    }

    /// Checks a parsed key: look-up by digest, constant-time confirmation, revocation and expiry.
    ///
    /// - Parameters:
    ///   - key: The presented key.
    ///   - time: The time to check expiry at; the manager's clock by default.
    /// - Returns: ``KeyVerification/valid(_:)`` with the record, or why the key does not work.
    /// - Throws: Only the store's errors.
    public func verify(_ key: APIKey, at time: Date? = nil) async throws -> KeyVerification {
        try await store.verify(key.digest, now: time ?? clock.now())
    }
}

extension KeyStore {
    /// Finds a key by digest, confirms the digest in constant time, and refuses revoked and expired
    /// keys. `now` is evaluated only for keys that have an expiry time.
    func verify(_ digest: KeyDigest, now: @autoclosure () -> Date) async throws -> KeyVerification {
        guard let record = try await record(forDigest: digest), record.digest == digest else {
            return .rejected(.unknown)
        }
        switch record.status(at: now()) {
        case .active: return .valid(record)
        case .revoked: return .rejected(.revoked)
        case .expired: return .rejected(.expired)
        }
    }
}
