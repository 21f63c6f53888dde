/// What the gate needs of a key store: the record for a presented key's digest.
///
/// ``KeyStore`` adds the administrative side (insert, conditional replace and remove, the audit
/// trail) that ``KeyManager`` uses. A read-only source of records — a replica, a snapshot, a cache
/// you wrote yourself — needs only this to stand behind a ``RequestGate``.
///
/// ```swift
/// struct Snapshot: KeyLookup {
///     let records: [KeyDigest: KeyRecord]
///     func record(forDigest digest: KeyDigest) async throws -> KeyRecord? { records[digest] }
/// }
/// let gate = RequestGate(keys: Snapshot(records: [:]), policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
/// ```
public protocol KeyLookup: Sendable {
    /// The record whose key has `digest`, or `nil`.
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The record, if one has that digest.
    /// - Throws: When the store cannot answer (the gate then answers 503, never 401 or 200).
    func record(forDigest digest: KeyDigest) async throws -> KeyRecord?
}
