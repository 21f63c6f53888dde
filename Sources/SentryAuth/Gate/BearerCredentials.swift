/// The `Authorization` header, read as RFC 6750 §2.1 bearer credentials.
///
/// `credentials = auth-scheme 1*SP token68`, with the scheme compared case-insensitively
/// (RFC 9110 §11.1). Exactly one header value is accepted, up to ``maximumLength`` bytes; leading
/// and trailing spaces and tabs of the field value are ignored.
enum BearerCredentials: Equatable {
    /// A bearer token, not yet checked against the key format.
    case token(Substring)
    /// No usable credentials and no token: missing header, empty value, another scheme, `Bearer`
    /// with nothing after it.
    case missing
    /// A bearer token was presented, but the header is malformed: two credentials, trailing junk,
    /// a token that is not token68, or a header over the size limit.
    case malformed

    /// The longest `Authorization` value read.
    static let maximumLength = 8192

    /// Reads every `Authorization` value of a request, in order. Works on UTF-8 bytes only: no
    /// `Character` is formed, so no grapheme breaking on the hot path.
    static func parse(_ values: [String]) -> BearerCredentials {
        guard let value = values.first else { return .missing }
        guard values.count == 1 else { return .malformed }
        let utf8 = value.utf8
        guard utf8.count <= maximumLength else {
            return startsWithBearer(value[...]) ? .malformed : .missing
        }
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end && isSpaceOrTab(utf8[start]) { start = utf8.index(after: start) }
        while end > start && isSpaceOrTab(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        guard start < end else { return .missing }
        let field = value[start..<end]
        guard let space = field.utf8.firstIndex(of: UInt8(ascii: " ")) else {
            // "Bearer" alone or a bare word: no token. "Bearer\tkey": a token, badly separated.
            return startsWithBearer(field) && field.utf8.count > 6 ? .malformed : .missing
        }
        guard utf8.distance(from: start, to: space) == 6, startsWithBearer(field) else { return .missing }
        var tokenStart = space
        while tokenStart < end && utf8[tokenStart] == UInt8(ascii: " ") { tokenStart = utf8.index(after: tokenStart) }
        guard tokenStart < end else { return .missing }
        let token = value[tokenStart..<end]
        return isToken68(token) ? .token(token) : .malformed
    }

    @inline(__always)
    private static func isSpaceOrTab(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static let bearer: [UInt8] = Array("bearer".utf8)

    private static func startsWithBearer(_ text: Substring) -> Bool {
        var index = 0
        for byte in text.utf8.prefix(6) {
            // ASCII case folding: set bit 0x20 for letters only.
            let folded = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
            guard folded == bearer[index] else { return false }
            index += 1
        }
        return index == 6
    }

    /// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 9110 §11.2).
    private static func isToken68(_ token: Substring) -> Bool {
        token.utf8.withContiguousStorageIfAvailable { isToken68(bytes: $0) } ?? isToken68(bytes: Array(token.utf8))
    }

    private static func isToken68(bytes: some Collection<UInt8>) -> Bool {
        var sawPadding = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "="):
                sawPadding = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if sawPadding { return false }
            default:
                return false
            }
        }
        return bytes.first != UInt8(ascii: "=")
    }
}
