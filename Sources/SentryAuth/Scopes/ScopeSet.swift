/// A set of scopes from one ``ScopeCatalog``, stored as a 64-bit mask.
///
/// Membership, subset and every set operation cost one or two machine instructions.
///
/// ```swift
/// let held = try ScopeSet(parsing: "customer:read,invoice:read")
/// let needed: ScopeSet = [.invoiceRead]
/// needed.isSubset(of: held)            // true
/// ScopeSet.all.subtracting(held)       // customer:write,invoice:write,invoice:remind,sales:read
/// ```
///
/// Sets written as literals, and the empty set from `init()`, use the Sentry catalog. An empty set
/// combines with a set of any catalog. Comparing sets of different catalogs compares scope names;
/// combining two non-empty sets of different catalogs is a programming error.
public struct ScopeSet: Sendable {
    /// One bit per catalog scope.
    public private(set) var rawValue: UInt64
    /// The catalog that gives the bits their meaning.
    public let catalog: ScopeCatalog

    /// Creates a set from a raw bit mask.
    ///
    /// - Parameters:
    ///   - rawValue: One bit per scope, bit *n* for the catalog's *n*th scope.
    ///   - catalog: The catalog; bits beyond its scopes are dropped.
    public init(rawValue: UInt64, catalog: ScopeCatalog = .sentry) {
        let count = catalog.scopes.count
        self.rawValue = count == 64 ? rawValue : rawValue & ((1 << UInt64(count)) - 1)
        self.catalog = catalog
    }

    /// Creates an empty set in `catalog`.
    ///
    /// - Parameter catalog: The catalog of the set.
    public init(catalog: ScopeCatalog) {
        self.init(rawValue: 0, catalog: catalog)
    }

    /// Creates a set of the given scopes.
    ///
    /// - Parameters:
    ///   - scopes: The scopes; each must be in `catalog`.
    ///   - catalog: The catalog of the set.
    /// - Throws: ``ScopeError/unknownScope(_:)`` naming the first scope the catalog lacks.
    public init(_ scopes: some Sequence<Scope>, in catalog: ScopeCatalog = .sentry) throws(ScopeError) {
        var bits: UInt64 = 0
        for scope in scopes {
            guard let bit = catalog.bit(forName: scope.name) else { throw .unknownScope(scope.name) }
            bits |= 1 << UInt64(bit)
        }
        self.init(rawValue: bits, catalog: catalog)
    }

    /// Parses a comma-separated scope list as the documentation writes it:
    /// `customer:read,customer:write,invoice:read`.
    ///
    /// Spaces around an entry are ignored; an empty string is the empty set; an empty entry,
    /// a malformed scope or one the catalog lacks is an error that names it.
    ///
    /// - Parameters:
    ///   - list: The comma-separated list.
    ///   - catalog: The catalog; ``ScopeCatalog/sentry`` by default.
    /// - Throws: ``ScopeError``.
    public init(parsing list: some StringProtocol, in catalog: ScopeCatalog = .sentry) throws(ScopeError) {
        var bits: UInt64 = 0
        let bytes = Array(list.utf8)
        if !bytes.allSatisfy({ $0 == UInt8(ascii: " ") }) {
            // Split on the comma byte, not on `Character`s (a combining mark after a comma is no comma).
            for (index, rawEntry) in bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                .enumerated()
            {
                let space = UInt8(ascii: " ")
                let entry = rawEntry.drop(while: { $0 == space }).reversed().drop(while: { $0 == space }).reversed()
                let name = String(decoding: entry, as: UTF8.self)
                guard !name.isEmpty else { throw .emptyEntry(position: index + 1) }
                guard Scope.isValid(name.utf8) else { throw .malformedScope(ScopeError.safeExcerpt(name)) }
                guard let bit = catalog.bit(forName: name) else { throw .unknownScope(name) }
                bits |= 1 << UInt64(bit)
            }
        }
        self.init(rawValue: bits, catalog: catalog)
    }

