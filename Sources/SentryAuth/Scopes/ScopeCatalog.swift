/// The scopes an API defines, in a fixed order: up to 64 of them.
///
/// A catalog gives each scope a bit in a ``ScopeSet``. The Sentry catalog, ``sentry``, is the
/// built-in default; another API defines its own:
///
/// ```swift
/// let catalog = try ScopeCatalog(["orders:read", "orders:write", "refunds:create"])
/// let scopes = try ScopeSet(parsing: "orders:read,refunds:create", in: catalog)
/// ```
///
/// Catalogs with the same scopes in the same order are equal and interchangeable.
public struct ScopeCatalog: Sendable, Hashable {
    /// The most scopes a catalog can hold: one bit each in a 64-bit word.
    public static let maximumCount = 64

    final class Storage: Sendable {
        let scopes: [Scope]
        let bitByName: [String: Int]

        init(scopes: [Scope], bitByName: [String: Int]) {
            self.scopes = scopes
            self.bitByName = bitByName
        }
    }

    let storage: Storage

    /// Creates a catalog.
    ///
    /// - Parameter scopes: The scopes, in the order used when a set of them is written out.
    /// - Throws: ``ScopeError/tooManyScopes(count:)`` for more than 64 scopes and
    ///   ``ScopeError/duplicateScope(_:)`` when a scope is listed twice.
    public init(_ scopes: [Scope]) throws(ScopeError) {
        guard scopes.count <= Self.maximumCount else { throw .tooManyScopes(count: scopes.count) }
        var bitByName: [String: Int] = [:]
        for (bit, scope) in scopes.enumerated() {
            guard bitByName.updateValue(bit, forKey: scope.name) == nil else { throw .duplicateScope(scope.name) }
        }
        storage = Storage(scopes: scopes, bitByName: bitByName)
    }

    /// The six scopes of the Sentry Payments API, in documentation order:
    /// `customer:read`, `customer:write`, `invoice:read`, `invoice:write`, `invoice:remind`, `sales:read`.
    public static let sentry: ScopeCatalog = {
        do {
            return try ScopeCatalog([
                .customerRead, .customerWrite, .invoiceRead, .invoiceWrite, .invoiceRemind, .salesRead,
            ])
        } catch {
            preconditionFailure("The built-in Sentry catalog is valid.")
        }
    }()

    /// The catalog's scopes, in order.
    public var scopes: [Scope] { storage.scopes }

    /// Whether the catalog defines `scope`.
    ///
    /// - Parameter scope: The scope to look for.
    /// - Returns: `true` when `scope` is in the catalog.
    public func contains(_ scope: Scope) -> Bool { storage.bitByName[scope.name] != nil }

    /// The bit of a scope name, or `nil` when the catalog does not define it.
    func bit(forName name: String) -> Int? { storage.bitByName[name] }

    /// Whether the catalogs define the same scopes in the same order.
    public static func == (lhs: ScopeCatalog, rhs: ScopeCatalog) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.scopes == rhs.storage.scopes
    }

    /// Hashes the catalog's scopes.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.scopes)
    }
}

extension CodingUserInfoKey {
    /// The ``ScopeCatalog`` that decodes scope sets, set in a decoder's `userInfo`.
    /// Without it, scope sets decode in ``ScopeCatalog/sentry``.
    public static let scopeCatalog = CodingUserInfoKey(rawValue: "SentryAuth.ScopeCatalog")!
}
