public import PostgresNIO

/// A PostgreSQL connection URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, read into the
/// configurations postgres-nio takes. TLS is not negotiated (`?sslmode=` is refused): put the server
/// on a private network or loopback, or build a `PostgresClient.Configuration` with TLS yourself.
///
/// ```swift
/// let url = try PostgresURL("postgres://sentry@127.0.0.1:5432/sentry")
/// let client = PostgresClient(configuration: url.clientConfiguration)
/// ```
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// The server's host name or address.
    public let host: String
    /// The server's port, 5432 by default.
    public let port: Int
    /// The user name.
    public let username: String
    /// The password, if any. Never printed.
    public let password: String?
    /// The database.
    public let database: String

    /// Reads a URL.
    ///
    /// - Parameter url: `postgres://` or `postgresql://`, a user, a host and a database.
    /// - Throws: ``PostgresKeyStoreError/invalidURL(_:)``, saying what is wrong without the password.
    public init(_ url: String) throws(PostgresKeyStoreError) {
        guard let schemeEnd = url.range(of: "://"),
            ["postgres", "postgresql"].contains(url[..<schemeEnd.lowerBound])
        else { throw .invalidURL("it must start with postgres://") }
        var rest = url[schemeEnd.upperBound...]
        if rest.contains("?") { throw .invalidURL("query parameters (such as sslmode) are not supported") }
        guard let at = rest.lastIndex(of: "@") else { throw .invalidURL("the user is missing (USER@HOST)") }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            username = String(credentials[..<colon])
            password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
        } else {
            username = String(credentials)
            password = nil
        }
        guard !username.isEmpty else { throw .invalidURL("the user is missing (USER@HOST)") }
        guard let slash = rest.firstIndex(of: "/"), rest.index(after: slash) < rest.endIndex else {
            throw .invalidURL("the database is missing (HOST/DATABASE)")
        }
        database = String(rest[rest.index(after: slash)...])
        var hostPart = rest[..<slash]
        var portText: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else {
                throw .invalidURL("an IPv6 host needs its closing ]")
            }
            let after = hostPart[hostPart.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("expected :PORT after the host") }
                portText = after.dropFirst()
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portText = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw .invalidURL("the host is missing") }
        host = String(hostPart)
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw .invalidURL("the port is a number from 1 to 65535")
            }
            port = number
        } else {
            port = 5432
        }
    }

    /// The configuration of a `PostgresClient` (a pool), without TLS.
    public var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }

    /// The configuration of one `PostgresConnection`, without TLS: what the change feed listens on.
    public var connectionConfiguration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }

    /// The URL with the password masked: `postgres://sentry:***@127.0.0.1:5432/sentry`.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)\(password == nil ? "" : ":***")@\(hostText):\(port)/\(database)"
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            let digits = [iterator.next(), iterator.next()].compactMap { $0 }
            if digits.count == 2, let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
                bytes += digits
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
