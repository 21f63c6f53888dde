public import Hummingbird
public import HummingbirdAuth
public import NIOCore
public import SentryAuth

/// A Hummingbird request context that SentryAuth can run in: it knows the socket's peer address
/// (``RemoteAddressRequestContext``) and holds the ``Principal`` of an allowed request and, where
/// the context keeps it, the whole allowed decision (``allowedRequest``: the route, its parameters
/// and the rate-limit state).
///
/// Adopt it in your own context, or use ``BasicSentryAuthRequestContext``:
///
/// ```swift
/// struct AppContext: SentryAuthRequestContext {
///     var coreContext: CoreRequestContextStorage
///     var principal: Principal?
///     var allowedRequest: GateDecision.Allowed?
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
    /// The gate's whole decision for an allowed request: its principal, the policy route it
    /// matched with the path's parameters (``GateDecision/Allowed/match``) and the rate-limit state. Set
    /// by ``SentryAuthMiddleware`` before your handler runs, so a handler never matches the policy
    /// again. A context that does not declare it keeps nothing (it reads `nil`).
    var allowedRequest: GateDecision.Allowed? { get set }
}

extension SentryAuthRequestContext {
    /// Nothing is kept: a context written before ``SentryAuthRequestContext/allowedRequest`` existed
    /// compiles unchanged; declare `var allowedRequest: GateDecision.Allowed?` to keep the decision.
    public var allowedRequest: GateDecision.Allowed? {
        get { nil }
        set {}
    }

    /// The gate's decision for a request that passed it.
    ///
    /// - Throws: `HTTPError(.unauthorized)` when no ``SentryAuthMiddleware`` ran before the handler,
    ///   or the context does not keep the decision (fail closed).
    public func requireAllowedRequest() throws -> GateDecision.Allowed {
        guard let allowedRequest else { throw HTTPError(.unauthorized) }
        return allowedRequest
    }
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

/// With hummingbird-auth: a context that is both a ``SentryAuthRequestContext`` and an
/// `AuthRequestContext` whose identity is the ``Principal`` keeps one value for both, so
/// hummingbird-auth's guards (`IsAuthenticatedMiddleware`, `context.requireIdentity()`) compose
/// with ``SentryAuthMiddleware``: declare `var identity: Principal?` and nothing else.
extension SentryAuthRequestContext where Self: AuthRequestContext, Self.Identity == Principal {
    /// The principal, stored as hummingbird-auth's identity.
    public var principal: Principal? {
        get { identity }
        set { identity = newValue }
    }
}

/// The smallest ``SentryAuthRequestContext``: core storage, the peer address, the gate's decision
/// and the principal, which is also its hummingbird-auth identity (so hummingbird-auth's
/// `AuthorizationPolicyMiddleware(PermissionPolicy<Principal>(…))` works on it).
public struct BasicSentryAuthRequestContext: SentryAuthRequestContext, AuthRequestContext {
    /// Hummingbird's core context storage.
    public var coreContext: CoreRequestContextStorage
    /// Who an allowed request acts for (``SentryAuthRequestContext/principal`` reads it).
    public var identity: Principal?
    /// The gate's decision for an allowed request.
    public var allowedRequest: GateDecision.Allowed?
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
