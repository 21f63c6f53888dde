/// Comparisons whose running time does not depend on the bytes compared.
///
/// An early-exit comparison (`==` on arrays, `memcmp`) returns as soon as it finds a difference,
/// so how long it takes tells an attacker how many leading bytes of a guess were right.
/// These functions XOR every pair of bytes and OR the results together, with no branch that
/// depends on the data and no early exit: they reveal only whether the lengths differ.
///
/// ```swift
/// let same = ConstantTime.isEqual(Array("abc".utf8), Array("abc".utf8))   // true
/// ```
///
/// That the compiled loop is really branch-free is checked on the built binary, not assumed:
/// see `Benchmarks/constant-time.sh`, which compares exact instruction counts under callgrind.
public enum ConstantTime {
    /// Compares two byte buffers in time that depends only on their lengths.
    ///
    /// - Parameters:
    ///   - lhs: The first buffer.
    ///   - rhs: The second buffer.
    /// - Returns: `true` when both buffers have the same length and the same bytes.
    @inline(never)
    public static func isEqual(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count, let left = lhs.baseAddress, let right = rhs.baseAddress else {
            return lhs.count == rhs.count
        }
        // Thirty-two bytes at a time, then eight, then the tail; the trip counts depend only on the length.
        let count = lhs.count
        var difference: UInt64 = 0
        var offset = 0
        while offset + 32 <= count {
            let first =
                left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let second =
                left.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
                ^ right.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            let third =
                left.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)
                ^ right.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)
            let fourth =
                left.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)
                ^ right.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)
            difference |= first | second | third | fourth
            offset += 32
        }
        while offset + 8 <= count {
            difference |=
                left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            difference |= UInt64(
                left.load(fromByteOffset: offset, as: UInt8.self) ^ right.load(fromByteOffset: offset, as: UInt8.self))
            offset += 1
        }
        return isZero(difference)
    }

    /// Compares two key digests in constant time: all 32 bytes, as four XORed words ORed together.
    ///
    /// `KeyDigest`'s `==` calls this, so the gate's confirmation of a presented key runs exactly this
    /// code. It is never inlined: it keeps its own symbol, whose instruction count
    /// `Benchmarks/constant-time.sh` measures under callgrind for equal and unequal digests.
    ///
    /// - Parameters:
    ///   - lhs: The first digest.
    ///   - rhs: The second digest.
    /// - Returns: `true` when the digests are equal.
    @inline(never)
    public static func isEqual(_ lhs: KeyDigest, _ rhs: KeyDigest) -> Bool {
        let difference =
            (lhs.word0 ^ rhs.word0) | (lhs.word1 ^ rhs.word1) | (lhs.word2 ^ rhs.word2)
            | (lhs.word3 ^ rhs.word3)
        return isZero(difference)
    }

    /// Compares two byte arrays in time that depends only on their lengths.
    ///
    /// - Parameters:
    ///   - lhs: The first array.
    ///   - rhs: The second array.
    /// - Returns: `true` when both arrays have the same length and the same bytes.
    public static func isEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in isEqual(left, right) } }
    }

    /// Turns "any bit set" into a Bool without a data-dependent branch.
    @inlinable @inline(__always)
    static func isZero(_ value: UInt8) -> Bool {
        // (value - 1) has bit 8 set only when value == 0, computed in a wider type.
        let widened = UInt32(value) &- 1
        return (widened >> 8) & 1 == 1
    }

    /// Turns "any bit set" of a 64-bit word into a Bool without a data-dependent branch.
    @inlinable @inline(__always)
    static func isZero(_ value: UInt64) -> Bool {
        // (value | -value) has its top bit set exactly when value != 0.
        ((value | (0 &- value)) >> 63) == 0
    }
}