    /// Every scope of the Sentry catalog.
    public static var all: ScopeSet { all(in: .sentry) }

    /// Every scope of `catalog`.
    ///
    /// - Parameter catalog: The catalog.
    /// - Returns: The set of all its scopes.
    public static func all(in catalog: ScopeCatalog) -> ScopeSet {
        ScopeSet(rawValue: ~0, catalog: catalog)
    }

    /// The number of scopes in the set.
    public var count: Int { rawValue.nonzeroBitCount }

    /// The scopes in catalog order.
    public var scopes: [Scope] {
        catalog.scopes.enumerated().compactMap { bit, scope in rawValue & (1 << UInt64(bit)) != 0 ? scope : nil }
    }

    /// The set's scopes, comma-separated in catalog order: the documentation's form.
    public var formatted: String {
        scopes.map(\.name).joined(separator: ",")
    }

    /// This set's bits expressed in `other`'s catalog, or `nil` when some scope is not in it.
    func bits(in other: ScopeCatalog) -> UInt64? {
        if rawValue == 0 || catalog == other { return rawValue }
        var bits: UInt64 = 0
        for scope in scopes {
            guard let bit = other.bit(forName: scope.name) else { return nil }
            bits |= 1 << UInt64(bit)
        }
        return bits
    }

    /// The catalog for a combination of two sets; an empty set adopts the other's catalog.
    private func combinedCatalog(with other: ScopeSet) -> ScopeCatalog {
        if rawValue == 0 { return other.catalog }
        precondition(other.rawValue == 0 || catalog == other.catalog, "\(ScopeError.catalogMismatch)")
        return catalog
    }
}

extension ScopeSet: SetAlgebra {
    /// The type of the set's elements.
    public typealias Element = Scope

    /// Creates an empty set in the Sentry catalog.
    public init() {
        self.init(rawValue: 0, catalog: .sentry)
    }

