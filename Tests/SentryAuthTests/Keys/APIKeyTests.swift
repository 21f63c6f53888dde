import Testing

@testable import SentryAuth

@Suite("API keys")
struct APIKeyTests {
    static let documented = "sntr_abcdefghijklmnopqrstuvwxyz123456"

    @Test("The documentation's example key has no checksum: a legacy key, accepted only during a migration")
    func documentedKey() throws {
        #expect(throws: APIKeyFormatError.checksumMismatch) { try APIKey(parsing: Self.documented) }
        let key = try APIKey(parsing: Self.documented, format: .sentryAcceptingLegacyKeys)
        #expect(key.revealSecret() == Self.documented)
        #expect(key.displayHint == "sntr_…3456")
        #expect(!key.hasValidChecksum)
        #expect(key.digest == KeyDigest.SHA256.hash(Array(Self.documented.utf8)))
        #expect(key == (try APIKey(parsing: Self.documented[...], format: .sentryAcceptingLegacyKeys)))
        // The same 26 leading characters with their checksum: a valid key.
        let checksummed = try APIKey(parsing: "sntr_abcdefghijklmnopqrstuvwxyzDprpqN")
        #expect(checksummed.hasValidChecksum && checksummed.displayHint == "sntr_…rpqN")
    }

    @Test(
        "Every format error is named, with position or lengths",
        arguments: [
            ("", APIKeyFormatError.empty),
            ("sntr", .wrongPrefix(expected: "sntr_")),
            ("SNTR_abcdefghijklmnopqrstuvwxyz123456", .wrongPrefix(expected: "sntr_")),
            ("sk_live_abcdefghijklmnopqrstuvwxyz123456", .wrongPrefix(expected: "sntr_")),
            (" sntr_abcdefghijklmnopqrstuvwxyz123456", .wrongPrefix(expected: "sntr_")),
            ("Bearer sntr_abcdefghijklmnopqrstuvwxyz123456", .wrongPrefix(expected: "sntr_")),
            ("sntr_", .wrongLength(expected: 37, actual: 5)),
            ("sntr_abcdefghijklmnopqrstuvwxyz12345", .wrongLength(expected: 37, actual: 36)),
            ("sntr_abcdefghijklmnopqrstuvwxyz1234567", .wrongLength(expected: 37, actual: 38)),
            ("sntr_abcdefghijklmnopqrstuvwxyz123456 ", .wrongLength(expected: 37, actual: 38)),
            ("sntr_abcdefghijklmnopqrstuvwxyz123456\n", .wrongLength(expected: 37, actual: 38)),
            ("sntr_abcdefghijklmnopqrstuvwxyz12345=", .invalidCharacter(position: 37)),
            ("sntr_+bcdefghijklmnopqrstuvwxyz123456", .invalidCharacter(position: 6)),
            ("sntr_abcdefghijklmnop/rstuvwxyz123456", .invalidCharacter(position: 22)),
            ("sntr_abcdefghijklmnop rstuvwxyz123456", .invalidCharacter(position: 22)),
            ("sntr_abcdefghijklmnop\0rstuvwxyz123456", .invalidCharacter(position: 22)),
            ("sntr_abcdefghijklmnopqrstuvwxyz.23456", .invalidCharacter(position: 32)),
            ("sntr_ábcdefghijklmnopqrstuvwxyz12345", .invalidCharacter(position: 6)),
        ])
    func formatErrors(text: String, expected: APIKeyFormatError) {
        #expect(throws: expected) { try APIKey(parsing: text) }
    }

