/// The public identifier of an API key, such as `key_3f9a0c2e7b1d4e6f8a2c9b0d`.
///
/// Unlike the key itself, the identifier is not a secret: it names the key in logs, in the
/// merchant portal and in management calls (revoke, roll, restrict).
public struct APIKeyID: Sendable, Hashable, Comparable {
    /// The identifier's text.
    public let rawValue: String

    /// Validates an identifier: 1 to 64 characters from `a`–`z`, `A`–`Z`, `0`–`9`, `_` and `-`.
    ///
    /// - Parameter text: The identifier's text.
    /// - Returns: `nil` when `text` is not a valid identifier.
    public init?(_ text: some StringProtocol) {
        guard (1...64).contains(text.utf8.count), text.utf8.allSatisfy(Self.isAllowed) else { return nil }
        rawValue = String(text)
    }

    private init(unchecked text: String) {
        rawValue = text
    }

    /// Makes a new random identifier: `key_` and 24 lowercase hexadecimal digits (96 random bits).
    ///
    /// - Returns: A new identifier.
    public static func generate() -> APIKeyID {
        var generator = SecureRandom()
        let digits = Array("0123456789abcdef".utf8)
        var text = Array("key_".utf8)
        for _ in 0..<24 { text.append(digits[Int(generator.next(upperBound: UInt8(16)))]) }
        return APIKeyID(unchecked: String(decoding: text, as: UTF8.self))
    }

    /// Orders identifiers by their text.
    public static func < (lhs: APIKeyID, rhs: APIKeyID) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}

extension APIKeyID: CustomStringConvertible {
    /// The identifier's text.
    public var description: String { rawValue }
}

extension APIKeyID: Codable {
    /// Decodes and validates an identifier.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let id = APIKeyID(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a key identifier.")
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
