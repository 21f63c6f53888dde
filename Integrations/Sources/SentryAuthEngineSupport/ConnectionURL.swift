/// An engine's connection URL, `SCHEME://[USER[:PASSWORD]@]HOST[:PORT][/PATH]`, split and
/// percent-decoded by one rule for PostgreSQL and Redis alike.
///
/// - The user, the password and the path are percent-decoded (`%40` is `@`); an escape that is not
///   two hexadecimal digits, or bytes that are not UTF-8, are refused.
/// - The credentials end at the *last* `@` before the host, so a password may contain a raw `@`;
///   the user ends at the first `:`.
/// - An IPv6 host goes in brackets, `[::1]:5432`; the port is 1 to 65535.
/// - A query (`?…`) or a fragment (`#…`) is refused: nothing would read it.
///
/// Problems are described without repeating the password.
package struct ConnectionURL: Sendable, Hashable {
    /// The scheme, lowercased.
    package var scheme: String
    /// The decoded user, if the URL has credentials (possibly empty: `:secret@host`).
    package var user: String?
    /// The decoded password, if the credentials have a `:`.
    package var password: String?
    /// The host, without brackets.
    package var host: String
    /// The port, if given.
    package var port: Int?
    /// The decoded path after the host's `/`, if any (empty for a bare `/`).
    package var path: String?
    /// The query's parameters (`?NAME=VALUE&…`), percent-decoded; each name at most once.
    package var query: [String: String]

    /// Splits a URL.
    ///
    /// - Parameters:
    ///   - text: The URL.
    ///   - schemes: The schemes accepted.
    /// - Throws: ``ConnectionURLProblem``, a sentence without the password.
    package init(_ text: String, schemes: Set<String>) throws(ConnectionURLProblem) {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else {
            throw .init("it must start with \(Self.list(schemes))")
        }
        scheme = text[..<colon].lowercased()
        guard schemes.contains(scheme) else { throw .init("it must start with \(Self.list(schemes))") }
        var rest = text[text.index(colon, offsetBy: 3)...]
        // The authority ends at the first `/` after the credentials: credentials may hold `/`.
        let at = rest.lastIndex(of: "@")
        let hostStart = at.map { rest.index(after: $0) } ?? rest.startIndex
        if rest[hostStart...].contains("#") { throw .init("a fragment (#…) is not supported") }
        query = [:]
        if let mark = rest[hostStart...].firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false) {
                guard let equals = pair.firstIndex(of: "="), equals > pair.startIndex else {
                    throw .init("a query parameter is NAME=VALUE")
                }
                let name = try Self.decoded(pair[..<equals], part: "a parameter name")
                guard query[name] == nil else { throw .init("the parameter \(name) is given twice") }
                query[name] = try Self.decoded(pair[pair.index(after: equals)...], part: "the parameter \(name)")
            }
            rest = rest[..<mark]
        }
        if let at {
            let credentials = rest[..<at]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.decoded(credentials[..<colon], part: "the user")
                password = try Self.decoded(credentials[credentials.index(after: colon)...], part: "the password")
            } else {
                user = try Self.decoded(credentials, part: "the user")
                password = nil
            }
        } else {
            user = nil
            password = nil
        }
        rest = rest[hostStart...]
        if let slash = rest.firstIndex(of: "/") {
            path = try Self.decoded(rest[rest.index(after: slash)...], part: "the path")
            rest = rest[..<slash]
        } else {
            path = nil
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .init("an IPv6 host needs its closing ]") }
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .init("expected :PORT after the host") }
                portText = after.dropFirst()
            }
            rest = rest[rest.index(after: rest.startIndex)..<close]
        } else if let colon = rest.lastIndex(of: ":") {
            portText = rest[rest.index(after: colon)...]
            rest = rest[..<colon]
            if rest.contains(":") { throw .init("an IPv6 host goes in brackets, such as [::1]") }
        }
        guard !rest.isEmpty else { throw .init("the host is missing") }
        guard rest.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "%") }) else {
            throw .init("the host has a character a host name cannot have")
        }
        host = String(rest)
        if let portText {
            guard portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(portText),
                (1...65_535).contains(number)
            else { throw .init("the port is a number from 1 to 65535") }
            port = number
        } else {
            port = nil
        }
    }

    private static func list(_ schemes: Set<String>) -> String {
        schemes.sorted().map { "\($0)://" }.joined(separator: " or ")
    }

    /// Percent-decodes one part; `part` names it in the error (never its text).
    private static func decoded(_ text: Substring, part: String) throws(ConnectionURLProblem) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else { throw .init("\(part) has a % that is not followed by two hexadecimal digits") }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .init("\(part) is not UTF-8 once decoded")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// What is wrong with a connection URL, in a sentence that never quotes its password.
package struct ConnectionURLProblem: Error, Sendable, Hashable {
    /// The sentence.
    package let message: String

    init(_ message: String) { self.message = message }
}
