/// An HTTP request method, compared case-sensitively as RFC 9110 §9.1 requires: `get` is not `GET`.
public struct HTTPMethod: Sendable, Hashable {
    /// The method's name, such as `GET`.
    public let rawValue: String

    /// Validates a method name: 1 to 32 token characters (RFC 9110 §5.6.2).
    ///
    /// - Parameter rawValue: The method's name.
    /// - Returns: `nil` when `rawValue` is not a token.
    public init?(_ rawValue: some StringProtocol) {
        guard (1...32).contains(rawValue.utf8.count), rawValue.utf8.allSatisfy(Self.isTokenCharacter) else {
            return nil
        }
        self.rawValue = String(rawValue)
    }

    private init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }

    /// `GET`.
    public static let get = HTTPMethod(unchecked: "GET")
    /// `HEAD`.
    public static let head = HTTPMethod(unchecked: "HEAD")
    /// `POST`.
    public static let post = HTTPMethod(unchecked: "POST")
    /// `PUT`.
    public static let put = HTTPMethod(unchecked: "PUT")
    /// `PATCH`.
    public static let patch = HTTPMethod(unchecked: "PATCH")
    /// `DELETE`.
    public static let delete = HTTPMethod(unchecked: "DELETE")
    /// `OPTIONS`.
    public static let options = HTTPMethod(unchecked: "OPTIONS")

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension HTTPMethod: CustomStringConvertible {
    /// The method's name.
    public var description: String { rawValue }
}

extension HTTPMethod: Codable {
    /// Decodes and validates a method name.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let method = HTTPMethod(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not an HTTP method token.")
        }
        self = method
    }

    /// Encodes the method's name.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
