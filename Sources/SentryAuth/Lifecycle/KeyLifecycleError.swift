/// Why a key-management call was refused. A refused call changes nothing.
public struct KeyLifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case keyNotFound(APIKeyID)
        case keyRevoked(APIKeyID)
        case keyExpired(APIKeyID)
        case scopeEscalation(ScopeSet)
        case invalidGracePeriod
        case invalidExpiry
        case invalidName
        case alreadyRolled(APIKeyID, successor: APIKeyID)
        case conflict(APIKeyID)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// No key has this identifier.
    public static func keyNotFound(_ value: APIKeyID) -> Self { Self(.keyNotFound(value)) }

    /// The key was revoked; it can no longer be rolled, restricted or used to mint keys.
    public static func keyRevoked(_ value: APIKeyID) -> Self { Self(.keyRevoked(value)) }

    /// The key has expired; it can no longer be rolled, restricted or used to mint keys.
    public static func keyExpired(_ value: APIKeyID) -> Self { Self(.keyExpired(value)) }

    /// The call would give a key scopes it does not hold (or its parent does not hold).
    /// Carries the scopes that would have been added.
    public static func scopeEscalation(_ value: ScopeSet) -> Self { Self(.scopeEscalation(value)) }

    /// A grace period was negative.
    public static var invalidGracePeriod: Self { Self(.invalidGracePeriod) }

    /// An expiry time is not after the creation time.
    public static var invalidExpiry: Self { Self(.invalidExpiry) }

    /// A name is not 1 to 100 printable characters (see ``KeyManager/isValidName(_:)``).
    public static var invalidName: Self { Self(.invalidName) }

    /// The key was already rolled; roll its successor instead. Carries the key and its successor.
    public static func alreadyRolled(_ value0: APIKeyID, successor: APIKeyID) -> Self {
        Self(.alreadyRolled(value0, successor: successor))
    }

    /// The record kept changing under concurrent updates; try again.
    public static func conflict(_ value: APIKeyID) -> Self { Self(.conflict(value)) }

    /// A message naming the key or scopes involved. Never contains a key.
    public var description: String {
        switch kind {
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
