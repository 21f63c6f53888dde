/// Finds the client's address behind reverse proxies, from the peer address and the forwarding
/// header the proxies write.
///
/// The rule is the one that cannot be spoofed: start from the peer (the socket's remote address)
/// and, while the current hop is a trusted proxy, step one entry to the left in the forwarding
/// chain. Entries left of the first untrusted hop were written by the client and are never read,
/// so `X-Forwarded-For: 127.0.0.1` sent by an attacker changes nothing.
///
/// - A peer that is not a trusted proxy is the client; its headers are ignored.
/// - The walk ends at the first untrusted address: that is the client.
/// - A chain made only of trusted, well-formed addresses resolves to its leftmost entry (or to the
///   peer when there is no header).
/// - When the walk stops before either — more than ``maximumHops`` hops walked, more than
///   ``maximumHeaderBytes`` bytes walked, a malformed hop, a hop written as `unknown` or an
///   obfuscated identifier (RFC 7239 §6) — the client is unknown and the result is `nil`, so a key
///   with an allowlist is refused (fail closed). The answer is never a trusted proxy's own address
///   because of a limit: padding the header with junk cannot turn the client into the proxy.
///
/// The limits count only what the walk reads, right to left: a client that sends 1,000 entries to a
/// proxy that appends the real address is resolved at the first step, to that real address.
///
/// ```swift
/// let resolver = ClientAddressResolver(trustedProxies: try IPAllowlist(parsing: ["10.0.0.0/8"]))
/// let client = resolver.resolve(
///     peer: try IPAddress("10.0.0.2"), forwardedFor: ["198.51.100.7, 10.0.0.9"])
/// // client == 198.51.100.7
/// ```
public struct ClientAddressResolver: Sendable, Hashable {
    /// Which header the trusted proxies write.
    public enum Header: Sendable, Hashable {
        /// `X-Forwarded-For: client, proxy1, proxy2`.
        case xForwardedFor
        /// `Forwarded: for=client, for=proxy1` (RFC 7239).
        case forwarded
    }

    /// The proxies whose forwarding entries are believed.
    public let trustedProxies: IPAllowlist
    /// The header those proxies write.
    public let header: Header

    /// The most forwarding entries the walk reads before giving up (the client is then unknown).
    public static let maximumHops = 64
    /// The most bytes of forwarding entries the walk reads before giving up (the client is then unknown).
    public static let maximumHeaderBytes = 8192

    /// Creates a resolver.
    ///
    /// - Parameters:
    ///   - trustedProxies: The proxies whose forwarding entries are believed; empty to trust none,
    ///     so that the peer address is always the client.
    ///   - header: The header the proxies write; `X-Forwarded-For` by default.
    public init(trustedProxies: IPAllowlist, header: Header = .xForwardedFor) {
        self.trustedProxies = trustedProxies
        self.header = header
    }

    /// Resolves the client address.
    ///
    /// - Parameters:
    ///   - peer: The socket's remote address, or `nil` if unknown.
    ///   - forwardedFor: Every value of the `X-Forwarded-For` header, in the order received.
    ///   - forwarded: Every value of the `Forwarded` header, in the order received.
    /// - Returns: The client address, or `nil` when it cannot be known.
    public func resolve(
        peer: IPAddress?, forwardedFor: [String] = [], forwarded: [String] = []
    ) -> IPAddress? {
        guard let peer else { return nil }
        var current = peer.unmapped
        guard trustedProxies.contains(current) else { return current }
        var hopsWalked = 0
        var bytesWalked = 0
        for value in (header == .xForwardedFor ? forwardedFor : forwarded).reversed() {
            var rest = value[...]
            while true {
                // The rightmost entry of what is left of this header line.
                let comma = rest.utf8.lastIndex(of: UInt8(ascii: ","))
                let hop = comma.map { rest[rest.index(after: $0)...] } ?? rest
                hopsWalked += 1
                bytesWalked += hop.utf8.count + (comma == nil ? 0 : 1)
                guard hopsWalked <= Self.maximumHops, bytesWalked <= Self.maximumHeaderBytes else { return nil }
                switch header == .xForwardedFor ? Self.parseForwardedForEntry(hop) : Self.parseForwardedElement(hop) {
                case .malformed, .unknown: return nil
                case .address(let address):
                    current = address.unmapped
                    if !trustedProxies.contains(current) { return current }
                }
                guard let comma else { break }
                rest = rest[..<comma]
            }
        }
        return current
    }

    enum Hop: Equatable {
        case address(IPAddress)
        case unknown
        case malformed
    }

    /// An `X-Forwarded-For` entry: an address, optionally `a.b.c.d:port` or `[v6]:port`.
    static func parseForwardedForEntry(_ entry: Substring) -> Hop {
        let trimmed = trimmed(entry)
        guard !trimmed.isEmpty else { return .malformed }
        if let address = try? IPAddress(trimmed), address.zone == nil { return .address(address) }
        return parseNode(trimmed)
    }

    /// A `Forwarded` element: `for=node` among `;`-separated pairs (RFC 7239 §4).
    static func parseForwardedElement(_ element: Substring) -> Hop {
        var node: Substring?
        for pair in element.split(separator: ";", omittingEmptySubsequences: false) {
            let pair = trimmed(pair)
            guard let equals = pair.firstIndex(of: "=") else { return .malformed }
            let name = pair[..<equals].lowercased()
            guard name == "for" else { continue }
            guard node == nil else { return .malformed }  // two for= in one element
            var value = pair[pair.index(after: equals)...]
            if value.first == "\"" {
                guard value.count >= 2, value.last == "\"" else { return .malformed }
                value = value.dropFirst().dropLast()
                guard !value.contains("\\"), !value.contains("\"") else { return .malformed }
            } else {
                // An unquoted value is a token (RFC 7230 §3.2.6): no ':' or '[', so IPv6 and ports need quotes.
                guard value.utf8.allSatisfy(isHeaderTokenCharacter) else { return .malformed }
            }
            node = value
        }
        guard let node, !node.isEmpty else { return .malformed }
        if node.lowercased() == "unknown" || node.first == "_" { return .unknown }
        if let address = try? IPAddress(node), address.family == .v4 { return .address(address) }
        return parseNode(node)
    }

    /// `a.b.c.d:port`, `[v6]` or `[v6]:port` (obfuscated ports allowed in `Forwarded`).
    private static func parseNode(_ node: Substring) -> Hop {
        if node.first == "[" {
            guard let close = node.firstIndex(of: "]") else { return .malformed }
            let rest = node[node.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && isPort(rest.dropFirst())) else { return .malformed }
            guard let address = try? IPAddress(node[node.index(after: node.startIndex)..<close]),
                address.family == .v6, address.zone == nil
            else { return .malformed }
            return .address(address)
        }
        guard let colon = node.firstIndex(of: ":"), node[node.index(after: colon)...].firstIndex(of: ":") == nil,
            isPort(node[node.index(after: colon)...]), let address = try? IPAddress(node[..<colon]),
            address.family == .v4
        else { return .malformed }
        return .address(address)
    }

    private static func isPort(_ text: Substring) -> Bool {
        if text.first == "_" { return text.count > 1 && text.utf8.dropFirst().allSatisfy(isTokenCharacter) }
        return (1...5).contains(text.count) && text.utf8.allSatisfy(IPAddress.isDigit) && Int(text)! <= 65535
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// `tchar` of RFC 9110 §5.6.2.
    private static func isHeaderTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}
