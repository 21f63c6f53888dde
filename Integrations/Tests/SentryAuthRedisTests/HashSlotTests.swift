import Testing

@testable import SentryAuthRedis

@Suite("Redis Cluster hash slots: the specification's CRC16 and hash tags")
struct HashSlotTests {
    @Test("CRC16 (XMODEM) of the specification's check input is 0x31C3")
    func specificationVector() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot.crc16([]) == 0)
    }

    @Test("Hash tags: the first {…} that is not empty, as the specification's examples say")
    func hashTags() {
        // The Redis Cluster specification's examples, and the slots redis-cli's CLUSTER KEYSLOT gives.
        #expect(HashSlot.of("foo") == 12_182)
        #expect(HashSlot.of("bar") == 5_061)
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("user1000"))
        #expect(HashSlot.of("{user1000}.followers") == HashSlot.of("user1000"))
        #expect(HashSlot.of("foo{}{bar}") == Int(HashSlot.crc16(Array("foo{}{bar}".utf8)) & 0x3FFF))
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        #expect(HashSlot.of("foo{bar}{zap}") == HashSlot.of("bar"))
        #expect(HashSlot.of("sentry-auth:{key_1}:window") == HashSlot.of("sentry-auth:{key_1}:sequence"))
        #expect(HashSlot.of("{") == Int(HashSlot.crc16(Array("{".utf8)) & 0x3FFF))
    }
}
