import Foundation
import Testing

@testable import SentryAuth

@Suite("IP prefixes")
struct IPPrefixTests {
    /// Go netip TestPrefix: (prefix, contains, does not contain).
    static let goContains: [(String, [String], [String])] = [
        ("192.168.0.0/24", ["192.168.0.1", "192.168.0.55"], ["192.168.1.1", "1.1.1.1"]),
        ("192.168.1.1/32", ["192.168.1.1"], ["192.168.1.2"]),
        (
            "100.64.0.0/10",
            ["100.64.0.0", "100.64.0.1", "100.81.251.94", "100.100.100.100", "100.127.255.254", "100.127.255.255"],
            ["100.63.255.255", "100.128.0.0"]
        ),
        ("2001:db8::/96", ["2001:db8::aaaa:bbbb", "2001:db8::1"], ["2001:db8::1:aaaa:bbbb", "2001:db9::"]),
        ("0.0.0.0/0", ["192.168.0.1", "1.1.1.1"], ["2001:db8::1"]),
        ("::/0", ["::1", "2001:db8::1"], ["192.0.2.1"]),
        ("2000::/3", ["2001:db8::1"], ["fe80::1"]),
    ]

    @Test("Go netip TestPrefix: contains and does-not-contain, and canonical text")
    func goPrefixes() throws {
        for (text, inside, outside) in Self.goContains {
            let prefix = try IPPrefix(text)
            #expect(prefix.description == text)
            for address in inside { #expect(prefix.contains(try IPAddress(address)), "\(text) ∋ \(address)") }
            for address in outside { #expect(!prefix.contains(try IPAddress(address)), "\(text) ∌ \(address)") }
        }
    }

    @Test(
        "Go netip TestParsePrefixError cases, plus signs, leading zeros and zones",
        arguments: [
            ("192.168.0.0", IPAddressError.missingPrefixLength),
            ("1.257.1.1/24", .ipv4FieldTooLarge),
            ("1.1.1.0/q", .invalidPrefixLength),
            ("1.1.1.0/-1", .invalidPrefixLength),
            ("1.1.1.0/33", .prefixLengthOutOfRange(maximum: 32)),
            ("2001::/129", .prefixLengthOutOfRange(maximum: 128)),
            ("1.1.1.0%a/24", .ipv4Zone),
            ("2001:db8::%a/32", .zoneInPrefix),
            ("1.2.3.4/33", .prefixLengthOutOfRange(maximum: 32)),
            ("1.2.3.0/+24", .invalidPrefixLength),
            ("1.2.3.0/024", .invalidPrefixLength),
            ("1.2.3.0/", .invalidPrefixLength),
            ("1.2.3.0/ 24", .invalidPrefixLength),
            ("1.2.3.0/24 ", .invalidPrefixLength),
            ("1.2.3.0/1000", .invalidPrefixLength),
            ("/0", .empty),
            ("/24", .empty),
            ("", .empty),
            ("1.2.3.0/24/8", .invalidPrefixLength),
            ("010.0.0.0/8", .ipv4LeadingZero),
        ])
    func parseErrors(input: String, expected: IPAddressError) {
        #expect(throws: expected) { try IPPrefix(input) }
    }

    @Test("Host bits set is an error that suggests the masked form")
    func hostBits() {
        let cases = [
            ("10.0.0.1/8", "10.0.0.0/8"), ("1.2.3.4/24", "1.2.3.0/24"), ("192.168.0.255/24", "192.168.0.0/24"),
            ("2100::/3", "2000::/3"), ("2001:db8::1/32", "2001:db8::/32"), ("5.5.5.5/0", "0.0.0.0/0"),
        ]
        for (input, suggestion) in cases {
            #expect(throws: IPAddressError.hostBitsSet(suggestion: suggestion)) { try IPPrefix(input) }
        }
        #expect(IPAddressError.hostBitsSet(suggestion: "10.0.0.0/8").description.contains("did you mean 10.0.0.0/8?"))
    }

    @Test("Go netip TestPrefixMasking: masking an address to a length")
    func masking() throws {
        let cases = [
            ("192.0.2.0", 16, "192.0.0.0/16"), ("255.255.255.255", 20, "255.255.240.0/20"),
            ("100.98.156.66", 10, "100.64.0.0/10"), ("2001:db8::1", 32, "2001:db8::/32"),
            ("fe80::dead:beef:dead:beef", 96, "fe80::dead:beef:0:0/96"), ("aaaa::", 4, "a000::/4"), ("::", 63, "::/63"),
            ("2001:db8::1%eth0", 32, "2001:db8::/32"),
        ]
        for (address, length, expected) in cases {
            #expect(try IPPrefix(masking: try IPAddress(address), toLength: length).description == expected)
        }
        #expect(throws: IPAddressError.prefixLengthOutOfRange(maximum: 32)) {
            try IPPrefix(masking: IPAddress(192, 0, 2, 0), toLength: 255)
        }
        #expect(throws: IPAddressError.prefixLengthOutOfRange(maximum: 128)) {
            try IPPrefix(masking: try IPAddress("2001:db8::1"), toLength: 255)
        }
    }

