public import Hummingbird
public import NIOCore
public import SentryAuth

/// A Hummingbird request context that SentryAuth can run in: it knows the socket's peer address
/// (``RemoteAddressRequestContext``) and holds the ``Principal`` of an allowed request.
///
/// Adopt it in your own context, or use ``BasicSentryAuthRequestContext``:
///
/// ```swift
/// struct AppContext: SentryAuthRequestContext {
///     var coreContext: CoreRequestContextStorage
///     var principal: Principal?
///     let remoteAddress: SocketAddress?   // import NIOCore
///
///     init(source: ApplicationRequestContextSource) {
///         coreContext = .init(source: source)
///         remoteAddress = source.channel.remoteAddress
///     }
/// }
/// ```
public protocol SentryAuthRequestContext: RemoteAddressRequestContext {
    /// Who an allowed request acts for; set by ``SentryAuthMiddleware`` before your handler runs.
    var principal: Principal? { get set }
}

extension SentryAuthRequestContext {
    /// The principal of a request that passed the gate.
    ///
    /// - Throws: `HTTPError(.unauthorized)` when no ``SentryAuthMiddleware`` ran before the handler
    ///   (a routing mistake: fail closed).
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw HTTPError(.unauthorized) }
        return principal
    }
}

/// The smallest ``SentryAuthRequestContext``: core storage, the peer address and the principal.
public struct BasicSentryAuthRequestContext: SentryAuthRequestContext {
    /// Hummingbird's core context storage.
    public var coreContext: CoreRequestContextStorage
    /// Who an allowed request acts for.
    public var principal: Principal?
    /// The socket's peer address.
    public let remoteAddress: SocketAddress?

    /// Creates the context for a request arriving on a channel.
    ///
    /// - Parameter source: The channel and logger of the request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
