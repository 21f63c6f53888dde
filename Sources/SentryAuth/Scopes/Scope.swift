/// One permission, written `resource:action`, such as `customer:read`.
///
/// A scope name is a resource and an action separated by one colon; each part is 1 to 32
/// characters from `a`–`z`, `0`–`9`, `_` and `-`, starting with a letter. No scope implies another:
/// `customer:write` does not grant `customer:read`.
///
/// ```swift
/// let scope = try Scope("customer:read")
/// let same: Scope = .customerRead
/// ```
public struct Scope: Sendable, Hashable {
    /// The scope's `resource:action` name.
    public let name: String

    /// Validates and creates a scope.
    ///
    /// - Parameter name: A `resource:action` name.
    /// - Throws: ``ScopeError/malformedScope(_:)`` when `name` is not of that form.
    public init(_ name: some StringProtocol) throws(ScopeError) {
        guard Self.isValid(name.utf8) else { throw .malformedScope(ScopeError.safeExcerpt(name)) }
        self.name = String(name)
    }

    init(unchecked name: String) {
        self.name = name
    }

    /// The part before the colon, such as `customer`.
    public var resource: Substring { name[..<name.firstIndex(of: ":")!] }

    /// The part after the colon, such as `read`.
    public var action: Substring { name[name.index(after: name.firstIndex(of: ":")!)...] }

    static func isValid(_ utf8: some Collection<UInt8>) -> Bool {
        var partLength = 0
        var colons = 0
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: ":"):
                guard partLength > 0 else { return false }
                colons += 1
                partLength = 0
                continue
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                break
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                guard partLength > 0 else { return false }
            default:
                return false
            }
            partLength += 1
            guard partLength <= 32 else { return false }
        }
        return colons == 1 && partLength > 0
    }
}

extension Scope {
    /// `customer:read`: view customers.
    public static let customerRead = Scope(unchecked: "customer:read")
    /// `customer:write`: create and update customers.
    public static let customerWrite = Scope(unchecked: "customer:write")
    /// `invoice:read`: view invoices.
    public static let invoiceRead = Scope(unchecked: "invoice:read")
    /// `invoice:write`: create and update invoices.
    public static let invoiceWrite = Scope(unchecked: "invoice:write")
    /// `invoice:remind`: send invoice reminders.
    public static let invoiceRemind = Scope(unchecked: "invoice:remind")
    /// `sales:read`: view sales history.
    public static let salesRead = Scope(unchecked: "sales:read")
}

extension Scope: CustomStringConvertible {
    /// The `resource:action` name.
    public var description: String { name }
}

extension Scope: ExpressibleByStringLiteral {
    /// Creates a scope from a literal written in the source.
    ///
    /// A malformed literal is a programming error and stops the program; parse runtime strings
    /// with ``init(_:)``.
    ///
    /// - Parameter value: A `resource:action` name.
    public init(stringLiteral value: StaticString) {
        let name = value.description
        precondition(Self.isValid(name.utf8), "A scope is written resource:action.")
        self.init(unchecked: name)
    }
}

extension Scope: Codable {
    /// Decodes and validates a scope name.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try Scope(try container.decode(String.self))
    }

    /// Encodes the scope's name.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
