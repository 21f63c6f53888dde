/// An IPv4 or IPv6 address, optionally with an IPv6 zone, held inline with no heap storage.
///
/// Parsing is as strict as Go's `net/netip`: IPv4 is exactly four decimal fields with no leading
/// zeros (no `127.1`, octal `010.0.0.1` or hex `0x7f.0.0.1` forms); IPv6 groups are one to four hex
/// digits, with at most one `::` and an embedded IPv4 address only at the end. Text is written in the
/// canonical form of RFC 5952.
///
/// ```swift
/// let address = try IPAddress("2001:DB8:0:0:0:0:0:1")
/// print(address)                                        // 2001:db8::1
/// let client = try IPAddress("::ffff:192.0.2.7").unmapped   // 192.0.2.7
/// ```
public struct IPAddress: Sendable, Hashable {
    /// The address family.
    public enum Family: Sendable, Hashable {
        /// A 32-bit IPv4 address.
        case v4
        /// A 128-bit IPv6 address.
        case v6

        /// The number of bits in an address of this family.
        public var bitCount: Int { self == .v4 ? 32 : 128 }
    }

    /// The address family.
    public let family: Family
    /// The address bits; an IPv4 address uses the low 32.
    public let value: UInt128
    /// Up to 15 zone bytes, the first in the low byte; zero when there is no zone.
    let zoneStorage: UInt128

    /// The longest zone accepted, in bytes (Linux interface names are at most 15).
    public static let maximumZoneLength = 15

    init(family: Family, value: UInt128, zoneStorage: UInt128 = 0) {
        self.family = family
        self.value = value
        self.zoneStorage = zoneStorage
    }

    /// Creates an IPv4 address from its four bytes.
    ///
    /// - Parameters:
    ///   - a: The first byte.
    ///   - b: The second byte.
    ///   - c: The third byte.
    ///   - d: The fourth byte.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.init(ipv4: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// Creates an IPv4 address from its 32-bit value.
    ///
    /// - Parameter ipv4: The address as a big-endian-ordered integer (`0x7f000001` is 127.0.0.1).
    public init(ipv4: UInt32) {
        self.init(family: .v4, value: UInt128(ipv4))
    }

    /// Creates an IPv6 address (without zone) from its 128-bit value.
    ///
    /// - Parameter ipv6: The address as an integer (`1` is `::1`).
    public init(ipv6: UInt128) {
        self.init(family: .v6, value: ipv6)
    }

    /// The IPv6 zone (`eth0` in `fe80::1%eth0`), if any. An address with a zone never matches a prefix.
    public var zone: String? {
        guard zoneStorage != 0 else { return nil }
        var bytes: [UInt8] = []
        var rest = zoneStorage
        while rest != 0 {
            bytes.append(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The same address without its zone.
    public var withoutZone: IPAddress { IPAddress(family: family, value: value) }

    /// Whether this is an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2).
    public var isIPv4Mapped: Bool {
        family == .v6 && value >> 32 == 0xffff
    }

    /// The IPv4 address behind an IPv4-mapped IPv6 address; any other address unchanged.
    /// The zone is dropped when unmapping.
    public var unmapped: IPAddress {
        isIPv4Mapped ? IPAddress(ipv4: UInt32(truncatingIfNeeded: value)) : self
    }

    /// The IPv4 address as an IPv4-mapped IPv6 address; an IPv6 address unchanged.
    public var mappedToIPv6: IPAddress {
        family == .v4 ? IPAddress(ipv6: 0xffff_0000_0000 | value) : self
    }
}

extension IPAddress: Comparable {
    /// Orders IPv4 before IPv6, then by value, then by zone.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .v4 }
        if lhs.value != rhs.value { return lhs.value < rhs.value }
        return lhs.zoneStorage < rhs.zoneStorage
    }
}
