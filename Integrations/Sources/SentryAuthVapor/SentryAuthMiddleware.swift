public import SentryAuth
public import SentryAuthNIO
public import Vapor

/// Vapor middleware that puts the ``RequestGate`` in front of the routes it wraps — and, used as
/// global middleware (`app.middleware.use(…)`), in front of every request, matched or not.
///
/// For each request it resolves the client address from `request.remoteAddress` — the socket's
/// peer, never Vapor's `peerAddress`, which believes the leftmost, client-written
/// `X-Forwarded-For` entry — and the forwarding header of your trusted proxies
/// (``ClientAddressResolver``), asks the gate, and then either
/// - logs the ``Principal`` and the whole ``GateDecision/Allowed`` in (`request.auth.require(Principal.self)`,
///   `request.auth.get(GateDecision.Allowed.self)?.match.parameter("id")` in your handlers) and runs the
///   rest of the chain, adding the rate-limit headers to the response, or
/// - answers the refusal itself: its status, headers and `{"error": …, "message": …}` body.
///
/// A handler runs only when the gate authorized the very route Vapor dispatches to
/// (`request.route`): a request the policy matches to another route (`/customers/{id}` for the
/// app's own `/customers/export`), or that no route takes, is refused with 404 before its scopes
/// are checked or any quota spent; a path the policy knows with another method is 405 with
/// `Allow`. Vapor answers `HEAD` with the `GET` handler; the gate allows it only where the policy
/// lists `HEAD` in the same route as `GET`. Declare routes with ``ScopedRoutes`` so the policy and
/// the router come from one list, and check the two at start-up with
/// `app.routes.checkRoutes(against:ignoring:)`. A `CONNECT` request is answered and its connection
/// closed (Vapor's decoder reads nothing after a `CONNECT`).
///
/// Every decision is counted and every refusal logged at debug level (``DecisionObserver``).
///
/// The request-target the gate sees is Vapor's `request.url.string`: Vapor keeps no raw target, so
/// this is its parsed and re-serialized `URI`. A target Foundation cannot parse becomes an empty
/// string, which no route matches (404): it fails closed.
///
/// ```swift
/// app.middleware.use(SentryAuthMiddleware(gate: gate))   // every request meets the gate
/// // or, for some routes only:
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
                    forwarded: resolver.header == .forwarded ? headers[.forwarded] : []),
                // Vapor has routed the request before its middleware runs: the route it will call.
                handler: request.route.map { .template(Self.template(of: $0.path)) } ?? .none))
        observer.record(decision, logger: request.logger)
        switch decision {
        case .allowed(let allowed):
            request.auth.login(allowed.principal)
            request.auth.login(allowed)
            let response = try await next.respond(to: request)
            for field in RateLimitDecision.Field.allCases {
                if let value = allowed.rateLimit.value(of: field) {
                    response.headers.replaceOrAdd(name: field.name, value: value)
                }
            }
            // A key that stops working soon says so: Deprecation, Sunset and, when rolled, Link.
            for field in allowed.sunset?.headers ?? [] {
                response.headers.replaceOrAdd(name: field.name, value: field.value)
            }
            return response
        case .refused(let refusal):
            var fields = HTTPHeaders()
            for field in refusal.headers { fields.add(name: field.name, value: field.value) }
            let status = HTTPResponseStatus(statusCode: refusal.status)
            guard request.method == .CONNECT else {
                return Response(status: status, headers: fields, body: Response.Body(string: refusal.body))
            }
            // SwiftNIO reads nothing after a CONNECT and sends its answer without a body or a length:
            // the answer must be the last thing on the connection. Vapor keeps a connection open
            // unless the request said otherwise; a body stream that ends in an error is the one
            // public way to make it close the connection after the answer is flushed. The stream is
            // the event-loop kind, both writes in one call: an async stream's second write waits for
            // a thread of the shared concurrency pool, and with that pool busy (2 threads on 2
            // cores, a test run's other suites blocking them) the close came seconds late.
            fields.replaceOrAdd(name: .connection, value: "close")
            let body = refusal.body
            return Response(
                status: status, headers: fields,
                body: Response.Body(stream: { writer in
                    writer.write(.buffer(ByteBuffer(string: body)), promise: nil)
                    writer.write(.error(ConnectAnswered()), promise: nil)
                }))
        }
    }

    /// Ends the answer to a `CONNECT`, which makes Vapor close the connection.
    struct ConnectAnswered: Error {}

    /// A Vapor route's path as a template (`/public/api/v1/customers/:id`, `*`, `**`).
    static func template(of path: [PathComponent]) -> String {
        "/" + path.map(\.description).joined(separator: "/")
    }
}

/// An allowed request's ``Principal`` is what `request.auth` holds:
/// `try request.auth.require(Principal.self)`.
extension Principal: @retroactive Authenticatable {}

/// An allowed request's whole decision is in `request.auth` too — the route, its parameters and
/// the rate-limit state: `request.auth.get(GateDecision.Allowed.self)?.match.parameter("id")`.
extension GateDecision.Allowed: @retroactive Authenticatable {}
