public import PostgresNIO
import SentryAuthEngineSupport

/// A PostgreSQL connection URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, read into the
/// configurations postgres-nio takes. The user, the password and the database are percent-decoded
/// (`%40` is `@`), by the same rule as ``RedisConfiguration``'s URL in SentryAuthRedis. TLS is not negotiated (`?sslmode=` is refused): put the server
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
        let parts: ConnectionURL
        do {
            parts = try ConnectionURL(url, schemes: ["postgres", "postgresql"])
        } catch {
            throw .invalidURL(error.message)
        }
        guard let user = parts.user, !user.isEmpty else { throw .invalidURL("the user is missing (USER@HOST)") }
        guard let database = parts.path, !database.isEmpty else {
            throw .invalidURL("the database is missing (HOST/DATABASE)")
        }
        host = parts.host
        port = parts.port ?? 5432
        username = user
        password = parts.password
        self.database = database
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

    /// The URL with the password masked: `postgres://sentry:***@127.0.0.1:5432/sentry` (the user and
    /// the database percent-encoded where they need it, so the text reads back as the same URL).
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        return
            "postgres://\(Self.encoded(username))\(password == nil ? "" : ":***")@\(hostText):\(port)/\(Self.encoded(database))"
    }

    private static func encoded(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%", "@", ":", "/", "?", "#", "[", "]":
                result += "%" + String(scalar.value, radix: 16, uppercase: true)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
