/// A presented or newly generated API key, such as `sntr_abcdefghijklmnopqrstuvwxyzDprpqN`.
///
/// An `APIKey` is a secret. Every way of printing it shows only its display hint (`sntr_…3456`):
/// `description`, `debugDescription`, string interpolation, `dump` and `String(reflecting:)`.
/// It is not `Codable`. The secret leaves the type only through ``revealSecret()``, which exists
/// to hand a newly created key to its owner once.
///
/// ```swift
/// let key = try APIKey(parsing: "sntr_abcdefghijklmnopqrstuvwxyzDprpqN")
/// print(key)           // sntr_…rpqN
/// let digest = key.digest   // what a store keeps
/// ```
public struct APIKey: Sendable {
    /// The key's format (prefix and body length).
    public let format: APIKeyFormat
    /// The whole key as UTF-8 bytes. Never printed.
    let secret: [UInt8]

    private init(format: APIKeyFormat, secret: [UInt8]) {
        self.format = format
        self.secret = secret
    }

    /// Parses a presented key strictly: the exact prefix, then exactly `format.bodyLength` base64url
    /// characters, and nothing else (no whitespace, no padding).
    ///
    /// - Parameters:
    ///   - text: The presented key.
    ///   - format: The expected format; ``APIKeyFormat/sentry`` by default.
    /// - Throws: ``APIKeyFormatError`` saying what is wrong. The error never contains `text`.
    public init(parsing text: some StringProtocol, format: APIKeyFormat = .sentry) throws(APIKeyFormatError) {
        // Generic callers in other modules run unspecialized code: go through the concrete
        // Substring path, which is specialized once, here.
        try self.init(parsing: Substring(text), format: format)
    }

    /// Parses a presented key strictly; the same as the generic form, for `String`.
    ///
    /// - Parameters:
    ///   - text: The presented key.
    ///   - format: The expected format; ``APIKeyFormat/sentry`` by default.
    /// - Throws: ``APIKeyFormatError`` saying what is wrong. The error never contains `text`.
    public init(parsing text: String, format: APIKeyFormat = .sentry) throws(APIKeyFormatError) {
        try self.init(parsing: text[...], format: format)
    }

    /// Parses a presented key strictly; the same as the generic form, for `Substring`.
    ///
    /// - Parameters:
    ///   - text: The presented key.
    ///   - format: The expected format; ``APIKeyFormat/sentry`` by default.
    /// - Throws: ``APIKeyFormatError`` saying what is wrong. The error never contains `text`.
    public init(parsing text: Substring, format: APIKeyFormat = .sentry) throws(APIKeyFormatError) {
        let secret = text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8)
        try secret.withUnsafeBufferPointer { (bytes) throws(APIKeyFormatError) in
            try Self.validate(bytes, format: format)
        }
        self.init(format: format, secret: secret)
    }

    /// Checks bytes against `format`.
    static func validate(_ utf8: UnsafeBufferPointer<UInt8>, format: APIKeyFormat) throws(APIKeyFormatError) {
        guard !utf8.isEmpty else { throw .empty }
        let prefix = format.prefixBytes
        guard utf8.count >= prefix.count, UnsafeBufferPointer(rebasing: utf8[..<prefix.count]).elementsEqual(prefix)
        else { throw .wrongPrefix(expected: format.prefix) }
        guard utf8.count == format.keyLength else {
            throw .wrongLength(expected: format.keyLength, actual: utf8.count)
        }
        // The body is checked eight bytes at a time; the first bad byte is looked for only if there is one.
        if !APIKeyFormat.isBase64URL(UnsafeBufferPointer(rebasing: utf8[prefix.count...])),
            let position = (prefix.count..<utf8.count).first(where: { !APIKeyFormat.isBase64URL(utf8[$0]) })
        {
            throw .invalidCharacter(position: position + 1)
        }
        if format.checksum == .required, !APIKeyFormat.hasValidChecksum(utf8) { throw .checksumMismatch }
    }

    /// Generates a new key from the system's cryptographically secure random number generator.
    ///
    /// Each body character takes 6 random bits, so all 64 characters are equally likely at every
    /// position (no modulo bias): a Sentry key carries 192 random bits.
    ///
    /// - Parameter format: The format to generate; ``APIKeyFormat/sentry`` by default.
    /// - Returns: A new key.
    public static func generate(format: APIKeyFormat = .sentry) -> APIKey {
        var generator = SecureRandom()
        return generate(format: format, using: &generator)
    }

    /// Generates a key from the given random number generator.
    ///
    /// Use this only with a cryptographically secure generator; it exists so tests can make
    /// repeatable keys.
    ///
    /// - Parameters:
    ///   - format: The format to generate.
    ///   - generator: The source of random bits.
    /// - Returns: A new key.
    public static func generate(
        format: APIKeyFormat = .sentry, using generator: inout some RandomNumberGenerator
    ) -> APIKey {
        var bytes = format.prefixBytes
        bytes.reserveCapacity(format.keyLength)
        var bits: UInt64 = 0
        var available = 0
        let random = format.bodyLength - (format.checksum.isGenerated ? APIKeyFormat.checksumLength : 0)
        for _ in 0..<random {
            if available < 6 {
                bits = generator.next()
                available = 64
            }
            bytes.append(APIKeyFormat.alphabet[Int(bits & 0x3f)])
            bits >>= 6
            available -= 6
        }
        if format.checksum.isGenerated { bytes += APIKeyFormat.checksumCharacters(of: bytes) }
        return APIKey(format: format, secret: bytes)
    }

    /// Whether the key's last 6 characters are the checksum of the rest (see ``APIKeyFormat``). Keys
    /// made before checksums, accepted by ``APIKeyFormat/sentryAcceptingLegacyKeys``, answer `false`
    /// (but for 1 in 2³² by chance).
    public var hasValidChecksum: Bool { APIKeyFormat.hasValidChecksum(secret) }

    /// The key's SHA-256 digest: what a key store keeps instead of the key.
    public var digest: KeyDigest {
        secret.withUnsafeBytes { KeyDigest.SHA256.hash($0) }
    }

    /// A short, safe-to-show reminder of the key: its prefix, an ellipsis and its last 4 characters,
    /// such as `sntr_…3456`.
    public var displayHint: String {
        format.prefix + "…" + String(decoding: secret.suffix(4), as: UTF8.self)
    }

    /// Returns the whole key.
    ///
    /// Call this once, to hand a newly created key to its owner. Never log the result.
    ///
    /// - Returns: The key's full text.
    public func revealSecret() -> String {
        String(decoding: secret, as: UTF8.self)
    }

    /// Calls `body` with the key's bytes, without copying them into a `String`.
    ///
    /// - Parameter body: A closure that reads the bytes; they must not escape it.
    /// - Returns: What `body` returns.
    public func withUnsafeSecretBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try secret.withUnsafeBytes(body)
    }
}

extension APIKey: Equatable {
    /// Compares two keys in constant time.
    public static func == (lhs: APIKey, rhs: APIKey) -> Bool {
        lhs.format == rhs.format && ConstantTime.isEqual(lhs.secret, rhs.secret)
    }
}

extension APIKey: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The display hint, never the key.
    public var description: String { displayHint }
    /// The display hint, never the key.
    public var debugDescription: String { "APIKey(\(displayHint))" }
    /// A mirror with no children, so `dump` and debuggers show only the display hint.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
