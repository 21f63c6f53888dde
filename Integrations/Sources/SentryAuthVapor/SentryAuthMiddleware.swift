public import SentryAuth
public import SentryAuthNIO
public import Vapor

/// Vapor middleware that puts the ``RequestGate`` in front of the routes it wraps.
///
/// For each request it resolves the client address from `request.remoteAddress` — the socket's
/// peer, never Vapor's `peerAddress`, which believes the leftmost, client-written
/// `X-Forwarded-For` entry — and the forwarding header of your trusted proxies
/// (``ClientAddressResolver``), asks the gate, and then either
/// - logs the ``Principal`` in (`request.auth.require(Principal.self)` in your handlers) and runs
///   the rest of the chain, adding the rate-limit headers to the response, or
/// - answers the refusal itself: its status, headers and `{"error": …, "message": …}` body.
///
/// Every decision is counted and every refusal logged at debug level (``DecisionObserver``).
///
/// The request-target the gate sees is Vapor's `request.url.string`: Vapor keeps no raw target, so
/// this is its parsed and re-serialized `URI`. A target Foundation cannot parse becomes an empty
/// string, which no route matches (404): it fails closed.
///
/// ```swift
/// let api = app.grouped(SentryAuthMiddleware(gate: gate))
/// api.get("public", "api", "v1", "customers") { request in
///     "customers of \(try request.auth.require(Principal.self).merchantID)"
/// }
/// ```
public struct SentryAuthMiddleware: AsyncMiddleware {
    /// The gate every request passes.
    public let gate: RequestGate
    /// How the client address is found behind proxies.
    public let resolver: ClientAddressResolver
    /// Counts and logs decisions.
    public let observer: DecisionObserver

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - gate: The gate.
    ///   - resolver: Which proxies to trust; none by default (the peer is the client).
    ///   - observer: Metrics and logs; a new ``DecisionObserver`` by default.
    public init(
        gate: RequestGate, resolver: ClientAddressResolver = ClientAddressResolver(trustedProxies: IPAllowlist()),
        observer: DecisionObserver = DecisionObserver()
    ) {
        self.gate = gate
        self.resolver = resolver
        self.observer = observer
    }

    /// Runs the gate, then the rest of the chain or the refusal.
    ///
    /// - Parameters:
    ///   - request: The request; an allowed one has its ``Principal`` logged in.
    ///   - next: The rest of the chain.
    /// - Returns: The handler's response with the rate-limit headers, or the refusal.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let headers = request.headers
        let decision = try await gate.evaluate(
            GateRequest(
                method: request.method.rawValue, target: request.url.string,
                authorization: headers[.authorization],
                clientAddress: resolver.resolve(
                    peer: request.remoteAddress.flatMap(IPAddress.init(socketAddress:)),
                    forwardedFor: resolver.header == .xForwardedFor ? headers[.xForwardedFor] : [],
                    forwarded: resolver.header == .forwarded ? headers[.forwarded] : [])))
        observer.record(decision, logger: request.logger)
        switch decision {
        case .allowed(let allowed):
            request.auth.login(allowed.principal)
            let response = try await next.respond(to: request)
            for field in RateLimitField.allCases {
                if let value = allowed.rateLimit.value(of: field) {
                    response.headers.replaceOrAdd(name: field.name, value: value)
                }
            }
            return response
        case .refused(let refusal):
            var fields = HTTPHeaders()
            for field in refusal.headers { fields.add(name: field.name, value: field.value) }
            return Response(
                status: HTTPResponseStatus(statusCode: refusal.status), headers: fields,
                body: Response.Body(string: refusal.body))
        }
    }
}

/// An allowed request's ``Principal`` is what `request.auth` holds:
/// `try request.auth.require(Principal.self)`.
extension Principal: @retroactive Authenticatable {}
