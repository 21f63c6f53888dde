/// Why a Redis command failed.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum, as the core library's errors are.
    private enum Kind: Sendable, Hashable {
        case unavailable(String)
        case timeout
        case connectionClosed
        case server(String)
        case protocolViolation(String)
        case unexpectedReply(String)
        case invalidURL(String)
        case tls(String)
        case authentication(String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// No connection could be made (refused, unreachable, or failed recently and backing off).
    ///
    /// - Parameter reason: What the connection attempt said.
    /// - Returns: The error.
    public static func unavailable(_ reason: String) -> Self { Self(.unavailable(reason)) }

    /// The server did not answer within the configured time; the connection was closed.
    public static var timeout: Self { Self(.timeout) }

    /// The connection closed before the reply arrived.
    public static var connectionClosed: Self { Self(.connectionClosed) }

    /// The server answered with an error reply, such as `NOSCRIPT` or `WRONGTYPE`.
    ///
    /// - Parameter message: The error reply's text.
    /// - Returns: The error.
    public static func server(_ message: String) -> Self { Self(.server(message)) }

    /// The bytes from the server were not valid RESP; the connection was closed.
    ///
    /// - Parameter detail: What was wrong.
    /// - Returns: The error.
    public static func protocolViolation(_ detail: String) -> Self { Self(.protocolViolation(detail)) }

    /// A reply of a shape the command never returns.
    ///
    /// - Parameter detail: What was expected.
    /// - Returns: The error.
    public static func unexpectedReply(_ detail: String) -> Self { Self(.unexpectedReply(detail)) }

    /// A Redis URL that cannot be used.
    ///
    /// - Parameter detail: What is wrong with it (never the password).
    /// - Returns: The error.
    public static func invalidURL(_ detail: String) -> Self { Self(.invalidURL(detail)) }

    /// The text of an error reply, if the server sent one.
    var serverMessage: String? {
        if case .server(let message) = kind { return message }
        return nil
    }

    /// Whether no reply came: no connection, a timeout or a closed connection (not an error reply).
    var isConnectionFailure: Bool {
        switch kind {
        case .unavailable, .timeout, .connectionClosed, .protocolViolation, .tls, .authentication: true
        case .server, .unexpectedReply, .invalidURL: false
        }
    }

    /// TLS failed: the server's certificate did not verify (an unknown authority, another host name,
    /// expired), the CA file could not be read, or the server does not speak TLS.
    ///
    /// - Parameter reason: What failed, naming the certificate or the file.
    /// - Returns: The error.
    public static func tls(_ reason: String) -> Self { Self(.tls(reason)) }

    /// The server refused the credentials (`AUTH`): a wrong password or user, or none given where one
    /// is needed.
    ///
    /// - Parameter message: The server's reply (it never repeats the password).
    /// - Returns: The error.
    public static func authentication(_ message: String) -> Self { Self(.authentication(message)) }

    /// Whether the configuration cannot work however often it is tried (TLS or credentials), as
    /// opposed to a server that is down.
    var isConfigurationError: Bool {
        switch kind {
        case .tls, .authentication, .invalidURL: true
        default: false
        }
    }

    /// Whether the server refused a script it does not have (`NOSCRIPT`).
    var isNoScript: Bool {
        if case .server(let message) = kind { return message.hasPrefix("NOSCRIPT") }
        return false
    }

    /// The error's `kind` dimension in the store's error counter: `timeout`, `unavailable` (refused,
    /// closed, or waiting to reconnect) or `reply` (an error or malformed reply).
    var metricKind: String {
        switch kind {
        case .timeout: "timeout"
        case .unavailable, .connectionClosed, .tls, .authentication: "unavailable"
        case .server, .protocolViolation, .unexpectedReply, .invalidURL: "reply"
        }
    }

    /// A message saying what failed.
    public var description: String {
        switch kind {
        case .unavailable(let reason): "Redis is unavailable: \(reason)"
        case .timeout: "Redis did not answer in time."
        case .connectionClosed: "The connection to Redis closed before the reply arrived."
        case .server(let message): "Redis refused the command: \(message)"
        case .protocolViolation(let detail): "Redis sent a malformed reply (\(detail))."
        case .unexpectedReply(let detail): "Redis sent an unexpected reply: expected \(detail)."
        case .invalidURL(let detail): "Invalid Redis URL: \(detail)"
        case .tls(let reason): "Redis: TLS failed: \(reason)"
        case .authentication(let message): "Redis refused the credentials: \(message)"
        }
    }
}
