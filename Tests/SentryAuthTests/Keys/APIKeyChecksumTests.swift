import Foundation
import Testing

@testable import SentryAuth

@Suite("API key checksums")
struct APIKeyChecksumTests {
    @Test("500 keys against Python's zlib.crc32: the CRC, the 6 digits and the whole key")
    func vectors() throws {
        let lines = try TestResources.text("checksum-vectors.txt").split(whereSeparator: \.isNewline)
        #expect(lines.count == 500)
        for line in lines {
            let fields = line.split(separator: " ")
            let head = Array(fields[0].utf8)
            #expect(head.count == 31)
            #expect(String(CRC32.checksum(head), radix: 16).leftPadded(to: 8) == fields[1])
            #expect(String(decoding: APIKeyFormat.checksumCharacters(of: head), as: UTF8.self) == fields[2].suffix(6))
            let key = try APIKey(parsing: String(fields[2]))
            #expect(key.hasValidChecksum)
        }
    }

    @Test("Slicing-by-8 equals a bit-at-a-time CRC-32 for every length 0…200 and every alignment")
    func slicingMatchesBitwise() {
        func bitwise(_ bytes: some Sequence<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return crc ^ 0xFFFF_FFFF
        }
        var random = SplitMix64(seed: 32)
        let data = (0..<208).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for length in 0...200 {
            for start in 0..<8 {
                let slice = Array(data[start..<start + length])
                #expect(CRC32.checksum(slice) == bitwise(slice), "length \(length), offset \(start)")
            }
        }
    }

    @Test("The layout's edge values: 0, 63, 64, 2³² − 1 and the largest first digit")
    func edgeValues() {
        func digits(_ value: UInt32) -> String {
            String(decoding: APIKeyFormat.checksumCharacters(ofValue: value), as: UTF8.self)
        }
        #expect(digits(0) == "AAAAAA")
        #expect(digits(63) == "AAAAA_")
        #expect(digits(64) == "AAAABA")
        #expect(digits(0xFFFF_FFFF) == "D_____")
        #expect(digits(0x8000_0000) == "CAAAAA")
        #expect(digits(0x3FFF_FFFF) == "A_____")
        // The classic check value: CRC-32 of "123456789" is 0xCBF43926.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test("Every single-character change to a valid key is detected (20 keys × 32 positions × 63 others)")
    func singleCharacterChanges() {
        var random = SplitMix64(seed: 16)
        for _ in 0..<20 {
            let key = APIKey.generate(using: &random).revealSecret()
            var bytes = Array(key.utf8)
            for position in 5..<37 {
                let original = bytes[position]
                for replacement in APIKeyFormat.alphabet where replacement != original {
                    bytes[position] = replacement
                    let changed = String(decoding: bytes, as: UTF8.self)
                    #expect(throws: APIKeyFormatError.checksumMismatch) { try APIKey(parsing: changed) }
                }
                bytes[position] = original
            }
            #expect((try? APIKey(parsing: key)) != nil)
        }
    }

    @Test("Generated keys: checksummed, first checksum digit A–D, matched by the documented scanner expression")
    func generated() throws {
        let expression = try Regex(#"\bsntr_[A-Za-z0-9_-]{26}[A-D][A-Za-z0-9_-]{5}\b"#)
        for _ in 0..<1000 {
            let key = APIKey.generate()
            let text = key.revealSecret()
            #expect(key.hasValidChecksum)
            #expect(try expression.wholeMatch(in: text) != nil)
            #expect("ABCD".contains(text[text.index(text.startIndex, offsetBy: 31)]))
        }
        // A format without a checksum makes 32 random characters, and accepts any.
        let plain = try APIKeyFormat(prefix: "acme_", bodyLength: 32)
        #expect(!plain.checksum.isGenerated)
        #expect((try? APIKey(parsing: "acme_abcdefghijklmnopqrstuvwxyz123456", format: plain)) != nil)
        let custom = try APIKeyFormat(prefix: "acme_", bodyLength: 40, checksum: .required)
        let made = APIKey.generate(format: custom)
        #expect(made.hasValidChecksum && (try? APIKey(parsing: made.revealSecret(), format: custom)) != nil)
        #expect(throws: APIKeyFormatError.invalidFormat) {
            try APIKeyFormat(prefix: "acme_", bodyLength: 27, checksum: .required)  // 21 random: too few
        }
    }

    @Test("The gate refuses a bad checksum as an invalid key, before hashing or any look-up")
    func gateRejectsEarly() async throws {
        let store = InstrumentedStore()
        let gate = RequestGate(keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        func evaluate(_ key: String) async throws -> GateDecision {
            try await gate.evaluate(
                GateRequest(
                    method: "GET", target: "/public/api/v1/sales", authorization: ["Bearer " + key], clientAddress: nil)
            )
        }
        let legacy = try await evaluate("sntr_abcdefghijklmnopqrstuvwxyz123456")
        #expect(legacy.status == 401)
        #expect(legacy.refusal?.reason == .invalidKey(.malformed(.checksumMismatch)))
        #expect(store.lookups.load(ordering: .relaxed) == 0)
        let unknown = try await evaluate(APIKey.generate().revealSecret())
        #expect(unknown.refusal?.reason == .invalidKey(.unknown))
        #expect(store.lookups.load(ordering: .relaxed) == 1)
        // During a migration the legacy key is looked up (and works once imported).
        let manager = KeyManager(store: store, format: .sentryAcceptingLegacyKeys)
        let old = try APIKey(parsing: "sntr_abcdefghijklmnopqrstuvwxyz123456", format: .sentryAcceptingLegacyKeys)
        try await manager.importKey(old, for: MerchantID("m")!, name: "legacy", scopes: [.salesRead])
        let migrating = RequestGate(manager: manager, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        let allowed = try await migrating.evaluate(
            GateRequest(
                method: "GET", target: "/public/api/v1/sales", authorization: ["Bearer " + old.revealSecret()],
                clientAddress: nil))
        #expect(allowed.status == 200)
        // Still refused where legacy keys are not accepted.
        #expect(try await evaluate(old.revealSecret()).status == 401)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
