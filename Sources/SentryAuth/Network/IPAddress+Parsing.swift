extension IPAddress {
    /// The longest text accepted: a fully written IPv6 address with embedded IPv4 and a zone.
    static let maximumTextLength = 64

    /// Parses an IPv4 or IPv6 address, as strictly as Go's `net/netip.ParseAddr`.
    ///
    /// Refused: leading zeros in IPv4 fields, fewer than four IPv4 fields (`127.1`), octal and hex
    /// forms, IPv6 groups of more than four digits, more than one `::`, an embedded IPv4 address
    /// anywhere but at the end, zones on IPv4, surrounding whitespace.
    ///
    /// - Parameter text: The address.
    /// - Throws: ``IPAddressError`` saying what is wrong.
    public init(_ text: some StringProtocol) throws(IPAddressError) {
        let utf8 = text.utf8
        guard !utf8.isEmpty else { throw .empty }
        guard utf8.count <= Self.maximumTextLength else { throw .tooLong }
        var buffer = (UInt128(0), UInt128(0), UInt128(0), UInt128(0))  // 64 bytes on the stack
        let count = utf8.count
        self = try withUnsafeMutableBytes(of: &buffer) { (raw) throws(IPAddressError) -> IPAddress in
            raw.copyBytes(from: utf8)
            return try Self.parse(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
    }

    /// Parses an address from UTF-8 bytes.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(IPAddressError) -> IPAddress {
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: ":"), UInt8(ascii: "%"): return try parseIPv6(bytes)
            case UInt8(ascii: "."): return IPAddress(ipv4: try parseIPv4(bytes, offset: 0))
            default: continue
            }
        }
        // No separator at all: report the first character that is not a digit, or the field count.
        for index in bytes.indices where !isDigit(bytes[index]) {
            throw .unexpectedCharacter(position: index + 1)
        }
        throw .ipv4FieldCount
    }

    /// Parses dotted-decimal IPv4; `offset` is where `bytes` starts in the whole text, for positions.
    static func parseIPv4(_ bytes: UnsafeRawBufferPointer, offset: Int) throws(IPAddressError) -> UInt32 {
        var value: UInt32 = 0
        var fields = 0
        var field: UInt32 = 0
        var digits = 0
        for index in bytes.indices {
            let byte = bytes[index]
            if isDigit(byte) {
                if digits > 0 && field == 0 { throw .ipv4LeadingZero }
                field = field * 10 + UInt32(byte &- UInt8(ascii: "0"))
                digits += 1
                if field > 255 { throw .ipv4FieldTooLarge }
            } else if byte == UInt8(ascii: ".") {
                guard digits > 0 else { throw .emptyIPv4Field }
                fields += 1
                guard fields < 4 else { throw .ipv4FieldCount }
                value = value << 8 | field
                field = 0
                digits = 0
            } else if byte == UInt8(ascii: "%") {
                throw .ipv4Zone
            } else {
                throw .unexpectedCharacter(position: offset + index + 1)
            }
        }
        guard digits > 0 else { throw .emptyIPv4Field }
        guard fields == 3 else { throw .ipv4FieldCount }
        return value << 8 | field
    }

    /// Parses IPv6 with an optional embedded IPv4 tail and an optional zone.
    static func parseIPv6(_ all: UnsafeRawBufferPointer) throws(IPAddressError) -> IPAddress {
        var end = all.count
        var zoneStorage: UInt128 = 0
        if let percent = all.firstIndex(of: UInt8(ascii: "%")) {
            let zone = UnsafeRawBufferPointer(rebasing: all[(percent + 1)...])
            guard !zone.isEmpty, zone.count <= maximumZoneLength else { throw .invalidZone }
            for (shift, byte) in zone.enumerated() {
                guard (0x21...0x7e).contains(byte), byte != UInt8(ascii: "%") else { throw .invalidZone }
                zoneStorage |= UInt128(byte) << (8 * shift)
            }
            end = percent
            if !all[..<percent].contains(UInt8(ascii: ":")) { throw .ipv4Zone }
        }
        let bytes = UnsafeRawBufferPointer(rebasing: all[..<end])
        var groups: (UInt128, Int) = (0, 0)  // value so far, number of groups
        var ellipsis = -1
        var index = 0
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: ":") && bytes[1] == UInt8(ascii: ":") {
            ellipsis = 0
            index = 2
        } else if bytes.first == UInt8(ascii: ":") {
            throw .ipv6EmptyGroup
        }
        while index < bytes.count {
            let start = index
            var group: UInt128 = 0
            while index < bytes.count, let digit = hexValue(bytes[index]) {
                guard index - start < 4 else { throw .ipv6GroupTooLong }
                group = group << 4 | UInt128(digit)
                index += 1
            }
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                // An embedded IPv4 address: the rest of the text, filling two groups.
                let ipv4 = try parseIPv4(UnsafeRawBufferPointer(rebasing: bytes[start...]), offset: start)
                groups = (groups.0 << 32 | UInt128(ipv4), groups.1 + 2)
                index = bytes.count
                break
            }
            guard index > start else {
                if index < bytes.count && bytes[index] == UInt8(ascii: ":") { throw .ipv6EmptyGroup }
                throw .unexpectedCharacter(position: index + 1)
            }
            groups = (groups.0 << 16 | group, groups.1 + 1)
            guard groups.1 <= 8 else { throw .ipv6GroupCount }
            if index == bytes.count { break }
            guard bytes[index] == UInt8(ascii: ":") else { throw .unexpectedCharacter(position: index + 1) }
            index += 1
            if index < bytes.count && bytes[index] == UInt8(ascii: ":") {
                guard ellipsis < 0 else { throw .ipv6MultipleEllipses }
                ellipsis = groups.1
                index += 1
            } else if index == bytes.count {
                throw .ipv6EmptyGroup
            }
        }
        guard groups.1 <= 8 else { throw .ipv6GroupCount }
        var value = groups.0
        if ellipsis >= 0 {
            // `::` stands for at least one zero group.
            guard groups.1 < 8 else { throw .ipv6GroupCount }
            let after = groups.1 - ellipsis
            let missing = 8 - groups.1
            let lowMask: UInt128 = after == 0 ? 0 : (UInt128.max >> (128 - 16 * after))
            let high = value >> (16 * after)
            value = (high << (16 * (after + missing))) | (value & lowMask)
        } else {
            guard groups.1 == 8 else { throw .ipv6GroupCount }
        }
        return IPAddress(family: .v6, value: value, zoneStorage: zoneStorage)
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// The canonical text: dotted decimal for IPv4; RFC 5952 for IPv6 (lowercase, no leading zeros,
    /// the longest run of two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`),
    /// then `%zone` if any.
    public var description: String {
        var text = family == .v4 ? Self.formatIPv4(UInt32(truncatingIfNeeded: value)) : formatIPv6()
        if let zone { text += "%" + zone }
        return text
    }

    static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    private func formatIPv6() -> String {
        if isIPv4Mapped { return "::ffff:" + Self.formatIPv4(UInt32(truncatingIfNeeded: value)) }
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (16 * (7 - $0))) }
        // The longest run of zero groups, leftmost on ties, if at least two long (RFC 5952 §4.2).
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart
                }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

extension IPAddress: Codable {
    /// Decodes and validates an address string.
    ///
    /// - Parameter decoder: The decoder to read from.
    public init(from decoder: any Decoder) throws {
        self = try IPAddress(try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the canonical text.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