    /// Creates a set of the given Sentry scopes.
    ///
    /// - Parameter elements: Scopes of the Sentry catalog.
    public init(arrayLiteral elements: Scope...) {
        do {
            try self.init(elements, in: .sentry)
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// Whether `scope` is in the set.
    ///
    /// - Parameter scope: The scope to look for.
    /// - Returns: `true` when the set holds `scope`.
    public func contains(_ scope: Scope) -> Bool {
        guard let bit = catalog.bit(forName: scope.name) else { return false }
        return rawValue & (1 << UInt64(bit)) != 0
    }

    /// Whether every scope of this set is also in `other`: one AND and one compare.
    ///
    /// - Parameter other: The set that may contain this one.
    /// - Returns: `true` when this set is a subset of `other`.
    public func isSubset(of other: ScopeSet) -> Bool {
        guard let bits = bits(in: other.catalog) else { return false }
        return bits & ~other.rawValue == 0
    }

    /// The scopes of this set that `other` lacks: for a needed set and a held set, the missing scopes.
    ///
    /// - Parameter other: The scopes to remove.
    /// - Returns: A set in this set's catalog.
    public func subtracting(_ other: ScopeSet) -> ScopeSet {
        var remaining = rawValue
        if let otherBits = other.bits(in: catalog) {
            remaining &= ~otherBits
        } else {
            for scope in other.scopes {
                if let bit = catalog.bit(forName: scope.name) { remaining &= ~(1 << UInt64(bit)) }
            }
        }
        return ScopeSet(rawValue: remaining, catalog: catalog)
    }

    /// The scopes in either set.
    ///
    /// - Parameter other: Another set of the same catalog.
    /// - Returns: The union.
    public func union(_ other: ScopeSet) -> ScopeSet {
        ScopeSet(rawValue: rawValue | other.rawValue, catalog: combinedCatalog(with: other))
    }

    /// The scopes in both sets.
    ///
    /// - Parameter other: Another set of the same catalog.
    /// - Returns: The intersection.
    public func intersection(_ other: ScopeSet) -> ScopeSet {
        ScopeSet(rawValue: rawValue & other.rawValue, catalog: combinedCatalog(with: other))
    }

    /// The scopes in exactly one of the sets.
    ///
    /// - Parameter other: Another set of the same catalog.
    /// - Returns: The symmetric difference.
    public func symmetricDifference(_ other: ScopeSet) -> ScopeSet {
        ScopeSet(rawValue: rawValue ^ other.rawValue, catalog: combinedCatalog(with: other))
    }

    /// Adds a scope of the set's catalog.
    ///
    /// - Parameter scope: The scope; the catalog must define it.
    /// - Returns: Whether it was added, and the scope.
    @discardableResult
    public mutating func insert(_ scope: Scope) -> (inserted: Bool, memberAfterInsert: Scope) {
        let mask = mask(of: scope)
        let inserted = rawValue & mask == 0
        rawValue |= mask
        return (inserted, scope)
    }

    /// Removes a scope.
    ///
    /// - Parameter scope: The scope to remove.
    /// - Returns: The scope if it was in the set.
    @discardableResult
    public mutating func remove(_ scope: Scope) -> Scope? {
        guard contains(scope) else { return nil }
        rawValue &= ~mask(of: scope)
        return scope
    }

    /// Adds a scope of the set's catalog.
    ///
    /// - Parameter scope: The scope; the catalog must define it.
    /// - Returns: The scope if it was already in the set.
    @discardableResult
    public mutating func update(with scope: Scope) -> Scope? {
        insert(scope).inserted ? nil : scope
    }

    /// Adds the scopes of `other`.
    ///
    /// - Parameter other: Another set of the same catalog.
    public mutating func formUnion(_ other: ScopeSet) { self = union(other) }

    /// Keeps only the scopes also in `other`.
    ///
    /// - Parameter other: Another set of the same catalog.
    public mutating func formIntersection(_ other: ScopeSet) { self = intersection(other) }

    /// Keeps the scopes in exactly one of the sets.
    ///
    /// - Parameter other: Another set of the same catalog.
    public mutating func formSymmetricDifference(_ other: ScopeSet) { self = symmetricDifference(other) }

    /// Whether the set is empty.
    public var isEmpty: Bool { rawValue == 0 }

    private func mask(of scope: Scope) -> UInt64 {
        guard let bit = catalog.bit(forName: scope.name) else {
            preconditionFailure("\(ScopeError.unknownScope(scope.name))")
        }
        return 1 << UInt64(bit)
    }
}

extension ScopeSet: Hashable {
    /// Whether both sets hold the same scopes.
    public static func == (lhs: ScopeSet, rhs: ScopeSet) -> Bool {
        guard let bits = lhs.bits(in: rhs.catalog) else { return false }
        return bits == rhs.rawValue
    }

    /// Hashes the set's scope names.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for scope in scopes { hasher.combine(scope) }
    }
}

extension ScopeSet: Sequence {
    /// Iterates the scopes in catalog order.
    ///
    /// - Returns: An iterator over the set's scopes.
    public func makeIterator() -> IndexingIterator<[Scope]> { scopes.makeIterator() }

    /// The number of scopes, so `Array(set)` reserves exactly.
    public var underestimatedCount: Int { count }
}

extension ScopeSet: CustomStringConvertible {
    /// The comma-separated scope list in catalog order, as ``formatted``.
    public var description: String { formatted }
}

extension ScopeSet: Codable {
    /// Decodes a list of scope names, in the catalog set as `userInfo[.scopeCatalog]`
    /// (the Sentry catalog if none is set).
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let catalog = decoder.userInfo[.scopeCatalog] as? ScopeCatalog ?? .sentry
        let names = try decoder.singleValueContainer().decode([String].self)
        var bits: UInt64 = 0
        for name in names {
            guard let bit = catalog.bit(forName: name) else {
                throw ScopeError.unknownScope(ScopeError.safeExcerpt(name))
            }
            bits |= 1 << UInt64(bit)
        }
        self.init(rawValue: bits, catalog: catalog)
    }

    /// Encodes the scope names in catalog order.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(scopes.map(\.name))
    }
}
