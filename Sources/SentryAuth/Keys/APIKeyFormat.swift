/// The shape of an API key: a fixed prefix followed by a fixed number of base64url characters,
/// the last six of which may be a checksum.
///
/// The Sentry format is ``sentry``: `sntr_` followed by 32 characters — 26 random (156 bits) and a
/// 6-character checksum:
///
/// ```text
/// sntr_ R R R R R R R R R R R R R R R R R R R R R R R R R R C C C C C C
/// |-- the first 31 ASCII characters: CRC-32 input ---------| |checksum|
/// ```
///
/// The checksum is the CRC-32 (IEEE, as zlib's `crc32`) of the key's first 31 ASCII characters
/// (`sntr_` and the 26 random ones), written as exactly 6 digits in base 64 with the base64url
/// alphabet (`A` = 0 … `Z` = 25, `a` = 26 … `z` = 51, `0` = 52 … `9` = 61, `-` = 62, `_` = 63),
/// most significant digit first. A CRC-32 has 32 bits, so the first checksum character is always
/// `A`, `B`, `C` or `D`. A secret scanner can find candidates with
/// `\bsntr_[A-Za-z0-9_-]{26}[A-D][A-Za-z0-9_-]{5}\b` and confirm them by the checksum, with no
/// database. The gate refuses a key whose checksum fails before hashing it or looking it up.
///
/// Keys made before checksums (any 32 base64url characters) work only where a deployment says so:
/// ``sentryAcceptingLegacyKeys`` (the migration path; new keys are still checksummed). Other APIs
/// can define their own formats:
///
/// ```swift
/// let format = try APIKeyFormat(prefix: "acme_live_", bodyLength: 40, checksum: .required)
/// ```
public struct APIKeyFormat: Sendable, Hashable {
    /// The text every key starts with, such as `sntr_`.
    public let prefix: String
    /// How many base64url characters follow the prefix, the checksum included.
    public let bodyLength: Int
    /// Whether keys carry a checksum in their last 6 characters, and whether keys without one are
    /// accepted.
    public let checksum: Checksum

    /// Whether a format's keys carry a checksum (their last 6 characters: the CRC-32 of the rest,
    /// in base64url digits), and whether presented keys must.
    public struct Checksum: Sendable, Hashable {
        enum Kind: Sendable, Hashable { case none, required, acceptingLegacyKeys }
        let kind: Kind

        /// No checksum: every body character is random.
        public static var none: Self { Self(kind: .none) }
        /// New keys carry a checksum and a presented key must have a valid one.
        public static var required: Self { Self(kind: .required) }
        /// New keys carry a checksum; a presented key without a valid one is still looked up (keys
        /// made before checksums, during a migration).
        public static var acceptingLegacyKeys: Self { Self(kind: .acceptingLegacyKeys) }

        /// Whether new keys end in a checksum.
        public var isGenerated: Bool { kind != .none }
    }

    /// The number of checksum characters.
    public static let checksumLength = 6

    /// UTF-8 bytes of ``prefix``, kept to make parsing a byte comparison.
    let prefixBytes: [UInt8]

    /// The fewest random body characters a format may have: 22 characters carry 132 random bits
    /// (a checksummed format's body is 6 characters longer).
    public static let minimumBodyLength = 22
    /// The most body characters a format may have.
    public static let maximumBodyLength = 256

    /// The Sentry Payments format: `sntr_` and 32 base64url characters, the last 6 a checksum that
    /// every presented key must match.
    public static let sentry = APIKeyFormat(unchecked: "sntr_", bodyLength: 32, checksum: .required)

    /// The Sentry format during a migration: new keys are checksummed, and keys made before
    /// checksums (any 32 base64url characters) are still accepted. Off for new deployments.
    public static let sentryAcceptingLegacyKeys = APIKeyFormat(
        unchecked: "sntr_", bodyLength: 32, checksum: .acceptingLegacyKeys)

