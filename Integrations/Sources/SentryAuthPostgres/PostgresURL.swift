public import PostgresNIO
import NIOSSL
import SentryAuthEngineSupport

/// A PostgreSQL connection URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=FILE]`,
/// read into the configurations postgres-nio takes. The user, the password and the database are
/// percent-decoded (`%40` is `@`), by the same rule as ``RedisConfiguration``'s URL in SentryAuthRedis.
///
/// TLS follows libpq's parameters: `sslmode` is `disable` (the default: plaintext, for loopback or a
/// private network), `require` (encrypted; the certificate is not checked unless `sslrootcert` is
/// given, as in libpq), `verify-ca` (the certificate must chain to `sslrootcert`, or to the system's
/// trust store without it) or `verify-full` (that, and it must name the host: a DNS name, or an IP
/// address in its subject alternative names). `prefer` and `allow` are refused: they fall back to
/// plaintext without a word. A certificate that does not verify fails the connection, never falls
/// back. Password authentication (SCRAM-SHA-256, MD5, clear text over TLS) is whatever the server asks.
///
/// ```swift
/// let url = try PostgresURL("postgres://sentry:pw@db.internal/sentry?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem")
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
    /// How the connection is protected (libpq's `sslmode`).
    public let tlsMode: TLSMode
    /// The PEM file of the certificates a server's certificate must chain to (libpq's `sslrootcert`);
    /// `nil` for the system's trust store.
    public let rootCertificatePath: String?
    /// The TLS configuration and context, made once when the URL is read (so an unreadable
    /// certificate file is an error then, not at the first connection).
    private let tls: TLSSettings?

    /// libpq's `sslmode`, the values that never fall back to plaintext.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plaintext.
        case disable
        /// Encrypted; the certificate is checked only when a root certificate file is given.
        case require
        /// Encrypted; the certificate must chain to the trusted roots.
        case verifyCA = "verify-ca"
        /// Encrypted; the certificate must chain to the trusted roots and name the host.
        case verifyFull = "verify-full"
    }

    /// Reads a URL.
    ///
    /// - Parameter url: `postgres://` or `postgresql://`, a user, a host and a database; optionally
    ///   `sslmode` and `sslrootcert`.
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
        for name in parts.query.keys.sorted() where name != "sslmode" && name != "sslrootcert" {
            throw .invalidURL("the parameter \(name) is not supported (sslmode and sslrootcert are)")
        }
        let mode: TLSMode
        switch parts.query["sslmode"] {
        case nil: mode = .disable
        case "prefer", "allow":
            throw .invalidURL(
                "sslmode=\(parts.query["sslmode"]!) may fall back to plaintext: use require, verify-ca or verify-full"
                    + " (or disable)")
        case let text?:
            guard let known = TLSMode(rawValue: text) else {
                throw .invalidURL("sslmode is disable, require, verify-ca or verify-full")
            }
            mode = known
        }
        let root = parts.query["sslrootcert"]
        if root != nil && mode == .disable {
            throw .invalidURL("sslrootcert needs sslmode=require, verify-ca or verify-full")
        }
        host = parts.host
        port = parts.port ?? 5432
        username = user
        password = parts.password
        self.database = database
        tlsMode = mode
        rootCertificatePath = root
        tls = mode == .disable ? nil : try TLSSettings(mode: mode, rootCertificatePath: root)
    }

    /// The configuration of a `PostgresClient` (a pool) for this URL.
    public var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: tls.map { .require($0.configuration) } ?? .disable)
    }

    /// The configuration of a single `PostgresConnection` for this URL (the change feed's).
    public var connectionConfiguration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: tls.map { .require($0.context) } ?? .disable)
    }

    /// Whether two URLs name the same server, credentials, database and TLS.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.host == rhs.host && lhs.port == rhs.port && lhs.username == rhs.username && lhs.password == rhs.password
            && lhs.database == rhs.database && lhs.tlsMode == rhs.tlsMode
            && lhs.rootCertificatePath == rhs.rootCertificatePath
    }

    /// Hashes what ``==(_:_:)`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
        hasher.combine(username)
        hasher.combine(password)
        hasher.combine(database)
        hasher.combine(tlsMode)
        hasher.combine(rootCertificatePath)
    }

    /// The URL with the password masked (`***`), its TLS parameters included: it reads back as the
    /// same URL once the password is put back.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        var query: [String] = []
        if tlsMode != .disable { query.append("sslmode=\(tlsMode.rawValue)") }
        if let rootCertificatePath { query.append("sslrootcert=\(Self.queryEncoded(rootCertificatePath))") }
        return
            "postgres://\(Self.encoded(username))\(password == nil ? "" : ":***")@\(hostText):\(port)/\(Self.encoded(database))"
            + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// A query parameter's value: `%`, `&`, `#` and `=` escaped, paths left readable.
    private static func queryEncoded(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%", "&", "#", "=": result += "%" + String(scalar.value, radix: 16, uppercase: true)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
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
