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

extension KeyVerification {
    /// The verdict on what a look-up by `digest` found: the digest confirmed in constant time, then
    /// the record's own rule for revocation and expiry. `now` is evaluated only for keys that have an
    /// expiry time.
    init(found record: KeyRecord?, digest: KeyDigest, now: () -> Date) {
        guard let record, record.digest == digest else {
            self = .rejected(.unknown)
            return
        }
        switch record.status(at: now()) {
        case .active: self = .valid(record)
        case .revoked: self = .rejected(.revoked)
        case .expired: self = .rejected(.expired)
        }
    }
}

extension KeyStore {
    /// Finds a key by digest, confirms the digest in constant time, and refuses revoked and expired
    /// keys. `now` is evaluated only for keys that have an expiry time.
    func verify(_ digest: KeyDigest, now: @autoclosure () -> Date) async throws -> KeyVerification {
        KeyVerification(found: try await record(forDigest: digest), digest: digest, now: now)
    }
}
