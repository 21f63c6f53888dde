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
    /// The headers are read as bytes end to end: a hop is exactly the bytes between two commas
    /// (`,` is one byte in UTF-8 and never part of another character's bytes), so a character that
    /// combines with a comma cannot hide a hop, and anything in a hop that is not ASCII makes it
    /// malformed (the client is then unknown).
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
        var walk = Walk(current: peer.unmapped)
        guard trustedProxies.contains(walk.current) else { return walk.current }
        for value in (header == .xForwardedFor ? forwardedFor : forwarded).reversed() {
            var value = value
            let step = value.withUTF8 { bytes in walk.step(through: bytes, resolver: self) }
            switch step {
            case .unknown: return nil
            case .client(let client): return client
            case .trusted: continue
            }
        }
        return walk.current
    }

    /// The state of a walk, right to left across header lines.
    private struct Walk {
        var current: IPAddress
        var hopsWalked = 0
        var bytesWalked = 0

        enum Outcome {
            /// Every hop of the line was a trusted proxy: go on to the line before.
            case trusted
            /// The first untrusted hop: the client.
            case client(IPAddress)
            /// A limit, a malformed or unknown hop: the client cannot be known.
            case unknown
        }

        /// Walks one header line from its last hop to its first.
        mutating func step(through line: UnsafeBufferPointer<UInt8>, resolver: ClientAddressResolver) -> Outcome {
            var end = line.count
            while true {
                let comma = line[..<end].lastIndex(of: UInt8(ascii: ","))
                let hop = UnsafeBufferPointer(rebasing: line[(comma.map { $0 + 1 } ?? 0)..<end])
                hopsWalked += 1
                bytesWalked += hop.count + (comma == nil ? 0 : 1)
                guard hopsWalked <= maximumHops, bytesWalked <= maximumHeaderBytes else { return .unknown }
                let parsed =
                    resolver.header == .xForwardedFor
                    ? parseForwardedForEntry(hop) : parseForwardedElement(hop)
                switch parsed {
                case .malformed, .unknown: return .unknown
                case .address(let address):
                    current = address.unmapped
                    if !resolver.trustedProxies.contains(current) { return .client(current) }
                }
                guard let comma else { return .trusted }
                end = comma
            }
        }
    }

    enum Hop: Equatable {
        case address(IPAddress)
        case unknown
        case malformed
    }

    /// An `X-Forwarded-For` entry: an address, `a.b.c.d:port` or `[v6]:port` with a decimal port,
    /// optionally surrounded by spaces or tabs; nothing else (no obfuscated `_port`: that is
    /// `Forwarded` syntax, RFC 7239 §6.3, and means nothing here).
    static func parseForwardedForEntry(_ entry: UnsafeBufferPointer<UInt8>) -> Hop {
        let trimmed = trimmed(entry)
        guard !trimmed.isEmpty else { return .malformed }
        if let address = address(trimmed), address.zone == nil {
            return .address(address)
        }
        return parseNode(trimmed, obfuscatedPorts: false)
    }

    /// A `Forwarded` element: `for=node` among `;`-separated pairs (RFC 7239 §4).
    static func parseForwardedElement(_ element: UnsafeBufferPointer<UInt8>) -> Hop {
        var node: UnsafeBufferPointer<UInt8>?
        var start = 0
        while start <= element.count {
            let stop = element[start...].firstIndex(of: UInt8(ascii: ";")) ?? element.count
            let pair = trimmed(UnsafeBufferPointer(rebasing: element[start..<stop]))
            start = stop + 1
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { return .malformed }
            guard isFor(UnsafeBufferPointer(rebasing: pair[..<equals])) else { continue }
            guard node == nil else { return .malformed }  // two for= in one element
            var value = UnsafeBufferPointer(rebasing: pair[(equals + 1)...])
            if value.first == UInt8(ascii: "\"") {
                guard value.count >= 2, value.last == UInt8(ascii: "\"") else { return .malformed }
                value = UnsafeBufferPointer(rebasing: value.dropFirst().dropLast())
                guard !value.contains(UInt8(ascii: "\\")), !value.contains(UInt8(ascii: "\"")) else {
                    return .malformed
                }
            } else {
                // An unquoted value is a token (RFC 9110 §5.6.2): no ':' or '[', so IPv6 and ports need quotes.
                guard value.allSatisfy(isHeaderTokenCharacter) else { return .malformed }
            }
            node = value
        }
        guard let node, !node.isEmpty else { return .malformed }
        if isUnknown(node) || node.first == UInt8(ascii: "_") { return .unknown }
        if let address = address(node), address.family == .v4 {
            return .address(address)
        }
        return parseNode(node, obfuscatedPorts: true)
    }

    /// `a.b.c.d:port`, `[v6]` or `[v6]:port`; obfuscated ports (`_abc`) only where `Forwarded` allows them.
    private static func parseNode(_ node: UnsafeBufferPointer<UInt8>, obfuscatedPorts: Bool) -> Hop {
        if node.first == UInt8(ascii: "[") {
            guard let close = node.firstIndex(of: UInt8(ascii: "]")) else { return .malformed }
            let rest = UnsafeBufferPointer(rebasing: node[(close + 1)...])
            let port = UnsafeBufferPointer(rebasing: rest.dropFirst())
            guard
                rest.first == UInt8(ascii: ":") && isPort(port, obfuscated: obfuscatedPorts)
                    || (rest.isEmpty && obfuscatedPorts)
            else { return .malformed }
            guard let address = address(UnsafeBufferPointer(rebasing: node[1..<close])),
                address.family == .v6, address.zone == nil
            else { return .malformed }
            return .address(address)
        }
        guard let colon = node.firstIndex(of: UInt8(ascii: ":")),
            isPort(UnsafeBufferPointer(rebasing: node[(colon + 1)...]), obfuscated: obfuscatedPorts),
            let address = address(UnsafeBufferPointer(rebasing: node[..<colon])),
            address.family == .v4
        else { return .malformed }
        return .address(address)
    }

    /// A decimal port (1 to 5 digits, at most 65535), or, where allowed, an obfuscated one (`_` and
    /// at least one letter, digit, `.`, `_` or `-`: RFC 7239 §6.3).
    private static func isPort(_ text: UnsafeBufferPointer<UInt8>, obfuscated: Bool) -> Bool {
        if text.first == UInt8(ascii: "_") {
            return obfuscated && text.count > 1 && text.dropFirst().allSatisfy(isTokenCharacter)
        }
        guard (1...5).contains(text.count), text.allSatisfy(IPAddress.isDigit) else { return false }
        return text.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 65535
    }

    /// The address these bytes spell, with ``IPAddress``'s own strict rules, or `nil`.
    private static func address(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        guard !bytes.isEmpty, bytes.count <= IPAddress.maximumTextLength else { return nil }
        return try? IPAddress.parse(UnsafeRawBufferPointer(bytes))
    }

    /// `for`, in any case.
    private static func isFor(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        name.count == 3 && name.map { $0 | 0x20 }.elementsEqual("for".utf8)
    }

    /// `unknown`, in any case.
    private static func isUnknown(_ node: UnsafeBufferPointer<UInt8>) -> Bool {
        node.count == 7 && node.map { $0 | 0x20 }.elementsEqual("unknown".utf8)
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

    /// The bytes without spaces and tabs at either end (optional whitespace, RFC 9110 §5.6.3).
    private static func trimmed(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return UnsafeBufferPointer(rebasing: text[0..<0]) }
        return UnsafeBufferPointer(rebasing: text[first...last])
    }
}
