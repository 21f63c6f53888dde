/// The shape of an API key: a fixed prefix followed by a fixed number of base64url characters.
///
/// The Sentry format is ``sentry``: `sntr_` followed by 32 characters (192 random bits).
/// Other APIs can define their own:
///
/// ```swift
/// let format = try APIKeyFormat(prefix: "acme_live_", bodyLength: 40)
/// ```
public struct APIKeyFormat: Sendable, Hashable {
    /// The text every key starts with, such as `sntr_`.
    public let prefix: String
    /// How many base64url characters follow the prefix.
    public let bodyLength: Int

    /// UTF-8 bytes of ``prefix``, kept to make parsing a byte comparison.
    let prefixBytes: [UInt8]

    /// The fewest body characters a format may have: 22 characters carry 132 random bits.
    public static let minimumBodyLength = 22
    /// The most body characters a format may have.
    public static let maximumBodyLength = 256

    /// The Sentry Payments format: `sntr_` and 32 base64url characters.
    public static let sentry = APIKeyFormat(unchecked: "sntr_", bodyLength: 32)

    /// Creates a key format.
    ///
    /// - Parameters:
    ///   - prefix: 1 to 32 characters from `a`–`z`, `A`–`Z`, `0`–`9` and `_`, ending in `_`, so the
    ///     prefix can never be confused with the base64url body.
    ///   - bodyLength: The number of random characters, from ``minimumBodyLength`` to ``maximumBodyLength``.
    /// - Throws: ``APIKeyFormatError/invalidFormat`` when either value is out of range.
    public init(prefix: String, bodyLength: Int) throws(APIKeyFormatError) {
        let bytes = Array(prefix.utf8)
        let allowed = bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                true
            default: false
            }
        }
        guard allowed, (1...32).contains(bytes.count), bytes.last == UInt8(ascii: "_"),
            (Self.minimumBodyLength...Self.maximumBodyLength).contains(bodyLength)
        else { throw .invalidFormat }
        self.init(unchecked: prefix, bodyLength: bodyLength)
    }

    private init(unchecked prefix: String, bodyLength: Int) {
        self.prefix = prefix
        self.bodyLength = bodyLength
        self.prefixBytes = Array(prefix.utf8)
    }

    /// The total length of a key in this format, in characters.
    public var keyLength: Int { prefixBytes.count + bodyLength }

    /// The 64 base64url characters of RFC 4648 §5, in value order.
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Whether `byte` is one of the 64 base64url characters.
    @inlinable
    static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
