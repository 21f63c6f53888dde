/// Path templates (`/customers/{id}`) and the canonical-path rules for request segments.
enum PathTemplate {
    enum Segment: Equatable {
        case literal([UInt8])
        case parameter(String)
    }

    /// The longest template accepted, in bytes.
    static let maximumLength = 1024

    /// Parses a template: `/`, then segments separated by `/`, each either a literal of unreserved
    /// characters (not `.` or `..`) or `{name}` with a name of letters, digits and `_`.
    static func parse(_ template: String, entry: Int) throws(EndpointPolicyError) -> [Segment] {
        func fail(_ reason: String) -> EndpointPolicyError {
            .malformedTemplate(entry: entry, template: template, reason: reason)
        }
        let bytes = Array(template.utf8)
        guard bytes.count <= maximumLength else { throw fail("longer than \(maximumLength) bytes") }
        guard bytes.first == UInt8(ascii: "/") else { throw fail("it must start with '/'") }
        if bytes.count == 1 { return [] }
        var segments: [Segment] = []
        var names = Set<String>()
        for part in bytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw fail("it has an empty segment or a trailing '/'") }
            if part.first == UInt8(ascii: "{") {
                guard part.last == UInt8(ascii: "}"), part.count >= 3 else {
                    throw fail("a parameter is written {name}")
                }
                let name = part.dropFirst().dropLast()
                guard name.count <= 32, name.allSatisfy(isNameCharacter), !IPAddress.isDigit(name.first!) else {
                    throw fail("a parameter name is letters, digits and '_', not starting with a digit")
                }
                let text = String(decoding: name, as: UTF8.self)
                guard names.insert(text).inserted else { throw fail("the parameter {\(text)} appears twice") }
                guard names.count <= EndpointPolicy.maximumParameters else {
                    throw fail("more than \(EndpointPolicy.maximumParameters) parameters")
                }
                segments.append(.parameter(text))
            } else {
                guard part.allSatisfy(isUnreserved) else {
                    throw fail("a literal segment has only letters, digits, '-', '.', '_' and '~'")
                }
                guard !isDotSegment(part) else { throw fail("'.' and '..' segments are not allowed") }
                segments.append(.literal(Array(part)))
            }
        }
        return segments
    }

    /// Whether a request path segment is canonical (see ``EndpointPolicy``): non-empty, not a dot
    /// segment, only allowed characters, and percent-encoding only of bytes that must be encoded.
    static func isCanonicalSegment(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !segment.isEmpty, !isDotSegment(segment) else { return false }
        var index = 0
        while index < segment.count {
            let byte = segment[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < segment.count, isCanonicalEscape(segment[index + 1], segment[index + 2]) else {
                    return false
                }
                index += 3
            } else {
                guard isAllowedRaw(byte) else { return false }
                index += 1
            }
        }
        return true
    }

    /// Whether `%` followed by these two bytes is an escape a canonical path may hold: uppercase hex
    /// of a printable ASCII character that must be encoded (not unreserved, not a slash or a backslash).
    @inline(__always)
    static func isCanonicalEscape(_ first: UInt8, _ second: UInt8) -> Bool {
        guard let high = upperHexValue(first), let low = upperHexValue(second) else { return false }
        let decoded = high << 4 | low
        return (0x21...0x7e).contains(decoded) && !isUnreserved(decoded) && decoded != UInt8(ascii: "/")
            && decoded != UInt8(ascii: "\\")
    }

    static func isDotSegment(_ segment: some Collection<UInt8>) -> Bool {
        segment.count <= 2 && segment.allSatisfy { $0 == UInt8(ascii: ".") }
    }

    /// RFC 3986 `unreserved`.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// RFC 3986 `pchar` without `;` and `%`: unreserved, the other sub-delims, `:` and `@`.
    /// One bit per ASCII byte (`!$&'()*+,-.0-9:=` in the low word; `@A-Z_a-z~` in the high word).
    @inline(__always)
    static func isAllowedRaw(_ byte: UInt8) -> Bool {
        let low: UInt64 = 0x27FF_7FD2_0000_0000
        let high: UInt64 = 0x47FF_FFFE_87FF_FFFF
        return byte < 128 && ((byte < 64 ? low : high) >> UInt64(byte & 63)) & 1 == 1
    }

    /// RFC 3986 `pchar` without `;` and `%`, by the RFC's own lists: what ``isAllowedRaw(_:)``'s
    /// masks must agree with (tests check every byte).
    static func isAllowedRawByDefinition(_ byte: UInt8) -> Bool {
        if isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "="),
            UInt8(ascii: ":"), UInt8(ascii: "@"):
            return true
        default: return false
        }
    }

    static func isNameCharacter(_ byte: UInt8) -> Bool {
        isUnreserved(byte) && byte != UInt8(ascii: "-") && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "~")
    }

    static func upperHexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
