import SentryAuthEngineSupport

/// Where a Redis server (or any node of a Redis Cluster) is and how to talk to it.
///
/// ```swift
/// let redis = try RedisConfiguration(url: "redis://127.0.0.1:6379/0")
/// var managed = try RedisConfiguration(url: "rediss://sentry:PASSWORD@redis.internal:6380")
/// managed.certificateAuthorityPath = "/etc/ssl/redis-ca.pem"  // else the system's trust store
/// ```
public struct RedisConfiguration: Sendable, Hashable {
    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The password for `AUTH`, if the server needs one. Never printed.
    public var password: String?
    /// The user name for `AUTH` (Redis 6 ACLs), if any.
    public var username: String?
    /// The database number to `SELECT`, 0 by default.
    public var database: Int
    /// How many connections to keep: requests are spread over them and pipelined on each.
    public var connectionCount: Int
    /// How long a command may take, from being written to its reply, before the connection is closed
    /// and the command fails with ``RedisError/timeout``.
    public var commandTimeout: Duration
    /// How long connecting may take.
    public var connectTimeout: Duration
    /// After a failed connection attempt, how long a connection slot fails at once before trying
    /// again; doubles on each failure up to ``maximumReconnectDelay``.
    public var reconnectDelay: Duration
    /// The longest wait between connection attempts.
    public var maximumReconnectDelay: Duration
    /// Whether connections use TLS (`rediss://`): the server's certificate must verify against
    /// ``certificateAuthorityPath`` (or the system's trust store) and name ``host``.
    public var usesTLS: Bool
    /// A PEM file of the certificate authorities that the server's certificate must chain to, for
    /// TLS; the system's trust store when `nil`.
    public var certificateAuthorityPath: String?

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - host: The server's host name or address.
    ///   - port: The server's port, 6379 by default.
    ///   - password: The password, if any.
    ///   - username: The ACL user name, if any.
    ///   - database: The database number.
    ///   - connectionCount: How many connections to keep (1 to 64).
    ///   - commandTimeout: See ``commandTimeout``; 250 ms by default.
    ///   - connectTimeout: See ``connectTimeout``; 250 ms by default.
    ///   - reconnectDelay: See ``reconnectDelay``; 100 ms by default.
    ///   - maximumReconnectDelay: See ``maximumReconnectDelay``; 2 s by default.
    ///   - usesTLS: See ``usesTLS``; `false` by default.
    ///   - certificateAuthorityPath: See ``certificateAuthorityPath``.
    public init(
        host: String, port: Int = 6379, password: String? = nil, username: String? = nil, database: Int = 0,
        connectionCount: Int = 4, commandTimeout: Duration = .milliseconds(250),
        connectTimeout: Duration = .milliseconds(250), reconnectDelay: Duration = .milliseconds(100),
        maximumReconnectDelay: Duration = .seconds(2), usesTLS: Bool = false, certificateAuthorityPath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.password = password
        self.username = username
        self.database = database
        self.connectionCount = min(64, max(1, connectionCount))
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.reconnectDelay = reconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.usesTLS = usesTLS
        self.certificateAuthorityPath = certificateAuthorityPath
    }

    /// Reads a `redis://[[USER]:PASSWORD@]HOST[:PORT][/DATABASE]` URL, or `rediss://…` for TLS. IPv6
    /// hosts go in brackets.
    ///
    /// - Parameter url: The URL.
    /// - Throws: ``RedisError/invalidURL(_:)``, saying what is wrong without repeating a password.
    public init(url: String) throws(RedisError) {
        let parts: ConnectionURL
        do {
            parts = try ConnectionURL(url, schemes: ["redis", "rediss"])
        } catch {
            throw .invalidURL(error.message)
        }
        guard parts.query.isEmpty else { throw .invalidURL("query parameters (?…) are not supported") }
        var database = 0
        if let path = parts.path, !path.isEmpty {
            guard path.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(path),
                (0...65_535).contains(number)
            else { throw .invalidURL("the database is a number, such as /0") }
            database = number
        }
        // `redis://SECRET@HOST` is redis-cli's form for a password alone; `USER:SECRET@` names an ACL user.
        let username = parts.password == nil ? nil : parts.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = parts.password ?? parts.user
        self.init(
            host: parts.host, port: parts.port ?? 6379, password: password, username: username, database: database,
            usesTLS: parts.scheme == "rediss")
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The URL without the password: `redis://127.0.0.1:6379/0`, `rediss://sentry:***@redis.internal:6380/0`.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        let credentials = password == nil ? "" : "\(username ?? ""):***@"
        return "\(usesTLS ? "rediss" : "redis")://\(credentials)\(hostText):\(port)/\(database)"
    }
}