    /// Creates a key format.
    ///
    /// - Parameters:
    ///   - prefix: 1 to 32 characters from `a`–`z`, `A`–`Z`, `0`–`9` and `_`, ending in `_`, so the
    ///     prefix can never be confused with the base64url body.
    ///   - bodyLength: The number of body characters, from ``minimumBodyLength`` (plus 6 with a
    ///     checksum) to ``maximumBodyLength``.
    ///   - checksum: Whether keys end in a checksum; ``Checksum/none`` by default.
    /// - Throws: ``APIKeyFormatError/invalidFormat`` when either value is out of range.
    public init(prefix: String, bodyLength: Int, checksum: Checksum = .none) throws(APIKeyFormatError) {
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
            (Self.minimumBodyLength...Self.maximumBodyLength).contains(
                bodyLength - (checksum.isGenerated ? Self.checksumLength : 0)),
            bodyLength <= Self.maximumBodyLength
        else { throw .invalidFormat }
        self.init(unchecked: prefix, bodyLength: bodyLength, checksum: checksum)
    }

    private init(unchecked prefix: String, bodyLength: Int, checksum: Checksum) {
        self.prefix = prefix
        self.bodyLength = bodyLength
        self.checksum = checksum
        self.prefixBytes = Array(prefix.utf8)
    }

    /// The same format with another checksum rule, such as ``Checksum/acceptingLegacyKeys`` for a
    /// migration.
    ///
    /// - Parameter checksum: The rule.
    /// - Returns: The format with that rule.
    public func withChecksum(_ checksum: Checksum) -> APIKeyFormat {
        APIKeyFormat(unchecked: prefix, bodyLength: bodyLength, checksum: checksum)
    }

    /// The 6 checksum characters for a key's first `keyLength − 6` bytes.
    static func checksumCharacters(of bytes: some Sequence<UInt8>) -> [UInt8] {
        checksumCharacters(ofValue: CRC32.checksum(bytes))
    }

    /// A CRC-32 value as 6 base64url digits, most significant first.
    static func checksumCharacters(ofValue value: UInt32) -> [UInt8] {
        (0..<checksumLength).map { digit in alphabet[Int((value >> UInt32(6 * (checksumLength - 1 - digit))) & 63)] }
    }

    /// Whether a well-formed key's last 6 characters are the checksum of the rest. Allocates
    /// nothing: it is on the gate's path.
    static func hasValidChecksum(_ utf8: some Collection<UInt8>) -> Bool {
        guard utf8.count > checksumLength else { return false }
        let split = utf8.index(utf8.startIndex, offsetBy: utf8.count - checksumLength)
        let value = CRC32.checksum(utf8[..<split])
        var shift = UInt32(6 * (checksumLength - 1))
        for character in utf8[split...] {
            guard character == alphabet[Int((value >> shift) & 63)] else { return false }
            shift &-= 6
        }
        return true
    }

    /// The total length of a key in this format, in characters.
    public var keyLength: Int { prefixBytes.count + bodyLength }

    /// The 64 base64url characters of RFC 4648 §5, in value order.
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Whether every byte of `bytes` is a base64url character, eight at a time (see ``ByteLanes``).
    static func isBase64URL(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        ByteLanes.allSatisfy(bytes, rejected: ByteLanes.notBase64URL, accepts: isBase64URL)
    }

    /// Whether `byte` is one of the 64 base64url characters (RFC 4648 §5): what a key body is made
    /// of, and what a scanner treats as "inside the same token".
    ///
    /// - Parameter byte: A byte of text.
    /// - Returns: `true` for `A`–`Z`, `a`–`z`, `0`–`9`, `-` and `_`.
    @inlinable
    public static func isBase64URL(_ byte: UInt8) -> Bool {
        // One bit per ASCII character: bits 45 (`-`) and 48–57 (`0`–`9`) of the low word; 65–90
        // (`A`–`Z`), 95 (`_`) and 97–122 (`a`–`z`) of the high word, less 64.
        let low: UInt64 = 0x03FF_2000_0000_0000
        let high: UInt64 = 0x07FF_FFFE_87FF_FFFE
        let word = byte < 64 ? low : high
        return byte < 128 && (word >> UInt64(byte & 63)) & 1 == 1
    }
}
