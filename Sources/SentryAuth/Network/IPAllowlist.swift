/// A set of IP networks: the addresses a key may be used from, or the proxies a server trusts.
///
/// Entries are IPv4 and IPv6 prefixes; a bare address means a /32 or /128. Overlapping and adjacent
/// entries are merged, and the list is kept as the smallest set of prefixes covering the same
/// addresses, so it encodes canonically.
///
/// An IPv4-mapped client address (`::ffff:a.b.c.d`) is an IPv4 client: it is matched against the
/// IPv4 entries only. IPv4-mapped IPv6 entries (`::ffff:10.0.0.0/104`) are stored as their IPv4 form
/// (`10.0.0.0/8`); any other IPv6 entry never matches an IPv4 client, even one that covers
/// `::ffff:0:0/96` — `::/0` admits every IPv6 client and no IPv4 client (fail closed).
///
/// A look-up unmaps an IPv4-mapped client address first, then binary-searches sorted, disjoint
/// ranges: O(log n) with no allocation, whether the list holds one entry or 100,000.
///
/// ```swift
/// let allowlist = try IPAllowlist(parsing: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
/// allowlist.contains(try IPAddress("::ffff:203.0.113.9"))   // true: matched as 203.0.113.9
/// ```
public struct IPAllowlist: Sendable, Hashable {
    /// Disjoint, non-adjacent, sorted IPv4 ranges.
    private var ipv4: [ClosedRange<UInt32>] = []
    /// Disjoint, non-adjacent, sorted IPv6 ranges.
    private var ipv6: [ClosedRange<UInt128>] = []

    /// The empty list. As a key's allowlist it means "any address" (see ``KeyRecord/isAllowed(from:)``).
    public init() {}

    /// Creates a list of the given prefixes.
    ///
    /// - Parameter prefixes: The networks; overlaps are merged.
    public init(_ prefixes: some Sequence<IPPrefix>) {
        var ranges4: [ClosedRange<UInt32>] = []
        var ranges6: [ClosedRange<UInt128>] = []
        for prefix in prefixes {
            let normalized = Self.normalize(prefix)
            let first = normalized.network.value
            let last = normalized.lastAddress.value
            if normalized.network.family == .v4 {
                ranges4.append(UInt32(first)...UInt32(last))
            } else {
                ranges6.append(first...last)
            }
        }
        ipv4 = Self.merge(ranges4)
        ipv6 = Self.merge(ranges6)
    }

    /// Parses a list of entries: prefixes (`10.0.0.0/8`) or bare addresses (`192.0.2.7`, `::1`).
    ///
    /// - Parameter entries: The entries, as written.
    /// - Throws: ``IPAddressError/invalidEntry(index:reason:)`` naming the first bad entry.
    public init(parsing entries: some Sequence<some StringProtocol>) throws(IPAddressError) {
        var prefixes: [IPPrefix] = []
        for (index, entry) in entries.enumerated() {
            do {
                prefixes.append(try Self.parseEntry(entry))
            } catch {
                throw .invalidEntry(index: index, reason: error)
            }
        }
        self.init(prefixes)
    }

    /// Parses a comma-separated list, as written on a command line: `10.0.0.0/8, 192.0.2.7`.
    ///
    /// - Parameter list: The comma-separated entries; spaces around them are ignored.
    /// - Throws: ``IPAddressError/invalidEntry(index:reason:)`` naming the first bad entry.
    public init(parsingList list: some StringProtocol) throws(IPAddressError) {
        // Split on the comma byte, not on `Character`s: a mark that combines with a comma must not
        // join two entries (or hide one).
        let entries = Array(list.utf8).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map {
            String(
                decoding: $0.drop(while: { $0 == UInt8(ascii: " ") }).reversed().drop(while: { $0 == UInt8(ascii: " ") }
                ).reversed(), as: UTF8.self)
        }
        try self.init(parsing: entries)
    }

    private static func parseEntry(_ entry: some StringProtocol) throws(IPAddressError) -> IPPrefix {
        if entry.utf8.contains(UInt8(ascii: "/")) { return try IPPrefix(entry) }
        let address = try IPAddress(entry)
        guard address.zone == nil else { throw .zoneInPrefix }
        return IPPrefix(single: address)
    }

