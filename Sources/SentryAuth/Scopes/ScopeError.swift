/// Why a scope, a scope list or a scope catalog was refused.
public struct ScopeError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case malformedScope(String)
        case unknownScope(String)
        case emptyEntry(position: Int)
        case tooManyScopes(count: Int)
        case duplicateScope(String)
        case catalogMismatch
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The text is not of the form `resource:action`. Carries an excerpt of the text.
    public static func malformedScope(_ value: String) -> Self { Self(.malformedScope(value)) }

    /// The scope is well-formed but not in the catalog. Carries its name.
    public static func unknownScope(_ value: String) -> Self { Self(.unknownScope(value)) }

    /// A comma-separated list has an empty entry (1-based position in the list).
    public static func emptyEntry(position: Int) -> Self { Self(.emptyEntry(position: position)) }

    /// A catalog would hold more than ``ScopeCatalog/maximumCount`` scopes.
    public static func tooManyScopes(count: Int) -> Self { Self(.tooManyScopes(count: count)) }

    /// A catalog lists the same scope twice.
    public static func duplicateScope(_ value: String) -> Self { Self(.duplicateScope(value)) }

    /// Two scope sets from different catalogs were combined.
    public static var catalogMismatch: Self { Self(.catalogMismatch) }

    /// A message that names the offending scope.
    public var description: String {
        switch kind {
        case .malformedScope(let text): "\"\(text)\" is not a scope: a scope is written resource:action."
        case .unknownScope(let name): "Unknown scope \"\(name)\"."
        case .emptyEntry(let position): "The scope list has an empty entry at position \(position)."
        case .tooManyScopes(let count):
            "A scope catalog holds at most \(ScopeCatalog.maximumCount) scopes; this one has \(count)."
        case .duplicateScope(let name): "The scope catalog lists \"\(name)\" twice."
        case .catalogMismatch: "The scope sets come from different scope catalogs."
        }
    }

    /// A printable excerpt of untrusted text for an error message: at most 64 characters, with
    /// anything outside printable ASCII shown as `?`.
    static func safeExcerpt(_ text: some StringProtocol) -> String {
        var bytes: [UInt8] = []
        for byte in text.utf8.prefix(64) {
            bytes.append((0x20..<0x7f).contains(byte) && byte != UInt8(ascii: "\"") ? byte : UInt8(ascii: "?"))
        }
        let excerpt = String(decoding: bytes, as: UTF8.self)
        return text.utf8.count > 64 ? excerpt + "…" : excerpt
    }
}
