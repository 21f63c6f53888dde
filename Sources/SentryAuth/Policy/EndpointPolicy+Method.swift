extension EndpointPolicy {
    /// An HTTP request method, compared case-sensitively as RFC 9110 §9.1 requires: `get` is not `GET`.
    ///
    /// Nested in ``EndpointPolicy`` so that it never clashes with NIO's or Vapor's `Method`.
    public struct Method: Sendable, Hashable {
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

        init(unchecked rawValue: String) {
            self.rawValue = rawValue
        }

        /// `GET`.
        public static let get = Method(unchecked: "GET")
        /// `HEAD`.
        public static let head = Method(unchecked: "HEAD")
        /// `POST`.
        public static let post = Method(unchecked: "POST")
        /// `PUT`.
        public static let put = Method(unchecked: "PUT")
        /// `PATCH`.
        public static let patch = Method(unchecked: "PATCH")
        /// `DELETE`.
        public static let delete = Method(unchecked: "DELETE")
        /// `OPTIONS`.
        public static let options = Method(unchecked: "OPTIONS")

        static func isTokenCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }
}

extension EndpointPolicy.Method: CustomStringConvertible {
    /// The method's name.
    public var description: String { rawValue }
}

extension EndpointPolicy.Method: Codable {
    /// Decodes and validates a method name.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let method = EndpointPolicy.Method(try container.decode(String.self)) else {
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
