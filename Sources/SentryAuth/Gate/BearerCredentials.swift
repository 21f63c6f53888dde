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
        withToken(of: values) { found in
            switch found {
            case .token(_, let range):
                let utf8 = values[0].utf8
                let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
                let end = utf8.index(utf8.startIndex, offsetBy: range.upperBound)
                return .token(values[0][start..<end])
            case .missing: return .missing
            case .malformed: return .malformed
            }
        }
    }

    /// What ``withToken(of:_:)`` found: the token's bytes (and their offsets in the header value),
    /// valid only inside the call.
    enum Found {
        case token(UnsafeBufferPointer<UInt8>, Range<Int>)
        case missing
        case malformed
    }

    /// Reads every `Authorization` value of a request and calls `body` with the token's bytes in
    /// place, copying nothing (a native string's own storage): the gate's hot path.
    static func withToken<Result>(of values: [String], _ body: (Found) -> Result) -> Result {
        guard let value = values.first else { return body(.missing) }
        guard values.count == 1 else { return body(.malformed) }
        return value.utf8.withContiguousStorageIfAvailable { body(token(in: $0)) }
            ?? Array(value.utf8).withUnsafeBufferPointer { body(token(in: $0)) }
    }

    /// The parse itself, over one header value's bytes.
    static func token(in bytes: UnsafeBufferPointer<UInt8>) -> Found {
        guard bytes.count <= maximumLength else {
            return startsWithBearer(bytes, at: 0) ? .malformed : .missing
        }
        var start = 0
        var end = bytes.count
        while start < end && isSpaceOrTab(bytes[start]) { start += 1 }
        while end > start && isSpaceOrTab(bytes[end - 1]) { end -= 1 }
        guard start < end else { return .missing }
        var space = start
        while space < end && bytes[space] != UInt8(ascii: " ") { space += 1 }
        guard space < end else {
            // "Bearer" alone or a bare word: no token. "Bearer\tkey": a token, badly separated.
            return startsWithBearer(bytes, at: start) && end - start > 6 ? .malformed : .missing
        }
        guard space - start == 6, startsWithBearer(bytes, at: start) else { return .missing }
        var tokenStart = space
        while tokenStart < end && bytes[tokenStart] == UInt8(ascii: " ") { tokenStart += 1 }
        guard tokenStart < end else { return .missing }
        let token = UnsafeBufferPointer(rebasing: bytes[tokenStart..<end])
        return isToken68(token) ? .token(token, tokenStart..<end) : .malformed
    }

    @inline(__always)
    private static func isSpaceOrTab(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// Whether the six bytes at `start` are `bearer` in any case (ASCII case folding: bit 0x20 set
    /// for letters only).
    private static func startsWithBearer(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard bytes.count - start >= 6 else { return false }
        let bearer: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0x62, 0x65, 0x61, 0x72, 0x65, 0x72)
        @inline(__always) func folded(_ byte: UInt8) -> UInt8 { (byte >= 65 && byte <= 90) ? byte | 0x20 : byte }
        return folded(bytes[start]) == bearer.0 && folded(bytes[start + 1]) == bearer.1
            && folded(bytes[start + 2]) == bearer.2 && folded(bytes[start + 3]) == bearer.3
            && folded(bytes[start + 4]) == bearer.4 && folded(bytes[start + 5]) == bearer.5
    }

    /// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 9110 §11.2).
    private static func isToken68(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // A key is all base64url: eight bytes at a time settle it; anything else goes byte by byte.
        if APIKeyFormat.isBase64URL(bytes) { return true }
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