    /// An IPv4-mapped IPv6 prefix of length 96 or more, as the IPv4 prefix it stands for.
    private static func normalize(_ prefix: IPPrefix) -> IPPrefix {
        guard prefix.network.isIPv4Mapped, prefix.length >= 96 else { return prefix }
        return (try? IPPrefix(masking: prefix.network.unmapped, toLength: prefix.length - 96)) ?? prefix
    }

    /// Sorts ranges and merges overlapping or adjacent ones.
    private static func merge<T: FixedWidthInteger>(_ ranges: [ClosedRange<T>]) -> [ClosedRange<T>] {
        var merged: [ClosedRange<T>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, last.upperBound == .max || range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// Whether the list holds no network.
    public var isEmpty: Bool { ipv4.isEmpty && ipv6.isEmpty }

    /// Whether `address` is in one of the networks. An IPv4-mapped IPv6 address is matched as its
    /// IPv4 address; an address with a zone never matches.
    ///
    /// - Parameter address: The client address.
    /// - Returns: `true` when some network contains it.
    public func contains(_ address: IPAddress) -> Bool {
        guard address.zoneStorage == 0 else { return false }
        let address = address.unmapped
        if address.family == .v4 {
            return Self.search(ipv4, UInt32(truncatingIfNeeded: address.value))
        }
        return Self.search(ipv6, address.value)
    }

    /// Binary search for the last range starting at or before `value`.
    private static func search<T: FixedWidthInteger>(_ ranges: [ClosedRange<T>], _ value: T) -> Bool {
        ranges.withUnsafeBufferPointer { buffer in
            var low = 0
            var high = buffer.count
            while low < high {
                let middle = (low + high) / 2
                if buffer[middle].lowerBound <= value { low = middle + 1 } else { high = middle }
            }
            return low > 0 && value <= buffer[low - 1].upperBound
        }
    }

    /// The smallest list of prefixes covering exactly the same addresses, IPv4 first, in address order.
    public var prefixes: [IPPrefix] {
        var result: [IPPrefix] = []
        for range in ipv4 {
            Self.cover(UInt128(range.lowerBound), UInt128(range.upperBound), family: .v4, into: &result)
        }
        for range in ipv6 {
            Self.cover(range.lowerBound, range.upperBound, family: .v6, into: &result)
        }
        return result
    }

    /// Appends the largest aligned blocks that exactly cover first...last.
    private static func cover(
        _ first: UInt128, _ last: UInt128, family: IPAddress.Family, into result: inout [IPPrefix]
    ) {
        let width = family.bitCount
        var start = first
        while true {
            // The largest block aligned at `start`: as many trailing zero bits as `start` has.
            var bits = start == 0 ? width : min(start.trailingZeroBitCount, width)
            while bits > 0 {
                let blockLast = start | (bits == 128 ? .max : (UInt128(1) << bits) - 1)
                if blockLast <= last { break }
                bits -= 1
            }
            let address = IPAddress(family: family, value: start)
            result.append(IPPrefix(unmasked: address, length: width - bits))
            let blockLast = start | (bits == 128 ? .max : (UInt128(1) << bits) &- 1)
            if blockLast >= last { return }
            start = blockLast + 1
        }
    }
}

extension IPPrefix {
    /// A prefix from an address already known to be masked.
    fileprivate init(unmasked network: IPAddress, length: Int) {
        do {
            self = try IPPrefix(masking: network, toLength: length)
        } catch {
            preconditionFailure("cover() produces lengths within the family's width")
        }
    }
}

extension IPAllowlist: CustomStringConvertible {
    /// The canonical prefixes, comma-separated.
    public var description: String { prefixes.map(\.description).joined(separator: ",") }
}

extension IPAllowlist: Codable {
    /// Decodes a list of prefix or address strings.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        self = try IPAllowlist(parsing: try decoder.singleValueContainer().decode([String].self))
    }

    /// Encodes the canonical prefixes as a list of strings.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(prefixes.map(\.description))
    }
}
