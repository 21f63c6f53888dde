extension KeyDigest {
    /// SHA-256 as specified in [FIPS 180-4](https://csrc.nist.gov/pubs/fips/180-4/upd1/final), in pure Swift.
    ///
    /// Use the one-shot form for short inputs such as API keys, and the streaming form when the input
    /// arrives in pieces:
    ///
    /// ```swift
    /// let digest = KeyDigest.SHA256.hash(Array("abc".utf8))
    ///
    /// var hasher = KeyDigest.SHA256()
    /// hasher.update(Array("a".utf8))
    /// hasher.update(Array("bc".utf8))
    /// let same = hasher.finalize()   // == digest
    /// ```
    ///
    /// The hasher keeps all of its state inline (no heap storage) and never allocates.
    ///
    /// Nested in ``KeyDigest`` (the value it produces) so that it never clashes with swift-crypto's
    /// `SHA256` in a file that imports both.
    public struct SHA256: Sendable {
        /// The size of a SHA-256 digest in bytes.
        public static let digestByteCount = 32

        /// The size of one SHA-256 input block in bytes.
        public static let blockByteCount = 64

        @usableFromInline var h0: UInt32 = 0x6a09_e667
        @usableFromInline var h1: UInt32 = 0xbb67_ae85
        @usableFromInline var h2: UInt32 = 0x3c6e_f372
        @usableFromInline var h3: UInt32 = 0xa54f_f53a
        @usableFromInline var h4: UInt32 = 0x510e_527f
        @usableFromInline var h5: UInt32 = 0x9b05_688c
        @usableFromInline var h6: UInt32 = 0x1f83_d9ab
        @usableFromInline var h7: UInt32 = 0x5be0_cd19

        /// Bytes of the current, incomplete block (64 bytes, inline).
        @usableFromInline var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
            0, 0, 0, 0, 0, 0, 0, 0
        )
        /// How many bytes of `buffer` are in use (0..<64).
        @usableFromInline var bufferCount = 0
        /// Total message length in bytes.
        @usableFromInline var messageLength: UInt64 = 0

        /// Creates a hasher with the initial hash value of FIPS 180-4 §5.3.3.
        public init() {}

        /// Hashes `bytes` in one call.
        ///
        /// - Parameter bytes: The message.
        /// - Returns: The 32-byte digest.
        public static func hash(_ bytes: some Sequence<UInt8>) -> KeyDigest {
            var hasher = SHA256()
            hasher.update(bytes)
            return hasher.finalize()
        }

        /// Hashes the bytes of a raw buffer in one call.
        ///
        /// - Parameter bytes: The message.
        /// - Returns: The 32-byte digest.
        public static func hash(_ bytes: UnsafeRawBufferPointer) -> KeyDigest {
            var hasher = SHA256()
            hasher.update(bytes)
            return hasher.finalize()
        }

        /// Adds `bytes` to the message.
        ///
        /// - Parameter bytes: The next part of the message.
        public mutating func update(_ bytes: some Sequence<UInt8>) {
            let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
            if done != nil { return }
            var chunk = [UInt8]()
            chunk.reserveCapacity(64)
            for byte in bytes {
                chunk.append(byte)
                if chunk.count == 64 {
                    chunk.withUnsafeBytes { update($0) }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            chunk.withUnsafeBytes { update($0) }
        }

        /// Adds the bytes of a raw buffer to the message.
        ///
        /// - Parameter bytes: The next part of the message.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard !bytes.isEmpty, let base = bytes.baseAddress else { return }
            messageLength &+= UInt64(bytes.count)
            var offset = 0
            if bufferCount > 0 {
                let take = min(64 - bufferCount, bytes.count)
                let filled = bufferCount
                withUnsafeMutableBytes(of: &buffer) {
                    ($0.baseAddress! + filled).copyMemory(from: base, byteCount: take)
                }
                bufferCount += take
                offset = take
                guard bufferCount == 64 else { return }
                var block = buffer
                withUnsafeBytes(of: &block) { compress($0.baseAddress!) }
                bufferCount = 0
            }
            while bytes.count - offset >= 64 {
                compress(base + offset)
                offset += 64
            }
            let rest = bytes.count - offset
            if rest > 0 {
                withUnsafeMutableBytes(of: &buffer) { $0.baseAddress!.copyMemory(from: base + offset, byteCount: rest) }
            }
            bufferCount = rest
        }

        /// Pads the message (FIPS 180-4 §5.1.1) and returns its digest.
        ///
        /// The hasher is consumed: to hash another message, start a new one.
        ///
        /// - Returns: The 32-byte digest.
        public consuming func finalize() -> KeyDigest {
            let bitLength = messageLength &* 8
            var block = buffer
            let used = bufferCount
            withUnsafeMutableBytes(of: &block) { raw in
                raw[used] = 0x80
                (raw.baseAddress! + used + 1).initializeMemory(as: UInt8.self, repeating: 0, count: 63 - used)
            }
            if used >= 56 {
                withUnsafeBytes(of: &block) { compress($0.baseAddress!) }
                block = (0, 0, 0, 0, 0, 0, 0, 0)
            }
            block.7 = bitLength.bigEndian
            withUnsafeBytes(of: &block) { compress($0.baseAddress!) }
            return KeyDigest(
                word0: UInt64(h0) << 32 | UInt64(h1),
                word1: UInt64(h2) << 32 | UInt64(h3),
                word2: UInt64(h4) << 32 | UInt64(h5),
                word3: UInt64(h6) << 32 | UInt64(h7)
            )
        }

        /// Processes one 64-byte block (FIPS 180-4 §6.2.2).
        @usableFromInline
        mutating func compress(_ block: UnsafeRawPointer) {
            var a = h0
            var b = h1
            var c = h2
            var d = h3
            var e = h4
            var f = h5
            var g = h6
            var h = h7
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
                let w = schedule.baseAddress!
                for t in 0..<16 {
                    w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 &* t, as: UInt32.self))
                }
                for t in 16..<64 {
                    let x = w[t &- 15]
                    let y = w[t &- 2]
                    let s0 = x.rotatedRight(7) ^ x.rotatedRight(18) ^ (x &>> 3)
                    let s1 = y.rotatedRight(17) ^ y.rotatedRight(19) ^ (y &>> 10)
                    w[t] = w[t &- 16] &+ s0 &+ w[t &- 7] &+ s1
                }
                SHA256.roundConstants.withUnsafeBufferPointer { constants in
                    let k = constants.baseAddress!
                    for t in 0..<64 {
                        let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                        let ch = (e & f) ^ (~e & g)
                        let t1 = h &+ s1 &+ ch &+ k[t] &+ w[t]
                        let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                        let maj = (a & b) ^ (a & c) ^ (b & c)
                        h = g
                        g = f
                        f = e
                        e = d &+ t1
                        d = c
                        c = b
                        b = a
                        a = t1 &+ s0 &+ maj
                    }
                }
            }
            h0 &+= a
            h1 &+= b
            h2 &+= c
            h3 &+= d
            h4 &+= e
            h5 &+= f
            h6 &+= g
            h7 &+= h
        }

        /// The 64 round constants of FIPS 180-4 §4.2.2.
        @usableFromInline static let roundConstants: [UInt32] = [
            0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
            0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
            0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
            0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
            0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
            0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
            0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
            0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
        ]
    }
}

extension UInt32 {
    @inlinable @inline(__always)
    func rotatedRight(_ count: UInt32) -> UInt32 {
        (self &>> count) | (self &<< (32 &- count))
    }
}
