/// Who a request acts for. Every data query the handler makes must be scoped to ``merchantID``.
public struct Principal: Sendable, Hashable {
    /// The merchant the key belongs to.
    public let merchantID: MerchantID
    /// The key that authenticated the request.
    public let keyID: APIKeyID
    /// The key's scopes.
    public let scopes: ScopeSet

    /// Creates a principal: the gate does for every allowed request, and a handler's unit test can.
    ///
    /// ```swift
    /// let principal = Principal(merchantID: MerchantID("merchant_42")!, keyID: APIKeyID("key_1")!, scopes: [.salesRead])
    /// ```
    ///
    /// - Parameters:
    ///   - merchantID: The merchant the key belongs to.
    ///   - keyID: The key that authenticated the request.
    ///   - scopes: The key's scopes.
    public init(merchantID: MerchantID, keyID: APIKeyID, scopes: ScopeSet) {
        self.merchantID = merchantID
        self.keyID = keyID
        self.scopes = scopes
    }
}