    @Test("Zoned addresses never match; mapped addresses are not unmapped by a bare prefix")
    func zonesAndMapping() throws {
        let prefix = try IPPrefix("fe80::/10")
        #expect(prefix.contains(try IPAddress("fe80::1")))
        #expect(!prefix.contains(try IPAddress("fe80::1%eth0")))
        #expect(!(try IPPrefix("10.0.0.0/8")).contains(try IPAddress("::ffff:10.1.2.3")))
        #expect(try IPPrefix("10.0.0.0/8").lastAddress == IPAddress(10, 255, 255, 255))
        #expect(try IPPrefix("::/0").lastAddress.value == .max)
    }
}

@Suite("IP allowlists")
struct IPAllowlistTests {
    @Test("Bare addresses, both families, IPv4-mapped clients matched as IPv4")
    func basics() throws {
        let allowlist = try IPAllowlist(parsing: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
        for inside in [
            "203.0.113.0", "203.0.113.255", "198.51.100.7", "2001:db8::1", "::ffff:203.0.113.9",
            "::FFFF:198.51.100.7",
        ] {
            #expect(allowlist.contains(try IPAddress(inside)), "\(inside)")
        }
        for outside in [
            "203.0.114.0", "198.51.100.8", "2001:db9::", "::203.0.113.9", "2001:db8::1%eth0",
            "64:ff9b::cb00:7109",
        ] {
            #expect(!allowlist.contains(try IPAddress(outside)), "\(outside)")
        }
        #expect(!IPAllowlist().contains(IPAddress(1, 2, 3, 4)))
    }

    @Test("A mapped client is an IPv4 client: IPv6 entries covering ::ffff:0:0/96 do not admit it")
    func mappedClientsAreIPv4() throws {
        for entry in ["::/0", "::/80", "::fffe:0:0/95"] {
            let allowlist = try IPAllowlist(parsing: [entry])
            #expect(!allowlist.contains(try IPAddress("::ffff:192.0.2.1")), "\(entry)")
            #expect(!allowlist.contains(IPAddress(192, 0, 2, 1)), "\(entry)")
        }
        #expect(try IPAllowlist(parsing: ["::/0"]).contains(try IPAddress("2001:db8::1")))
        #expect(try IPAllowlist(parsing: ["::ffff:0:0/96"]).contains(try IPAddress("::ffff:192.0.2.1")))
        #expect(try IPAllowlist(parsing: ["::ffff:0:0/96"]).description == "0.0.0.0/0")
    }

    @Test("Overlapping, adjacent and mapped entries merge into the smallest prefix cover")
    func merging() throws {
        let cases: [([String], String)] = [
            (["10.0.0.0/9", "10.128.0.0/9"], "10.0.0.0/8"),
            (["10.0.0.0/8", "10.1.0.0/16", "10.2.3.4"], "10.0.0.0/8"),
            (["192.0.2.1", "192.0.2.0", "192.0.2.2", "192.0.2.3"], "192.0.2.0/30"),
            (["192.0.2.1", "192.0.2.2"], "192.0.2.1/32,192.0.2.2/32"),
            (["::ffff:10.0.0.0/104", "10.0.0.0/8"], "10.0.0.0/8"),
            (["::/0", "2001:db8::/32", "0.0.0.0/0"], "0.0.0.0/0,::/0"),
            (["255.255.255.255", "255.255.255.254"], "255.255.255.254/31"),
            (["2001:db8::/33", "2001:db8:8000::/33"], "2001:db8::/32"),
            ([], ""),
        ]
        for (entries, expected) in cases {
            #expect(try IPAllowlist(parsing: entries).description == expected, "\(entries)")
        }
        #expect(
            try IPAllowlist(parsingList: " 10.0.0.0/8 ,192.0.2.7") == IPAllowlist(parsing: ["192.0.2.7", "10.0.0.0/8"]))
    }

    @Test("The masked form is readable from the error (also inside a list entry), and only for host bits")
    func suggestedPrefix() {
        do {
            _ = try IPAllowlist(parsing: ["192.0.2.7", "2001:db8::1/32"])
            Issue.record("accepted a prefix with host bits set")
        } catch {
            #expect(error.suggestedPrefix == "2001:db8::/32")
        }
        #expect(IPAddressError.hostBitsSet(suggestion: "10.0.0.0/8").suggestedPrefix == "10.0.0.0/8")
        #expect(IPAddressError.zoneInPrefix.suggestedPrefix == nil)
        #expect(IPAddressError.invalidEntry(index: 0, reason: .ipv4FieldCount).suggestedPrefix == nil)
        #expect(IPAddressError.hostBitsSet(suggestion: "10.0.0.0/8") != .hostBitsSet(suggestion: "10.0.0.0/9"))
    }

