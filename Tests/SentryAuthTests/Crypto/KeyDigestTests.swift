import Foundation
import Testing

@testable import SentryAuth

@Suite("Key digests")
struct KeyDigestTests {
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    @Test("Hex and bytes round-trip; uppercase hex is accepted")
    func roundTrip() throws {
        let digest = try #require(KeyDigest(hex: abc))
        #expect(digest.hex == abc)
        #expect(KeyDigest(hex: abc.uppercased()) == digest)
        #expect(KeyDigest(bytes: digest.bytes) == digest)
        #expect(digest == KeyDigest.SHA256.hash(Array("abc".utf8)))
        #expect(digest.description == abc)
    }

    @Test(
        "Malformed hex and wrong byte counts are refused",
        arguments: [
            "", "ba78", String(repeating: "0", count: 63), String(repeating: "0", count: 65),
            String(repeating: "g", count: 64), " " + String(repeating: "0", count: 63),
        ])
    func malformed(text: String) {
        #expect(KeyDigest(hex: text) == nil)
    }

    @Test("A digest differing in any one byte is unequal")
    func inequality() throws {
        let digest = try #require(KeyDigest(hex: abc))
        for position in 0..<32 {
            var bytes = digest.bytes
            bytes[position] ^= 0x80
            #expect(try #require(KeyDigest(bytes: bytes)) != digest)
        }
        #expect(KeyDigest(bytes: [UInt8](repeating: 0, count: 31)) == nil)
    }

    @Test("Codable as a hex string")
    func codable() throws {
        let digest = try #require(KeyDigest(hex: abc))
        let json = try JSONEncoder().encode([digest])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(abc)\"]")
        #expect(try JSONDecoder().decode([KeyDigest].self, from: json) == [digest])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([KeyDigest].self, from: Data("[\"00\"]".utf8)) }
    }
}
