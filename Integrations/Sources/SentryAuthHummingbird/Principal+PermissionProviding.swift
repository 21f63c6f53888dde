public import HummingbirdAuth
public import SentryAuth

/// hummingbird-auth's authorization works on the principal: its permissions are the key's scopes,
/// so `AuthorizationPolicyMiddleware(PermissionPolicy<Principal>(.invoiceRemind))` (and `allOf` /
/// `anyOf` of such policies) compose behind ``SentryAuthMiddleware``.
extension Principal: @retroactive PermissionProviding {
    /// The key's scopes.
    public var permissions: ScopeSet { scopes }
}
