public import SentryAuth
public import Vapor

/// Routes declared once, with their scopes: the handlers Vapor runs and the ``EndpointPolicy`` the
/// gate enforces come from the same list, so the two tables cannot differ.
///
/// ```swift
/// var api = ScopedRoutes(prefix: "/public/api/v1")
/// api.get("/customers/{id}", requires: [.customerRead]) { request in
///     request.auth.get(GateDecision.Allowed.self)?.match.parameter("id").map(String.init) ?? ""
/// }
/// api.post("/invoices/{id}/remind", requires: [.invoiceRemind]) { _ in "reminded" }
///
/// let gate = RequestGate(keys: keys, policy: try api.policy(), rateLimits: InMemoryRateLimitStore<APIKeyID>())
/// app.middleware.use(SentryAuthMiddleware(gate: gate))   // every request meets the gate
/// api.register(on: app)
/// ```
///
/// Templates are written as the policy writes them (`{name}` parameters become Vapor's `:name`).
/// ``get(_:requires:cost:use:)`` declares `GET` and `HEAD` as one route; Vapor answers `HEAD` with
/// the `GET` handler (without a body).
public struct ScopedRoutes: Sendable {
    /// The path put before every template.
    public let prefix: String
    /// The declared routes, with the prefix applied: what ``policy(catalog:)`` builds on.
    public private(set) var routes: [EndpointPolicy.Route] = []
    private var registrations: [@Sendable (any RoutesBuilder) -> Void] = []

    /// Starts an empty list.
    ///
    /// - Parameter prefix: A path put before every template, such as `/public/api/v1`; empty by default.
    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// Declares a route and its handler.
    ///
    /// - Parameters:
    ///   - methods: The methods the handler answers. A `HEAD` beside `GET` is left to Vapor, which
    ///     answers it with the `GET` handler.
    ///   - template: The path template after the prefix, such as `/customers/{id}`.
    ///   - requiredScopes: The scopes a request must hold, all of them.
    ///   - cost: What one request costs against the key's rate limit; 1 by default.
    ///   - handler: The handler.
    public mutating func on(
        _ methods: [EndpointPolicy.Method], _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1,
        use handler: @escaping @Sendable (Request) async throws -> some AsyncResponseEncodable
    ) {
        on(EndpointPolicy.Route(methods, prefix + template, requires: requiredScopes, cost: cost), use: handler)
    }

    /// Declares a policy route, already written with its full template, and its handler: for a
    /// policy that comes from elsewhere (a JSON document), each of whose routes gets a handler.
    ///
    /// - Parameters:
    ///   - route: The route; the prefix is not applied to it.
    ///   - handler: The handler.
    public mutating func on(
        _ route: EndpointPolicy.Route,
        use handler: @escaping @Sendable (Request) async throws -> some AsyncResponseEncodable
    ) {
        routes.append(route)
        let path = Self.pathComponents(route.template)
        for method in route.methods where !(method == .head && route.methods.contains(.get)) {
            let vaporMethod = HTTPMethod(rawValue: method.rawValue)
            registrations.append { builder in builder.on(vaporMethod, path, use: handler) }
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
        use handler: @escaping @Sendable (Request) async throws -> some AsyncResponseEncodable
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
        use handler: @escaping @Sendable (Request) async throws -> some AsyncResponseEncodable
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
        use handler: @escaping @Sendable (Request) async throws -> some AsyncResponseEncodable
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
        use handler: @escaping @Sendable (Request) async throws -> some AsyncResponseEncodable
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
        use handler: @escaping @Sendable (Request) async throws -> some AsyncResponseEncodable
    ) {
        on([.delete], template, requires: requiredScopes, cost: cost, use: handler)
    }

    /// The policy the declared routes make.
    ///
    /// - Parameter catalog: The scope catalog; ``ScopeCatalog/sentry`` by default.
    /// - Returns: The policy, its routes in declaration order.
    /// - Throws: ``EndpointPolicyError`` naming the first bad declaration.
    public func policy(catalog: ScopeCatalog = .sentry) throws(EndpointPolicyError) -> EndpointPolicy {
        try EndpointPolicy(catalog: catalog, routes: routes)
    }

    /// Registers every handler on an application or a group (one whose middleware includes
    /// ``SentryAuthMiddleware``, unless the application uses it globally).
    ///
    /// - Parameter builder: The application or group.
    public func register(on builder: any RoutesBuilder) {
        for registration in registrations { registration(builder) }
    }

    /// A policy template's segments as Vapor path components: `{name}` is `:name`.
    static func pathComponents(_ template: String) -> [PathComponent] {
        template.split(separator: "/").map { segment in
            segment.first == "{" && segment.last == "}"
                ? .parameter(String(segment.dropFirst().dropLast())) : .constant(String(segment))
        }
    }
}
