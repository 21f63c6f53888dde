import Foundation
import Testing

@testable import SentryAuth

/// Cases carried over from Go's `src/net/netip/netip_test.go` (TestParseAddr, TestIs4In6).
enum GoNetipVectors {
    /// (input, canonical text) for every valid case of TestParseAddr.
    static let validAddresses: [(String, String)] = [
        ("0.0.0.0", "0.0.0.0"),
        ("192.168.140.255", "192.168.140.255"),
        ("::", "::"),
        ("::1", "::1"),
        ("fd7a:115c:a1e0:ab12:4843:cd96:626b:430b", "fd7a:115c:a1e0:ab12:4843:cd96:626b:430b"),
        ("fd7a:115c::626b:430b", "fd7a:115c::626b:430b"),
        ("fd7a:115c:a1e0:ab12:4843:cd96::", "fd7a:115c:a1e0:ab12:4843:cd96::"),
        ("fd7a:115c:a1e0:ab12:4843:cd96:626b::", "fd7a:115c:a1e0:ab12:4843:cd96:626b:0"),
        ("fd7a:115c:a1e0::4843:cd96:626b:430b", "fd7a:115c:a1e0:0:4843:cd96:626b:430b"),
        ("::ffff:192.168.140.255", "::ffff:192.168.140.255"),
        ("fd7a:115c:a1e0:ab12:4843:cd96:626b:430b%eth0", "fd7a:115c:a1e0:ab12:4843:cd96:626b:430b%eth0"),
        ("1:2::ffff:192.168.140.255%eth1", "1:2::ffff:c0a8:8cff%eth1"),
        ("::ffff:192.168.140.255%eth1", "::ffff:192.168.140.255%eth1"),
        ("FD9E:1A04:F01D::1", "fd9e:1a04:f01d::1"),
    ]

    /// Every invalid case of TestParseAddr, plus the wrong cases among its valid table.
    static let invalidAddresses: [String] = [
        "010.000.015.001", "000001.00000002.00000003.000000004", "::ffff:1.2.03.4", "", "bad", "1234",
        "1.2.3.4%eth0", ".1.2.3", "1.2.3.", "1..2.3", "1.2.3.4.5", "0300.0250.0214.0377", "0xc0.0xa8.0x8c.0xff",
        "192.168.12345", "127.0.1", "192.1234567", "127.1", "192.168.300.1", "192.168.0.1.5.6", "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9", "1:2:3:4::5:6:7:8", "fe801::1", "fe80:tail:scal:e::", "fe80::1%",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:192.168.140.255", "ffff::ffff:ffff:ffff:ffff:ffff:ffff:192.168.140.255",
        "::ffff:192.168.140.bad", "fe80::1::1", "fe80:1?:1", "fe80:",
    ]

    /// TestIs4In6: (input, is IPv4-mapped, unmapped text).
    static let mapped: [(String, Bool, String)] = [
        ("::ffff:c000:0280", true, "192.0.2.128"),
        ("::ffff:192.0.2.128", true, "192.0.2.128"),
        ("::ffff:192.0.2.128%eth0", true, "192.0.2.128"),
        ("::fffe:c000:0280", false, "::fffe:c000:280"),
        ("::ffff:127.1.2.3", true, "127.1.2.3"),
        ("::ffff:7f01:0203", true, "127.1.2.3"),
        ("0:0:0:0:0000:ffff:127.1.2.3", true, "127.1.2.3"),
        ("0:0:0:0::ffff:127.1.2.3", true, "127.1.2.3"),
        ("::1", false, "::1"),
        ("1.2.3.4", false, "1.2.3.4"),
    ]
}

@Suite("IP addresses")
struct IPAddressTests {
    @Test("Go netip valid cases: parse, canonical text, and text re-parses to the same address")
    func goValid() throws {
        for (input, canonical) in GoNetipVectors.validAddresses {
            let address = try IPAddress(input)
            #expect(address.description == canonical, "\(input)")
            #expect(try IPAddress(address.description) == address, "\(input)")
        }
        #expect(try IPAddress("fd7a:115c::626b:430b").value == 0xfd7a_115c_0000_0000_0000_0000_626b_430b)
        #expect(try IPAddress("192.168.140.255") == IPAddress(192, 168, 140, 255))
        #expect(try IPAddress("fe80::1%eth0").zone == "eth0")
    }

    @Test("Go netip invalid cases are all refused", arguments: GoNetipVectors.invalidAddresses)
    func goInvalid(input: String) {
        #expect(throws: IPAddressError.self) { try IPAddress(input) }
    }

