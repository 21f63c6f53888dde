/// Eight bytes at a time in one 64-bit word ("SIMD within a register"), for the scans on the
/// request's path: key bodies and request targets.
///
/// For a byte *b* below 0x80, *b* + (0x80 − lo) has its top bit set exactly when *b* ≥ lo, and
/// *b* + (0x7F − hi) exactly when *b* > hi; neither sum reaches 0x100, so no lane carries into the
/// next. A range test is therefore two additions, and each result keeps one bit per lane: 0x80.
/// Lanes holding a byte of 0x80 or more are reported separately (``nonASCII(_:)``): the additions
/// are meaningless there and may carry into the lanes after them (the later bytes), never into
/// the ones before, so the first lane reported is always right.
enum ByteLanes {
    /// The top bit of every lane.
    static let high: UInt64 = 0x8080_8080_8080_8080

    /// `byte` in every lane.
    @inline(__always)
    static func repeating(_ byte: UInt8) -> UInt64 { 0x0101_0101_0101_0101 &* UInt64(byte) }

    /// 0x80 in each lane whose byte (below 0x80) lies in `low...high`.
    @inline(__always)
    static func inRange(_ word: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
        (word &+ repeating(0x80 &- low)) & ~(word &+ repeating(0x7F &- high)) & Self.high
    }

    /// 0x80 in each lane whose byte is 0x80 or more.
    @inline(__always)
    static func nonASCII(_ word: UInt64) -> UInt64 { word & high }

    /// 0x80 in each lane whose byte is not one of RFC 4648's 64 base64url characters
    /// (`A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_`).
    @inline(__always)
    static func notBase64URL(_ word: UInt64) -> UInt64 {
        let member =
            inRange(word, 0x41, 0x5A) | inRange(word, 0x61, 0x7A) | inRange(word, 0x30, 0x39)
            | inRange(word, 0x2D, 0x2D) | inRange(word, 0x5F, 0x5F)
        return (~member & high) | nonASCII(word)
    }

    /// 0x80 in each lane whose byte cannot stand in a request-target's query: a control byte,
    /// space, DEL, `#` or a byte of 0x80 or more (RFC 9112 §3.2, RFC 3986 §3.4).
    @inline(__always)
    static func notQuery(_ word: UInt64) -> UInt64 {
        (~(inRange(word, 0x21, 0x7E) & ~inRange(word, 0x23, 0x23)) & high) | nonASCII(word)
    }

    /// The word of eight bytes at `offset` (little-endian: lane *i* is byte `offset + i`).
    @inline(__always)
    static func load(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + offset).loadUnaligned(as: UInt64.self))
    }

    /// Whether every byte of `bytes` is accepted: whole words by `rejected` (0x80 in each lane it
    /// refuses), the last few bytes one by one by `accepts`. No early exit within the words.
    @inline(__always)
    static func allSatisfy(
        _ bytes: UnsafeBufferPointer<UInt8>, rejected: (UInt64) -> UInt64, accepts: (UInt8) -> Bool
    ) -> Bool {
        var offset = 0
        var refused: UInt64 = 0
        while offset + 8 <= bytes.count {
            refused |= rejected(load(bytes, at: offset))
            offset += 8
        }
        guard refused == 0 else { return false }
        while offset < bytes.count {
            guard accepts(bytes[offset]) else { return false }
            offset += 1
        }
        return true
    }

    /// The index of the first lane set in a non-zero lane mask.
    @inline(__always)
    static func firstLane(_ mask: UInt64) -> Int { mask.trailingZeroBitCount >> 3 }
}
