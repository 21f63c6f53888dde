/// Why text is not an IP address or prefix, or a list not an allowlist.
public enum IPAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is empty.
    case empty
    /// The text is longer than any address or prefix can be.
    case tooLong
    /// A character that cannot appear there (1-based byte position).
    case unexpectedCharacter(position: Int)
    /// An IPv4 field is empty, as in `1..2.3`.
    case emptyIPv4Field
    /// An IPv4 field has a leading zero, as in `010.0.0.1` (once octal in some parsers).
    case ipv4LeadingZero
    /// An IPv4 field is above 255.
    case ipv4FieldTooLarge
    /// An IPv4 address does not have exactly four fields, as in `127.1`.
    case ipv4FieldCount
    /// An IPv6 group has more than four hex digits.
    case ipv6GroupTooLong
    /// An IPv6 address has too few or too many groups.
    case ipv6GroupCount
    /// An IPv6 address has more than one `::`.
    case ipv6MultipleEllipses
    /// An IPv6 address starts or ends with a single `:`, or has an empty group.
    case ipv6EmptyGroup
    /// A zone on an IPv4 address.
    case ipv4Zone
    /// A `%` with no zone after it, or a zone of more than 15 bytes or with characters outside
    /// printable ASCII.
    case invalidZone
    /// A prefix has no `/length`.
    case missingPrefixLength
    /// A prefix length is not a plain decimal number (signs, leading zeros, empty).
    case invalidPrefixLength
    /// A prefix length is above 32 (IPv4) or 128 (IPv6).
    case prefixLengthOutOfRange(maximum: Int)
    /// A prefix carries a zone.
    case zoneInPrefix
    /// A prefix has bits set after its length; carries the masked form to suggest.
    case hostBitsSet(suggestion: String)
    /// An entry of a list is invalid (0-based index), for this reason.
    indirect case invalidEntry(index: Int, reason: IPAddressError)

    /// A message that says what is wrong.
    public var description: String {
        switch self {
        case .empty: "The address is empty."
        case .tooLong: "The text is too long to be an address or prefix."
        case .unexpectedCharacter(let position): "Unexpected character at position \(position)."
        case .emptyIPv4Field: "An IPv4 field is empty."
        case .ipv4LeadingZero: "An IPv4 field has a leading zero (octal forms are refused)."
        case .ipv4FieldTooLarge: "An IPv4 field is above 255."
        case .ipv4FieldCount: "An IPv4 address has exactly four fields (forms like 127.1 are refused)."
        case .ipv6GroupTooLong: "An IPv6 group has more than four hex digits."
        case .ipv6GroupCount: "An IPv6 address has eight groups, or fewer with one '::'."
        case .ipv6MultipleEllipses: "An IPv6 address has at most one '::'."
        case .ipv6EmptyGroup: "An IPv6 address has an empty group or a stray ':'."
        case .ipv4Zone: "An IPv4 address cannot have a zone."
        case .invalidZone: "A zone is 1 to 15 printable ASCII characters after '%'."
        case .missingPrefixLength: "A prefix is written address/length."
        case .invalidPrefixLength: "A prefix length is a decimal number with no sign or leading zero."
        case .prefixLengthOutOfRange(let maximum): "The prefix length is above \(maximum)."
        case .zoneInPrefix: "A prefix cannot have a zone."
        case .hostBitsSet(let suggestion): "The prefix has host bits set; did you mean \(suggestion)?"
        case .invalidEntry(let index, let reason): "Entry \(index + 1): \(reason)"
        }
    }
}
