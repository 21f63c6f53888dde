import Testing

@testable import SentryAuth

/// The eight-bytes-at-a-time scans of a request target against their byte-by-byte definitions.
@Suite("Path scanning")
struct PathScanTests {
    /// Bytes that matter to the scanner: every class of character, the escapes' hex digits, and
    /// bytes that must never pass (controls, DEL, non-ASCII, `#`, `;`, `\`, space).
    static let alphabet: [UInt8] =
        Array("aZq09-_.~!$&'()*+,=:@/?%#; \\2F4a".utf8) + [0x00, 0x09, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]

    @Test("Allowed raw path bytes: the bit masks agree with RFC 3986's lists for all 256 bytes")
    func allowedRawEveryByte() {
        for byte in UInt8.min...UInt8.max {
            #expect(PathTemplate.isAllowedRaw(byte) == PathTemplate.isAllowedRawByDefinition(byte), "byte \(byte)")
        }
    }

    @Test("Segment ends and query checks agree with the byte-by-byte rules on 200,000 random targets")
    func randomTargets() {
        var random = SplitMix64(seed: 0x5EED_0F_5CA7)
        var scanned = (ends: 0, refusals: 0, goodQueries: 0, badQueries: 0)
        for _ in 0..<200_000 {
            let count = Int(random.next() % 41)
            let bytes = (0..<count).map { _ in Self.alphabet[Int(random.next() % UInt64(Self.alphabet.count))] }
            bytes.withUnsafeBufferPointer { buffer in
                let stop = bytes.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? count
                let segment = UnsafeBufferPointer(rebasing: buffer[..<stop])
                let acceptable =
                    segment.isEmpty || PathTemplate.isDotSegment(segment) || PathTemplate.isCanonicalSegment(segment)
                let end = EndpointPolicy.segmentEnd(buffer, from: 0)
                #expect(end == (acceptable ? stop : nil), "\(bytes)")
                if end == nil { scanned.refusals += 1 } else { scanned.ends += 1 }

                let query = !bytes.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: "#") }
                #expect(EndpointPolicy.isAcceptableQuery(buffer) == query, "\(bytes)")
                if query { scanned.goodQueries += 1 } else { scanned.badQueries += 1 }
            }
        }
        // Both outcomes of both checks were exercised, many times.
        #expect(scanned.ends > 20_000 && scanned.refusals > 20_000)
        #expect(scanned.goodQueries > 5_000 && scanned.badQueries > 20_000)
    }

    @Test("A long canonical target with an escape and a query matches; one bad byte anywhere refuses it")
    func longTargets() throws {
        let policy = try EndpointPolicy {
            EndpointPolicy.Route(.get, "/files/{name}/versions/{version}", requires: [])
        }
        let name = String(repeating: "abcdefgh-_09", count: 20) + "%40" + String(repeating: "x", count: 13)
        let target = "/files/\(name)/versions/v2?select=a,b&limit=10"
        let match = try #require(policy.match(method: "GET", target: target))
        #expect(match.parameter("name") == name[...] && match.parameter("version") == "v2")
        for position in target.utf8.indices.dropFirst() {
            for bad: UInt8 in [0x00, 0x20, 0x23, 0x7F, 0xC3] {
                var bytes = Array(target.utf8)
                let offset = target.utf8.distance(from: target.utf8.startIndex, to: position)
                bytes[offset] = bad
                let changed = String(decoding: bytes, as: UTF8.self)
                #expect(policy.match(method: "GET", target: changed) == nil, "byte \(bad) at \(offset)")
            }
        }
    }
}
