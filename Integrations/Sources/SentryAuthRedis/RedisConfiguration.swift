/// Where a Redis server is and how to talk to it.
///
/// ```swift
/// let redis = try RedisConfiguration(url: "redis://127.0.0.1:6379/0")
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
    public init(
        host: String, port: Int = 6379, password: String? = nil, username: String? = nil, database: Int = 0,
        connectionCount: Int = 4, commandTimeout: Duration = .milliseconds(250),
        connectTimeout: Duration = .milliseconds(250), reconnectDelay: Duration = .milliseconds(100),
        maximumReconnectDelay: Duration = .seconds(2)
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
    }

    /// Reads a `redis://[[USER]:PASSWORD@]HOST[:PORT][/DATABASE]` URL. IPv6 hosts go in brackets.
    ///
    /// - Parameter url: The URL.
    /// - Throws: ``RedisError/invalidURL(_:)``, saying what is wrong without repeating a password.
    public init(url: String) throws(RedisError) {
        guard url.hasPrefix("redis://") else { throw .invalidURL("it must start with redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                username = credentials[..<colon].isEmpty ? nil : Self.percentDecoded(credentials[..<colon])
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                password = Self.percentDecoded(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), (0...65_535).contains(number) else {
                    throw .invalidURL("the database is a number, such as /0")
                }
                database = number
            }
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("an IPv6 host needs its closing ]") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("expected :PORT after the host") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw .invalidURL("the host is missing") }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw .invalidURL("the port is a number from 1 to 65535")
            }
            port = number
        }
        self.init(host: String(host), port: port, password: password, username: username, database: database)
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
                let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
                let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index = utf8.index(after: low)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The URL without the password: `redis://127.0.0.1:6379/0`.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        let credentials = password == nil ? "" : "\(username ?? ""):***@"
        return "redis://\(credentials)\(hostText):\(port)/\(database)"
    }
}
