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
