/// CRC-32 as zlib's `crc32` computes it (IEEE 802.3, reflected polynomial 0xEDB88320, initial value
/// and final XOR 0xFFFFFFFF): the checksum at the end of every Sentry key.
///
/// Not a security measure — anyone can compute it — but it lets a secret scanner, or the gate,
/// recognise a mistyped or made-up key without a database or a hash.
///
/// Eight bytes at a time ("slicing-by-8": eight 256-entry tables, each the previous one advanced by
/// a zero byte), then four, then the tail a byte at a time; the tables are built once.
enum CRC32 {
    /// `tables[k][i]`: the CRC register after byte `i` followed by `k` zero bytes. Row 0 is the
    /// classic byte-at-a-time table.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
            tables[index] = value
        }
        for row in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(row - 1) * 256 + index]
                tables[row * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32 of `bytes`.
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) { return crc }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }

    /// The CRC-32 of a buffer.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            var offset = 0
            let count = bytes.count
            @inline(__always) func entry(_ row: Int, _ byte: UInt32) -> UInt32 { table[row &* 256 &+ Int(byte & 0xFF)] }
            while offset + 8 <= count {
                let low = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                crc =
                    entry(7, low) ^ entry(6, low >> 8) ^ entry(5, low >> 16) ^ entry(4, low >> 24)
                    ^ entry(3, high) ^ entry(2, high >> 8) ^ entry(1, high >> 16) ^ entry(0, high >> 24)
                offset += 8
            }
            if offset + 4 <= count {
                let word = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
                crc = entry(3, word) ^ entry(2, word >> 8) ^ entry(1, word >> 16) ^ entry(0, word >> 24)
                offset += 4
            }
            while offset < count {
                crc = entry(0, crc ^ UInt32(bytes[offset])) ^ (crc >> 8)
                offset += 1
            }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
