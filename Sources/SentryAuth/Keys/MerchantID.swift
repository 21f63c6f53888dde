/// The merchant account a key belongs to. Every key belongs to exactly one merchant, and every data
/// query made with a key must be scoped to that merchant.
public struct MerchantID: Sendable, Hashable, Comparable {
    /// The identifier's text.
    public let rawValue: String

    /// Validates a merchant identifier: 1 to 128 visible ASCII characters (no spaces or controls).
    ///
    /// - Parameter text: The identifier's text.
    /// - Returns: `nil` when `text` is not a valid identifier.
    public init?(_ text: some StringProtocol) {
        guard (1...128).contains(text.utf8.count), text.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            return nil
        }
        rawValue = String(text)
    }

    /// Orders identifiers by their text.
    public static func < (lhs: MerchantID, rhs: MerchantID) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension MerchantID: CustomStringConvertible {
    /// The identifier's text.
    public var description: String { rawValue }
}

extension MerchantID: Codable {
    /// Decodes and validates an identifier.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let id = MerchantID(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a merchant identifier.")
        }
        self = id
    }

    /// Encodes the identifier's text.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
