#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

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
