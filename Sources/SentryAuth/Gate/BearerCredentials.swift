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

    /// Reads every `Authorization` value of a request, in order.
    static func parse(_ values: [String]) -> BearerCredentials {
        guard let value = values.first else { return .missing }
        guard values.count == 1 else { return .malformed }
        guard value.utf8.count <= maximumLength else {
            return startsWithBearer(value[...]) ? .malformed : .missing
        }
        let field = trimmed(value[...])
        guard !field.isEmpty else { return .missing }
        guard let space = field.firstIndex(of: " ") else {
            // "Bearer" alone or a bare word: no token. "Bearer\tkey": a token, badly separated.
            return startsWithBearer(field) && field.utf8.count > 6 ? .malformed : .missing
        }
        let scheme = field[..<space]
        guard scheme.utf8.count == 6, startsWithBearer(scheme) else { return .missing }
        let token = field[space...].drop { $0 == " " }
        guard !token.isEmpty else { return .missing }
        return isToken68(token) ? .token(token) : .malformed
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
        var sawPadding = false
        for byte in token.utf8 {
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
        return token.first != "="
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}
