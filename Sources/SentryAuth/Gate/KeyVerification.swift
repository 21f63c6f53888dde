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
