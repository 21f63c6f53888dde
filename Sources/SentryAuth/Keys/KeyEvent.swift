#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One entry of a key's audit trail: what changed, when, and who asked. Never the key or its digest.
///
/// ``KeyManager`` records exactly one event for every change it makes, in the same atomic write as
/// the change (``KeyStore/insert(_:event:)``, ``KeyStore/replace(_:with:event:)``): a store never holds
/// a change without its event, or an event without its change.
public struct KeyEvent: Sendable, Hashable, Codable {
    /// What happened to the key.
    public struct Kind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The kind's name, as stored.
        public let rawValue: String
        /// Creates a kind from its stored name.
        ///
        /// - Parameter rawValue: The name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A new key was made.
        public static let created = Kind(rawValue: "created")
        /// An existing key was stored (`related` is empty).
        public static let imported = Kind(rawValue: "imported")
        /// A new key was made on behalf of another (`related` is the parent).
        public static let minted = Kind(rawValue: "minted")
        /// A key was made by rolling another (`related` is the key it replaces).
        public static let rolledFrom = Kind(rawValue: "rolled-from")
        /// The key was rolled (`related` is its successor).
        public static let rolled = Kind(rawValue: "rolled")
        /// The key was revoked.
        public static let revoked = Kind(rawValue: "revoked")
        /// The key's scopes were narrowed (`scopesBefore`, `scopesAfter`).
        public static let restricted = Kind(rawValue: "restricted")
        /// The kind's name.
        public var description: String { rawValue }
    }

    /// When the change was made.
    public let time: Date
    /// Who asked for it, if the caller said (`--actor` on the command line).
    public let actor: String?
    /// The key that changed.
    public let keyID: APIKeyID
    /// The key's merchant.
    public let merchantID: MerchantID
    /// What happened.
    public let kind: Kind
    /// The other key involved: the successor of a rolled key, the key a new one was rolled from, the
    /// parent of a minted key.
    public let related: APIKeyID?
    /// The scopes before a restriction, comma-separated.
    public let scopesBefore: String?
    /// The scopes after a restriction (or of a new key), comma-separated.
    public let scopesAfter: String?

    /// Creates an event.
    ///
    /// - Parameters:
    ///   - time: When.
    ///   - actor: Who asked, if known.
    ///   - keyID: The key that changed.
    ///   - merchantID: Its merchant.
    ///   - kind: What happened.
    ///   - related: The other key involved, if any.
    ///   - scopesBefore: Scopes before a restriction.
    ///   - scopesAfter: Scopes after a restriction, or of a new key.
    public init(
        time: Date, actor: String?, keyID: APIKeyID, merchantID: MerchantID, kind: Kind, related: APIKeyID? = nil,
        scopesBefore: String? = nil, scopesAfter: String? = nil
    ) {
        self.time = time
        self.actor = actor
        self.keyID = keyID
        self.merchantID = merchantID
        self.kind = kind
        self.related = related
        self.scopesBefore = scopesBefore
        self.scopesAfter = scopesAfter
    }
}
