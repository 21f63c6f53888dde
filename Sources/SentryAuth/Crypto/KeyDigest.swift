/// A SHA-256 digest: how an API key exists at rest.
///
/// A digest is 32 bytes kept inline (four words, no heap storage). `==` compares all 32 bytes in
/// constant time, so a digest found by a hash-table look-up can be confirmed without a timing leak.
///
/// ```swift
/// let digest = KeyDigest.SHA256.hash(Array("abc".utf8))
/// print(digest.hex)   // ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
/// ```
public struct KeyDigest: Sendable, Hashable {
    @usableFromInline let word0: UInt64
    @usableFromInline let word1: UInt64
    @usableFromInline let word2: UInt64
    @usableFromInline let word3: UInt64

    @inlinable
    init(word0: UInt64, word1: UInt64, word2: UInt64, word3: UInt64) {
        self.word0 = word0
        self.word1 = word1
        self.word2 = word2
        self.word3 = word3
    }

    /// Creates a digest from its 32 bytes.
    ///
    /// - Parameter bytes: Exactly 32 bytes.
    /// - Returns: `nil` when `bytes` does not hold exactly 32 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
        }
        self.init(word0: words[0], word1: words[1], word2: words[2], word3: words[3])
    }

    /// Parses the 64-character hexadecimal form (either case).
    ///
    /// - Parameter hex: 64 hexadecimal digits.
    /// - Returns: `nil` when `hex` is not exactly 64 hexadecimal digits.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes: bytes)
    }

    /// The 32 bytes of the digest, most significant first.
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(32)
        for word in [word0, word1, word2, word3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                result.append(UInt8(truncatingIfNeeded: word >> shift))
            }
        }
        return result
    }

    /// The digest as 64 lowercase hexadecimal digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Compares two digests in constant time: all 32 bytes are always examined. This is the compare
    /// the gate confirms a presented key with; it calls ``ConstantTime/isEqual(_:_:)-(KeyDigest,KeyDigest)``,
    /// which `Benchmarks/constant-time.sh` proves branch-free on the built binary.
    @inlinable
    public static func == (lhs: KeyDigest, rhs: KeyDigest) -> Bool {
        ConstantTime.isEqual(lhs, rhs)
    }

    /// Hashes the digest for use as a dictionary key: its first 8 bytes only. A digest is already
    /// a uniformly distributed hash (a presented key is always hashed with SHA-256 first), so 64 of
    /// its bits spread keys as well as all 256, and `Hasher`'s per-process seed still keeps bucket
    /// positions unpredictable; feeding one word instead of four takes about a third of the time.
    ///
    /// - Parameter hasher: The hasher to feed.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(word0)
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension KeyDigest: CustomStringConvertible {
    /// The lowercase hexadecimal form. A digest is not a secret: it is what the store keeps.
    public var description: String { hex }
}

extension KeyDigest: Codable {
    /// Decodes the 64-character hexadecimal form.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = KeyDigest(hex: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "A key digest is 64 hexadecimal digits.")
        }
        self = digest
    }

    /// Encodes the 64-character lowercase hexadecimal form.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