    @Test("The eight-at-a-time alphabet check agrees with RFC 4648's alphabet for every byte at every position")
    func alphabetCheckEveryByte() {
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(APIKeyFormat.isBase64URL(byte) == alphabet.contains(byte), "byte \(byte)")
            // 19 bytes: two whole words and a tail of three; the byte at each position in turn.
            for position in 0..<19 {
                var bytes = [UInt8](repeating: UInt8(ascii: "Q"), count: 19)
                bytes[position] = byte
                let all = bytes.withUnsafeBufferPointer { APIKeyFormat.isBase64URL($0) }
                #expect(all == alphabet.contains(byte), "byte \(byte) at \(position)")
            }
        }
        // A key whose only bad character is in the middle of a word is refused with its position.
        #expect(throws: APIKeyFormatError.invalidCharacter(position: 17)) {
            try APIKey(parsing: "sntr_abcdefghijk~mnopqrstuvwxyzDprpqN")
        }
    }

    @Test("Error messages never contain the presented text")
    func errorsDoNotEcho() {
        let attempts = [
            "sntr_SECRETSECRETSECRETSECRETSECRET12=", "sntr_SECRETSECRETSECRETSECRETSECRET123", "xxxx_SECRETSECRET",
            "sntr_SECRETSECRET",
        ]
        for attempt in attempts {
            do {
                _ = try APIKey(parsing: attempt)
                Issue.record("parsed \(attempt.count) characters that should fail")
            } catch {
                #expect(!error.description.contains("SECRET"))
                #expect(!String(reflecting: error).contains("SECRET"))
            }
        }
    }

    @Test("Custom formats: own prefix and length; bad formats refused")
    func customFormats() throws {
        let format = try APIKeyFormat(prefix: "acme_live_", bodyLength: 40)
        let key = APIKey.generate(format: format)
        #expect(key.revealSecret().hasPrefix("acme_live_"))
        #expect(key.revealSecret().utf8.count == 50)
        #expect(try APIKey(parsing: key.revealSecret(), format: format) == key)
        #expect(throws: APIKeyFormatError.wrongPrefix(expected: "sntr_")) {
            try APIKey(parsing: key.revealSecret())
        }
        for (prefix, length) in [
            ("", 32), ("acme", 32), ("ac me_", 32), ("acme-", 32), ("acme_", 21), ("acme_", 257),
            (String(repeating: "a", count: 32) + "_", 32),
        ] {
            #expect(throws: APIKeyFormatError.invalidFormat) { try APIKeyFormat(prefix: prefix, bodyLength: length) }
        }
        #expect(APIKeyFormat.sentry.keyLength == 37)
    }

    @Test("Generated keys: prefix, length, alphabet, and they parse")
    func generatedShape() throws {
        for _ in 0..<1000 {
            let key = APIKey.generate()
            let text = key.revealSecret()
            #expect(text.hasPrefix("sntr_"))
            #expect(text.utf8.count == 37)
            #expect(text.utf8.dropFirst(5).allSatisfy(APIKeyFormat.isBase64URL))
            #expect(try APIKey(parsing: text) == key)
        }
    }

    @Test("100,000 generated keys are all distinct")
    func uniqueness() {
        var seen = Set<String>()
        for _ in 0..<100_000 { seen.insert(APIKey.generate().revealSecret()) }
        #expect(seen.count == 100_000)
    }

    /// Chi-square test of uniformity, per random position, over 100,000 system-generated keys.
    /// df = 63. The threshold 180 has a false-failure probability below 1e-12 per position
    /// (Wilson–Hilferty), so below 1e-10 for the whole test; a generator with modulo bias
    /// (e.g. `byte % 62`), a missing character or a stuck bit scores in the thousands.
    @Test("Every character is equally likely at every position (chi-square, p < 1e-10 false failure)")
    func uniformity() throws {
        let positions = 26  // the random characters; the last 6 are the checksum, determined by them
        let samples = 100_000
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 64), count: positions)
        var index = [UInt8: Int]()
        for (value, character) in APIKeyFormat.alphabet.enumerated() { index[character] = value }
        for _ in 0..<samples {
            let body = APIKey.generate().secret.dropFirst(5).prefix(positions)
            for (position, character) in body.enumerated() {
                counts[position][try #require(index[character])] += 1
            }
        }
        let expected = Double(samples) / 64
        for position in 0..<positions {
            let chiSquare = counts[position].reduce(0.0) { sum, observed in
                sum + (Double(observed) - expected) * (Double(observed) - expected) / expected
            }
            #expect(chiSquare < 180, "position \(position + 1): chi-square \(chiSquare)")
        }
        // The test has power: a biased generator fails it.
        var biased = SplitMix64(seed: 1)
        var biasedCounts = [Int](repeating: 0, count: 64)
        for _ in 0..<samples { biasedCounts[Int(UInt8.random(in: 0...255, using: &biased)) % 62] += 1 }
        let biasedChiSquare = biasedCounts.reduce(0.0) {
            $0 + (Double($1) - expected) * (Double($1) - expected) / expected
        }
        #expect(biasedChiSquare > 1000)
    }

    @Test("Generation from a seeded generator is reproducible and uses six bits per character")
    func seededGeneration() {
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        #expect(APIKey.generate(using: &first) == APIKey.generate(using: &second))
        var zeros = ZeroGenerator()
        // 26 random "A"s, then their checksum (the same as Python's zlib.crc32 gives: checksum-vectors.txt).
        #expect(APIKey.generate(using: &zeros).revealSecret() == "sntr_" + String(repeating: "A", count: 26) + "Cq7NgX")
    }
}

private struct ZeroGenerator: RandomNumberGenerator {
    mutating func next() -> UInt64 { 0 }
}

@Suite("API key redaction")
struct APIKeyRedactionTests {
    let key = try! APIKey(parsing: "sntr_SECRETbodySECRETbodySECRET123456", format: .sentryAcceptingLegacyKeys)
    let hidden = "SECRETbody"

    @Test("description, interpolation, debugDescription, String(reflecting:) show only the hint")
    func printing() {
        let outputs = [
            key.description, "\(key)", key.debugDescription, String(reflecting: key), String(describing: key),
            "\([key])", "\(Optional(key) as Any)", String(reflecting: [key]),
        ]
        for output in outputs {
            #expect(!output.contains(hidden), "leaked through: \(output.replacingOccurrences(of: hidden, with: "…"))")
            #expect(output.contains("sntr_…3456"))
        }
    }

    @Test("dump and Mirror show no secret")
    func reflection() {
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains(hidden))
        #expect(dumped.contains("sntr_…3456"))
        let mirror = Mirror(reflecting: key)
        #expect(mirror.children.isEmpty)
        var nested = ""
        dump(CreatedKey(key: key, record: KeyRecordFixtures.record()), to: &nested)
        #expect(!nested.contains(hidden))
    }
}

enum KeyRecordFixtures {
    static func record(scopes: ScopeSet = [.customerRead]) -> KeyRecord {
        let key = APIKey.generate()
        return KeyRecord(
            id: .generate(), merchantID: .acme, name: "fixture", scopes: scopes, createdAt: testEpoch,
            displayHint: key.displayHint, digest: key.digest)
    }
}
