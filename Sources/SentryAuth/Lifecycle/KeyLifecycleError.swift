/// Why a key-management call was refused. A refused call changes nothing.
public enum KeyLifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No key has this identifier.
    case keyNotFound(APIKeyID)
    /// The key was revoked; it can no longer be rolled, restricted or used to mint keys.
    case keyRevoked(APIKeyID)
    /// The key has expired; it can no longer be rolled, restricted or used to mint keys.
    case keyExpired(APIKeyID)
    /// The call would give a key scopes it does not hold (or its parent does not hold).
    /// Carries the scopes that would have been added.
    case scopeEscalation(ScopeSet)
    /// A grace period was negative.
    case invalidGracePeriod
    /// An expiry time is not after the creation time.
    case invalidExpiry
    /// A name is not 1 to 100 printable characters (see ``KeyManager/isValidName(_:)``).
    case invalidName
    /// The key was already rolled; roll its successor instead. Carries the key and its successor.
    case alreadyRolled(APIKeyID, successor: APIKeyID)
    /// The record kept changing under concurrent updates; try again.
    case conflict(APIKeyID)

    /// A message naming the key or scopes involved. Never contains a key.
    public var description: String {
        switch self {
        case .keyNotFound(let id): "No key has the identifier \(id)."
        case .keyRevoked(let id): "Key \(id) is revoked."
        case .keyExpired(let id): "Key \(id) has expired."
        case .scopeEscalation(let scopes): "Scopes can never be added to a key; refused: \(scopes)."
        case .invalidGracePeriod: "A grace period cannot be negative."
        case .invalidExpiry: "A key's expiry must be after its creation."
        case .invalidName:
            "A key's name is 1 to 100 printable characters, with no control or formatting characters "
                + "and no space at either end."
        case .alreadyRolled(let id, let successor):
            "Key \(id) was already rolled into \(successor); roll \(successor) instead."
        case .conflict(let id): "Key \(id) changed concurrently too many times; nothing was changed."
        }
    }
}
