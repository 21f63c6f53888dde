import Testing

@testable import SentryAuth

/// One `Len`/`Msg`/`MD` entry of a NIST CAVP `.rsp` file.
struct NISTMessageVector: Sendable, CustomStringConvertible {
    let bitLength: Int
    let message: [UInt8]
    let digest: String
    var description: String { "Len = \(bitLength)" }

    static func load(_ file: String) throws -> [NISTMessageVector] {
        var vectors: [NISTMessageVector] = []
        var length: Int?
        var message: [UInt8]?
        for line in try TestResources.text(file).split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "Len": length = Int(parts[1])
            case "Msg": message = [UInt8](hex: parts[1])
            case "MD":
                let bits = try #require(length)
                let bytes = try #require(message)
                // A zero-length message is written "Msg = 00" in the CAVP files.
                vectors.append(
                    NISTMessageVector(bitLength: bits, message: Array(bytes.prefix(bits / 8)), digest: parts[1]))
            default: continue
            }
        }
        return vectors
    }
}

@Suite("SHA-256")
struct SHA256Tests {
    @Test("NIST CAVP SHA256ShortMsg: all 65 vectors")
    func shortMessages() throws {
        let vectors = try NISTMessageVector.load("SHA256ShortMsg.rsp")
        #expect(vectors.count == 65)
        for vector in vectors {
            #expect(KeyDigest.SHA256.hash(vector.message).hex == vector.digest, "\(vector)")
        }
    }

    @Test("NIST CAVP SHA256LongMsg: all 64 vectors")
    func longMessages() throws {
        let vectors = try NISTMessageVector.load("SHA256LongMsg.rsp")
        #expect(vectors.count == 64)
        for vector in vectors {
            #expect(KeyDigest.SHA256.hash(vector.message).hex == vector.digest, "\(vector)")
        }
    }

    @Test("NIST CAVP SHA256Monte: 100 checkpoints of the SHAVS Monte Carlo test")
    func monteCarlo() throws {
        let lines = try TestResources.text("SHA256Monte.rsp").split(whereSeparator: \.isNewline)
        let seedLine = try #require(lines.first { $0.hasPrefix("Seed") })
        var seed = [UInt8](hex: seedLine.split(separator: "=")[1].trimmingCharacters(in: .whitespaces))
        let expected = lines.filter { $0.hasPrefix("MD") }.map {
            $0.split(separator: "=")[1].trimmingCharacters(in: .whitespaces)
        }
        #expect(expected.count == 100)
        for checkpoint in expected {
            var md = [seed, seed, seed]
            for _ in 3..<1003 {
                let next = KeyDigest.SHA256.hash(md[0] + md[1] + md[2]).bytes
                md = [md[1], md[2], next]
            }
            seed = md[2]
            #expect(seed.hex == checkpoint)
        }
    }

    @Test("Every length 0…1,024 agrees with Python's hashlib")
    func differential() throws {
        let lines = try TestResources.text("sha256-differential.txt").split(whereSeparator: \.isNewline)
        let messageLine = try #require(lines.first { $0.hasPrefix("M = ") })
        let message = [UInt8](hex: messageLine.dropFirst(4))
        #expect(message.count == 1024)
        var checked = 0
        for line in lines where !line.hasPrefix("#") && !line.hasPrefix("M") {
            let parts = line.split(separator: " ")
            let length = try #require(Int(parts[0]))
            #expect(KeyDigest.SHA256.hash(message[..<length]).hex == parts[1], "length \(length)")
            checked += 1
        }
        #expect(checked == 1025)
    }

    @Test("Streaming in pieces of every size gives the one-shot digest")
    func streaming() throws {
        var generator = SplitMix64(seed: 7)
        let message = (0..<777).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = KeyDigest.SHA256.hash(message)
        for pieceSize in [1, 3, 55, 56, 63, 64, 65, 127, 128, 500] {
            var hasher = KeyDigest.SHA256()
            var offset = 0
            while offset < message.count {
                let end = min(offset + pieceSize, message.count)
                hasher.update(message[offset..<end])
                offset = end
            }
            #expect(hasher.finalize() == expected, "piece size \(pieceSize)")
        }
        // A non-contiguous sequence takes the slow path.
        var lazy = KeyDigest.SHA256()
        lazy.update(message.lazy.map { $0 })
        #expect(lazy.finalize() == expected)
    }

    @Test("FIPS 180-4 example: one-million 'a'")
    func millionA() {
        var hasher = KeyDigest.SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        #expect(hasher.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
