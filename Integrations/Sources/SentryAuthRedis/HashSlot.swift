/// The Redis Cluster hash slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial value 0) of the
/// key, or of its hash tag, modulo 16,384 — the Redis Cluster specification's `HASH_SLOT`.
///
/// The hash tag is what lies between the first `{` and the first `}` after it, when that is not
/// empty: `sentry-auth:{key_1}:window` and `sentry-auth:{key_1}:sequence` share a slot.
enum HashSlot {
    /// How many slots a cluster has.
    static let count = 16_384

    /// The slot of `key`.
    static func of(_ key: String) -> Int {
        var bytes = Substring(key).utf8[...]
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")) {
            let rest = bytes[bytes.index(after: open)...]
            if let close = rest.firstIndex(of: UInt8(ascii: "}")), close != rest.startIndex {
                bytes = rest[..<close]
            }
        }
        return Int(crc16(bytes) & 0x3FFF)
    }

    /// CRC16-CCITT (XMODEM), bit by bit: keys are short, and a table would be 512 bytes of constants.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}
