/// Why text is not an IP address or prefix, or a list not an allowlist.
public struct IPAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case empty
        case tooLong
        case unexpectedCharacter(position: Int)
        case emptyIPv4Field
        case ipv4LeadingZero
        case ipv4FieldTooLarge
        case ipv4FieldCount
        case ipv6GroupTooLong
        case ipv6GroupCount
        case ipv6MultipleEllipses
        case ipv6EmptyGroup
        case ipv4Zone
        case invalidZone
        case missingPrefixLength
        case invalidPrefixLength
        case prefixLengthOutOfRange(maximum: Int)
        case zoneInPrefix
        case hostBitsSet(suggestion: String)
        indirect case invalidEntry(index: Int, reason: IPAddressError)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The text is empty.
    public static var empty: Self { Self(.empty) }

    /// The text is longer than any address or prefix can be.
    public static var tooLong: Self { Self(.tooLong) }

    /// A character that cannot appear there (1-based byte position).
    public static func unexpectedCharacter(position: Int) -> Self { Self(.unexpectedCharacter(position: position)) }

    /// An IPv4 field is empty, as in `1..2.3`.
    public static var emptyIPv4Field: Self { Self(.emptyIPv4Field) }

    /// An IPv4 field has a leading zero, as in `010.0.0.1` (once octal in some parsers).
    public static var ipv4LeadingZero: Self { Self(.ipv4LeadingZero) }

    /// An IPv4 field is above 255.
    public static var ipv4FieldTooLarge: Self { Self(.ipv4FieldTooLarge) }

    /// An IPv4 address does not have exactly four fields, as in `127.1`.
    public static var ipv4FieldCount: Self { Self(.ipv4FieldCount) }

    /// An IPv6 group has more than four hex digits.
    public static var ipv6GroupTooLong: Self { Self(.ipv6GroupTooLong) }

    /// An IPv6 address has too few or too many groups.
    public static var ipv6GroupCount: Self { Self(.ipv6GroupCount) }

    /// An IPv6 address has more than one `::`.
    public static var ipv6MultipleEllipses: Self { Self(.ipv6MultipleEllipses) }

    /// An IPv6 address starts or ends with a single `:`, or has an empty group.
    public static var ipv6EmptyGroup: Self { Self(.ipv6EmptyGroup) }

    /// A zone on an IPv4 address.
    public static var ipv4Zone: Self { Self(.ipv4Zone) }

    /// A `%` with no zone after it, or a zone of more than 15 bytes or with characters outside
    /// printable ASCII.
    public static var invalidZone: Self { Self(.invalidZone) }

    /// A prefix has no `/length`.
    public static var missingPrefixLength: Self { Self(.missingPrefixLength) }

    /// A prefix length is not a plain decimal number (signs, leading zeros, empty).
    public static var invalidPrefixLength: Self { Self(.invalidPrefixLength) }

    /// A prefix length is above 32 (IPv4) or 128 (IPv6).
    public static func prefixLengthOutOfRange(maximum: Int) -> Self { Self(.prefixLengthOutOfRange(maximum: maximum)) }

    /// A prefix carries a zone.
    public static var zoneInPrefix: Self { Self(.zoneInPrefix) }

    /// A prefix has bits set after its length; carries the masked form to suggest.
    public static func hostBitsSet(suggestion: String) -> Self { Self(.hostBitsSet(suggestion: suggestion)) }

    /// An entry of a list is invalid (0-based index), for this reason.
    public static func invalidEntry(index: Int, reason: IPAddressError) -> Self {
        Self(.invalidEntry(index: index, reason: reason))
    }

    /// For a prefix with host bits set, the masked form to suggest (`10.0.0.0/8` for `10.0.0.1/8`),
    /// also inside a list entry; `nil` for every other error.
    public var suggestedPrefix: String? {
        switch kind {
        case .hostBitsSet(let suggestion): suggestion
        case .invalidEntry(_, let reason): reason.suggestedPrefix
        default: nil
        }
    }

    /// A message that says what is wrong.
    public var description: String {
        switch kind {
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