    @Test("Go netip IPv4-mapped detection and unmapping")
    func goMapped() throws {
        for (input, mapped, unmapped) in GoNetipVectors.mapped {
            let address = try IPAddress(input)
            #expect(address.isIPv4Mapped == mapped, "\(input)")
            #expect(address.unmapped.description == unmapped, "\(input)")
        }
        #expect(IPAddress(1, 2, 3, 4).mappedToIPv6.description == "::ffff:1.2.3.4")
    }

    /// The parser confusions behind CVE-2021-29921 (Python ipaddress leading zeros), CVE-2021-29923
    /// (Go net leading zeros), CVE-2023-42282 and CVE-2024-29415 (node `ip`: hex, octal, short and
    /// integer forms taken as loopback or private).
    @Test(
        "Forms behind CVE-2021-29921, CVE-2021-29923, CVE-2023-42282, CVE-2024-29415 are refused",
        arguments: [
            ("010.0.0.1", IPAddressError.ipv4LeadingZero),
            ("127.1", .ipv4FieldCount),
            ("127.0.1", .ipv4FieldCount),
            ("0x7f.0.0.1", .unexpectedCharacter(position: 2)),
            ("0x7f000001", .unexpectedCharacter(position: 2)),
            ("017700000001", .ipv4FieldCount),
            ("2130706433", .ipv4FieldCount),
            ("0177.0.0.1", .ipv4LeadingZero),
            ("::ffff:1.2.03.4", .ipv4LeadingZero),
            ("::FFFF:127.00.0.1", .ipv4LeadingZero),
            ("::fFfF:0x7f.0.0.1", .unexpectedCharacter(position: 9)),
            ("1.2.3.4 ", .unexpectedCharacter(position: 8)),
            (" 1.2.3.4", .unexpectedCharacter(position: 1)),
            ("1.2.3.4\n", .unexpectedCharacter(position: 8)),
            ("\t::1", .unexpectedCharacter(position: 1)),
            ("", .empty),
            ("1:2:3:4:5:6:7:8:9", .ipv6GroupCount),
            ("1::2::3", .ipv6MultipleEllipses),
            ("1.2.3.4%eth0", .ipv4Zone),
            ("::1%", .invalidZone),
            ("::1%0123456789abcdef", .invalidZone),
            ("::1%a b", .invalidZone),
            (String(repeating: "1", count: 65), .tooLong),
            ("1:2:3:4:5:6:7:1.2.3.4", .ipv6GroupCount),
            ("1:2:3:4:5:1.2.3.4", .ipv6GroupCount),
            ("1.2.3.4::1", .unexpectedCharacter(position: 8)),
            ("::1.2.3.4:1", .unexpectedCharacter(position: 10)),
            ("::00001", .ipv6GroupTooLong),
            (":1::", .ipv6EmptyGroup),
            ("1::2:", .ipv6EmptyGroup),
        ])
    func cveForms(input: String, expected: IPAddressError) {
        #expect(throws: expected) { try IPAddress(input) }
    }

    @Test("Mixed-case IPv4-mapped loopback parses to the same address as lowercase")
    func mixedCaseMapped() throws {
        let variants = [
            "::ffff:127.0.0.1", "::FFFF:127.0.0.1", "::fFfF:127.0.0.1", "0:0:0:0:0:FFFF:127.0.0.1",
            "::ffff:7f00:1", "::FFFF:7F00:0001",
        ]
        for variant in variants {
            let address = try IPAddress(variant)
            #expect(address.unmapped == IPAddress(127, 0, 0, 1), "\(variant)")
            #expect(address.description == "::ffff:127.0.0.1")
        }
    }

    @Test("RFC 5952 canonical text: longest zero run, leftmost on ties, no single-group ::, lowercase")
    func rfc5952() throws {
        let cases = [
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // §4.2.3: leftmost of equal runs
            ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // §4.2.2: no :: for one group
            ("2001:db8::0:1:0:0:0", "2001:db8:0:0:1::"),  // longest run wins
            ("2001:DB8::ABCD", "2001:db8::abcd"),  // §4.3 lowercase
            ("0:0:0:0:0:0:0:0", "::"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("1:0:0:0:0:0:0:0", "1::"),
            ("::1.2.3.4", "::102:304"),
        ]
        for (input, canonical) in cases { #expect(try IPAddress(input).description == canonical, "\(input)") }
    }

    @Test("Codable as canonical text")
    func codable() throws {
        let json = try JSONEncoder().encode([try IPAddress("2001:DB8::1")])
        #expect(String(decoding: json, as: UTF8.self) == #"["2001:db8::1"]"#)
        #expect(throws: IPAddressError.self) {
            try JSONDecoder().decode([IPAddress].self, from: Data(#"["127.1"]"#.utf8))
        }
    }
}
