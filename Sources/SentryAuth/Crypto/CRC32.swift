/// CRC-32 as zlib's `crc32` computes it (IEEE 802.3, reflected polynomial 0xEDB88320, initial value
/// and final XOR 0xFFFFFFFF): the checksum at the end of every Sentry key.
///
/// Not a security measure — anyone can compute it — but it lets a secret scanner, or the gate,
/// recognise a mistyped or made-up key without a database or a hash.
enum CRC32 {
    /// The byte-at-a-time lookup table.
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }

    /// The CRC-32 of `bytes`.
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