    @Test("Bad entries are named by position, with the reason")
    func errors() {
        #expect(throws: IPAddressError.invalidEntry(index: 1, reason: .hostBitsSet(suggestion: "10.0.0.0/8"))) {
            try IPAllowlist(parsing: ["192.0.2.7", "10.0.0.1/8"])
        }
        #expect(throws: IPAddressError.invalidEntry(index: 0, reason: .zoneInPrefix)) {
            try IPAllowlist(parsing: ["fe80::1%eth0"])
        }
        #expect(throws: IPAddressError.invalidEntry(index: 2, reason: .empty)) {
            try IPAllowlist(parsingList: "10.0.0.0/8,192.0.2.7,")
        }
    }

    @Test("Codable as the canonical list of strings")
    func codable() throws {
        let allowlist = try IPAllowlist(parsing: ["2001:DB8::/32", "10.0.0.0/9", "10.128.0.0/9"])
        let json = try JSONEncoder().encode(allowlist)
        #expect(String(decoding: json, as: UTF8.self) == #"["10.0.0.0\/8","2001:db8::\/32"]"#)
        #expect(try JSONDecoder().decode(IPAllowlist.self, from: json) == allowlist)
        #expect(throws: IPAddressError.self) {
            try JSONDecoder().decode(IPAllowlist.self, from: Data(#"["127.1"]"#.utf8))
        }
    }

    @Test("100,000 random prefixes: contains agrees with a linear scan, and holds every listed address")
    func largeListOracle() throws {
        var random = SplitMix64(seed: 2026)
        var prefixes: [IPPrefix] = []
        for _ in 0..<100_000 {
            if random.next() % 4 == 0 {
                let address = IPAddress(ipv6: UInt128(0x2001_0db8) << 96 | UInt128(random.next()) << 32)
                prefixes.append(try IPPrefix(masking: address, toLength: 32 + Int(random.next() % 97)))
            } else {
                let address = IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
                prefixes.append(try IPPrefix(masking: address, toLength: 16 + Int(random.next() % 17)))
            }
        }
        let allowlist = IPAllowlist(prefixes)
        var hits = 0
        for prefix in prefixes {
            #expect(allowlist.contains(prefix.network) && allowlist.contains(prefix.lastAddress))
        }
        for index in 0..<400 {
            let address: IPAddress
            if index % 2 == 0 {
                // Pick an address near a listed prefix, so both answers occur often.
                let prefix = prefixes[Int(random.next() % UInt64(prefixes.count))]
                address = IPAddress(
                    family: prefix.network.family, value: prefix.network.value ^ UInt128(random.next() % 512))
            } else {
                address = IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
            }
            let expected = prefixes.contains { $0.contains(address) }
            #expect(allowlist.contains(address) == expected, "\(address)")
            if expected { hits += 1 }
        }
        #expect(hits > 40 && hits < 360)
        // The canonical cover holds exactly the same addresses.
        let rebuilt = IPAllowlist(allowlist.prefixes)
        #expect(rebuilt == allowlist)
    }

    @Test("A key's allowlist: empty allows any address; otherwise a listed one, and never an unknown one")
    func keyPolicy() throws {
        let open = KeyRecordFixtures.record()
        #expect(open.isAllowed(from: nil))
        #expect(open.isAllowed(from: IPAddress(8, 8, 8, 8)))
        let key = APIKey.generate()
        let restricted = KeyRecord(
            id: .generate(), merchantID: .acme, name: "pos", scopes: [],
            allowlist: try IPAllowlist(parsing: ["192.0.2.0/24"]),
            createdAt: testEpoch, displayHint: key.displayHint, digest: key.digest)
        #expect(!restricted.isAllowed(from: nil))
        #expect(restricted.isAllowed(from: IPAddress(192, 0, 2, 1)))
        #expect(restricted.isAllowed(from: try IPAddress("::ffff:192.0.2.1")))
        #expect(!restricted.isAllowed(from: IPAddress(192, 0, 3, 1)))
    }
}

@Suite("Comma-separated lists are split on the comma byte")
struct CommaListTests {
    @Test("A mark combining with a comma neither joins two entries nor hides one")
    func combiningMarkAfterComma() throws {
        // As Characters, ",\u{30D}" is one grapheme and no comma: the list would read as one entry.
        var reason: IPAddressError?
        do { _ = try IPAddress("\u{30D}192.0.2.7") } catch { reason = error }
        let expected = IPAddressError.invalidEntry(index: 1, reason: try #require(reason))
        #expect(throws: expected, "the second entry is the bad one") {
            try IPAllowlist(parsingList: "10.0.0.0/8,\u{30D}192.0.2.7")
        }
        #expect(
            try IPAllowlist(parsingList: "10.0.0.0/8, 192.0.2.7") == IPAllowlist(parsing: ["10.0.0.0/8", "192.0.2.7"]))
        #expect(throws: ScopeError.malformedScope(ScopeError.safeExcerpt("\u{30D}sales:read"))) {
            try ScopeSet(parsing: "customer:read,\u{30D}sales:read")
        }
        #expect(try ScopeSet(parsing: "customer:read, sales:read") == [.customerRead, .salesRead])
    }
}
