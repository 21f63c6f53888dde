public import Hummingbird
public import SentryAuth

/// Routes declared once, with their scopes: the handlers a Hummingbird router runs and the
/// ``EndpointPolicy`` the gate enforces come from the same list, so the two tables cannot differ.
///
/// ```swift
/// var api = ScopedRoutes<BasicSentryAuthRequestContext>(prefix: "/public/api/v1")
/// api.get("/customers/{id}", requires: [.customerRead]) { _, context in
///     try context.requireAllowedRequest().match.parameter("id") ?? ""
/// }
/// api.post("/invoices/{id}/remind", requires: [.invoiceRemind]) { _, _ in "reminded" }
///
/// let gate = RequestGate(keys: keys, policy: try api.policy(), rateLimits: InMemoryRateLimitStore<APIKeyID>())
/// let router = Router(context: BasicSentryAuthRequestContext.self)
/// router.add(middleware: SentryAuthMiddleware(gate: gate))   // first: every request meets the gate
/// api.register(on: router)
/// ```
///
/// Templates are written as the policy writes them (`{name}` parameters, literal segments), which
/// Hummingbird reads the same way. ``get(_:requires:cost:use:)`` declares `GET` and `HEAD` (one
/// route, so a `HEAD` needs exactly the scopes of the `GET` handler that answers it, without a body).
public struct ScopedRoutes<Context: SentryAuthRequestContext>: Sendable {
    /// The path put before every template.
    public let prefix: String
    /// The declared routes, with the prefix applied: what ``policy(catalog:)`` builds on.
    public private(set) var routes: [EndpointPolicy.Route] = []
    private var registrations: [@Sendable (Router<Context>) -> Void] = []

    /// Starts an empty list.
    ///
    /// - Parameter prefix: A path put before every template, such as `/public/api/v1`; empty by default.
    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// Declares a route and its handler.
    ///
    /// - Parameters:
    ///   - methods: The methods the handler answers. A `HEAD` listed beside `GET` is answered by
    ///     the handler without its body.
    ///   - template: The path template after the prefix, such as `/customers/{id}`.
    ///   - requiredScopes: The scopes a request must hold, all of them.
    ///   - cost: What one request costs against the key's rate limit; 1 by default.
    ///   - handler: The handler.
    public mutating func on(
        _ methods: [EndpointPolicy.Method], _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) {
        let route = EndpointPolicy.Route(methods, prefix + template, requires: requiredScopes, cost: cost)
        on(route, use: handler)
    }

    /// Declares a policy route, already written with its full template, and its handler: for a
    /// policy that comes from elsewhere (a JSON document), each of whose routes gets a handler.
    ///
    /// - Parameters:
    ///   - route: The route; the prefix is not applied to it.
    ///   - handler: The handler.
    public mutating func on(
        _ route: EndpointPolicy.Route,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) {
        routes.append(route)
        let path = RouterPath(route.template)
        for method in route.methods {
            guard let method = HTTPRequest.Method(method.rawValue) else { continue }  // a token: never nil
            registrations.append { router in
                if method == .head && route.methods.contains(.get) {
                    router.on(path, method: .head) { request, context in
                        try await handler(request, context).response(from: request, context: context)
                            .createHeadResponse()
                    }
                } else {
                    router.on(path, method: method, use: handler)
                }
            }
        }
    }

    /// Declares `GET` and `HEAD`.
    ///
    /// - Parameters:
    ///   - template: The path template after the prefix.
    ///   - requiredScopes: The scopes a request must hold.
    ///   - cost: What one request costs; 1 by default.
    ///   - handler: The handler.
    public mutating func get(
        _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) {
        on([.get, .head], template, requires: requiredScopes, cost: cost, use: handler)
    }

    /// Declares `POST`.
    ///
    /// - Parameters:
    ///   - template: The path template after the prefix.
    ///   - requiredScopes: The scopes a request must hold.
    ///   - cost: What one request costs; 1 by default.
    ///   - handler: The handler.
    public mutating func post(
        _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) {
        on([.post], template, requires: requiredScopes, cost: cost, use: handler)
    }

    /// Declares `PUT`.
    ///
    /// - Parameters:
    ///   - template: The path template after the prefix.
    ///   - requiredScopes: The scopes a request must hold.
    ///   - cost: What one request costs; 1 by default.
    ///   - handler: The handler.
    public mutating func put(
        _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) {
        on([.put], template, requires: requiredScopes, cost: cost, use: handler)
    }

    /// Declares `PATCH`.
    ///
    /// - Parameters:
    ///   - template: The path template after the prefix.
    ///   - requiredScopes: The scopes a request must hold.
    ///   - cost: What one request costs; 1 by default.
    ///   - handler: The handler.
    public mutating func patch(
        _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) {
        on([.patch], template, requires: requiredScopes, cost: cost, use: handler)
    }

    /// Declares `DELETE`.
    ///
    /// - Parameters:
    ///   - template: The path template after the prefix.
    ///   - requiredScopes: The scopes a request must hold.
    ///   - cost: What one request costs; 1 by default.
    ///   - handler: The handler.
    public mutating func delete(
        _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) {
        on([.delete], template, requires: requiredScopes, cost: cost, use: handler)
    }

    /// The policy the declared routes make.
    ///
    /// - Parameter catalog: The scope catalog; ``ScopeCatalog/sentry`` by default.
    /// - Returns: The policy, its routes in declaration order.
    /// - Throws: ``EndpointPolicyError`` naming the first bad declaration (a template the policy
    ///   cannot hold, the same method and path twice, a scope outside the catalog).
    public func policy(catalog: ScopeCatalog = .sentry) throws(EndpointPolicyError) -> EndpointPolicy {
        try EndpointPolicy(catalog: catalog, routes: routes)
    }

    /// Registers every handler on a router. Add ``SentryAuthMiddleware`` to the router first.
    ///
    /// - Parameter router: The router.
    public func register(on router: Router<Context>) {
        for registration in registrations { registration(router) }
    }
}
