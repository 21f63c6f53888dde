public import HTTPTypes
public import Hummingbird
import NIOCore
public import SentryAuth
public import SentryAuthNIO

/// Hummingbird middleware that puts the ``RequestGate`` in front of every request the router
/// receives, matched or not.
///
/// Add it to the router itself (not to a group), before the routes it guards: Hummingbird then runs
/// it for every route added after it and for every request no route matches. For each request it
/// resolves the client address from the channel's peer and the forwarding header of your trusted
/// proxies (``ClientAddressResolver``), tells the gate which handler the router is about to run
/// (`context.endpointPath`, or none), asks the gate, and then either
/// - runs the rest of the chain with ``SentryAuthRequestContext/principal`` and
///   ``SentryAuthRequestContext/allowedRequest`` set, adding the rate-limit headers to the
///   response, or
/// - throws the refusal as a ``SentryAuthRefusal`` (an `HTTPResponseError`, like Hummingbird's own
///   errors), which the router turns into its status, headers and `{"error": …, "message": …}` body.
///
/// A handler runs only when the gate authorized the very route the router dispatches to: a
/// request the policy matches to another route (`/customers/{id}` for the app's own
/// `/customers/export`), or that no handler takes, is refused with 404 before its scopes are
/// checked or any quota spent. A path the policy knows with another method is 405 with `Allow`.
/// Declare routes with ``ScopedRoutes`` so that the policy and the router come from one list, and
/// check the two at start-up with `Router.checkRoutes(against:ignoring:)`.
///
/// Every decision is counted and every refusal logged at debug level (``DecisionObserver``); a
/// route mismatch at error level.
///
/// ```swift
/// let router = Router(context: BasicSentryAuthRequestContext.self)
/// router.add(middleware: SentryAuthMiddleware(gate: gate))
/// router.get("/public/api/v1/customers") { _, context in
///     "customers of \(try context.requirePrincipal().merchantID)"
/// }
/// ```
public struct SentryAuthMiddleware<Context: SentryAuthRequestContext>: RouterMiddleware {
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
    ///   - request: The request.
    ///   - context: The request context; its principal is set for the rest of the chain.
    ///   - next: The rest of the chain.
    /// - Returns: The handler's response with the rate-limit headers, or the refusal.
    @inlinable
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let headers = request.headers
        let decision = try await gate.evaluate(
            GateRequest(
                method: request.method.rawValue, target: request.head.path ?? "",
                authorization: headers[values: .authorization],
                clientAddress: resolver.resolve(
                    peer: context.remoteAddress.flatMap(IPAddress.init(socketAddress:)),
                    forwardedFor: resolver.header == .xForwardedFor ? headers[values: .xForwardedFor] : [],
                    forwarded: resolver.header == .forwarded ? headers[values: .forwarded] : []),
                // The router has matched the request before its middleware runs: the template of the
                // handler it is about to call, or nil when no route takes the request.
                handler: context.endpointPath.map { .template($0) } ?? .none))
        observer.record(decision, logger: context.logger)
        switch decision {
        case .allowed(let allowed):
            var context = context
            context.principal = allowed.principal
            context.allowedRequest = allowed
            var response = try await next(request, context)
            // Field by field, names made once: no array of fields, no name looked up per request.
            for field in RateLimitDecision.Field.allCases {
                if let value = allowed.rateLimit.value(of: field) {
                    response.headers[HTTPField.Name.rateLimitFields[field.rawValue]] = value
                }
            }
            // A key that stops working soon says so: Deprecation, Sunset and, when rolled, Link.
            if let sunset = allowed.sunset {
                for field in sunset.headers {
                    if let name = HTTPField.Name(field.name) { response.headers[name] = field.value }
                }
            }
            return response
        case .refused(let refusal):
            throw SentryAuthRefusal(refusal)
        }
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-For`.
    @usableFromInline static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    /// `Forwarded` (RFC 7239).
    @usableFromInline static let forwarded = HTTPField.Name("Forwarded")!

    /// The names of the rate-limit fields, by ``RateLimitDecision/Field`` raw value.
    @usableFromInline static let rateLimitFields: [HTTPField.Name] = RateLimitDecision.Field.allCases.map {
        HTTPField.Name($0.name)!
    }

    @usableFromInline static let rateLimitNames: [String: HTTPField.Name] = Dictionary(
        uniqueKeysWithValues: [
            "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit",
            "Retry-After", "Content-Type", "WWW-Authenticate", "Allow",
        ].map { ($0, HTTPField.Name($0)!) })

    /// The name of a header the gate writes, made once (no parse per request); others are parsed.
    @inlinable
    static func known(_ name: String) -> HTTPField.Name? {
        rateLimitNames[name] ?? HTTPField.Name(name)
    }
}
