/// An IP network in CIDR notation, such as `10.0.0.0/8` or `2001:db8::/32`.
///
/// A prefix is always masked: text with bits set after the prefix length is refused with a
/// suggestion, because `10.0.0.1/8` usually means someone thought it was a single address.
///
/// ```swift
/// let office = try IPPrefix("203.0.113.0/24")
/// office.contains(try IPAddress("203.0.113.9"))   // true
/// try IPPrefix("10.0.0.1/8")                       // error: … did you mean 10.0.0.0/8?
/// ```
public struct IPPrefix: Sendable, Hashable {
    /// The first address of the network (host bits all zero, no zone).
    public let network: IPAddress
    /// The number of leading bits that are fixed: 0...32 for IPv4, 0...128 for IPv6.
    public let length: Int

    /// Makes a prefix from an address and a length, clearing the host bits.
    ///
    /// - Parameters:
    ///   - address: Any address in the network; its zone is dropped.
    ///   - length: 0...32 for IPv4, 0...128 for IPv6.
    /// - Throws: ``IPAddressError/prefixLengthOutOfRange(maximum:)`` when `length` does not fit.
    public init(masking address: IPAddress, toLength length: Int) throws(IPAddressError) {
        guard length >= 0 else { throw .invalidPrefixLength }
        guard length <= address.family.bitCount else {
            throw .prefixLengthOutOfRange(maximum: address.family.bitCount)
        }
        let mask = Self.mask(family: address.family, length: length)
        self.network = IPAddress(family: address.family, value: address.value & mask)
        self.length = length
    }

    /// A prefix holding exactly one address: a /32 or a /128.
    ///
    /// - Parameter address: The address; its zone is dropped.
    public init(single address: IPAddress) {
        self.network = address.withoutZone
        self.length = address.family.bitCount
    }

    /// Parses `address/length` strictly: the address as ``IPAddress/init(_:)``, no zone, a length with
    /// no sign or leading zero, and no host bits set.
    ///
    /// - Parameter text: The prefix.
    /// - Throws: ``IPAddressError``; ``IPAddressError/hostBitsSet(suggestion:)`` names the masked form.
    public init(_ text: some StringProtocol) throws(IPAddressError) {
        let utf8 = text.utf8
        guard !utf8.isEmpty else { throw .empty }
        guard utf8.count <= IPAddress.maximumTextLength + 4 else { throw .tooLong }
        guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { throw .missingPrefixLength }
        let address = try IPAddress(text[..<slash])
        guard address.zone == nil else { throw .zoneInPrefix }
        let digits = utf8[utf8.index(after: slash)...]
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(IPAddress.isDigit),
            digits.first != UInt8(ascii: "0") || digits.count == 1
        else { throw .invalidPrefixLength }
        let length = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let prefix = try IPPrefix(masking: address, toLength: length)
        guard prefix.network == address else { throw .hostBitsSet(suggestion: prefix.description) }
        self = prefix
    }

    /// Whether `address` is in this network. Addresses of the other family, and addresses with a
    /// zone, are never in it; IPv4-mapped IPv6 addresses are not unmapped here (``IPAllowlist`` does).
    ///
    /// - Parameter address: The address to test.
    /// - Returns: `true` when the address's first ``length`` bits equal the network's.
    public func contains(_ address: IPAddress) -> Bool {
        address.family == network.family && address.zoneStorage == 0
            && address.value & Self.mask(family: network.family, length: length) == network.value
    }

    /// The last address of the network.
    public var lastAddress: IPAddress {
        let all = Self.allBits(network.family)
        return IPAddress(
            family: network.family, value: network.value | (~Self.mask(family: network.family, length: length) & all))
    }

    /// Every bit of the family's width set.
    static func allBits(_ family: IPAddress.Family) -> UInt128 {
        family == .v6 ? .max : UInt128(UInt32.max)
    }

    /// The mask with the first `length` bits set, within the family's width.
    static func mask(family: IPAddress.Family, length: Int) -> UInt128 {
        let all = allBits(family)
        return length == 0 ? 0 : (all << (family.bitCount - length)) & all
    }
}

extension IPPrefix: CustomStringConvertible {
    /// The canonical `network/length` text.
    public var description: String { "\(network)/\(length)" }
}

extension IPPrefix: Codable {
    /// Decodes and validates `network/length` text.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        self = try IPPrefix(try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the canonical text.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
