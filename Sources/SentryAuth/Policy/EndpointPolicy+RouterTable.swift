extension EndpointPolicy {
    /// One entry of a server framework's route table: a method and the template it was registered
    /// with, written as the router writes it (`/customers/{id}`, `/customers/:id`, `*`, `**`).
    public struct RouterRoute: Sendable, Hashable, CustomStringConvertible {
        /// The method, such as `GET`.
        public var method: String
        /// The template.
        public var template: String

        /// Creates an entry.
        ///
        /// - Parameters:
        ///   - method: The method.
        ///   - template: The template, as the router writes it.
        public init(method: String, template: String) {
            self.method = method
            self.template = template
        }

        /// `METHOD template`.
        public var description: String { "\(method) \(template)" }
    }

    /// One way in which the policy and a server's route table differ, for a start-up check.
    public struct TableDifference: Sendable, Hashable, CustomStringConvertible {
        /// What differs.
        public enum Kind: Sendable, Hashable {
            /// The router has a handler the policy has no route for: the gate refuses every
            /// request to it (404), so the handler never runs.
            case handlerWithoutPolicyRoute
            /// The policy has a route the router has no handler for: requests the policy would
            /// allow are refused (404).
            case policyRouteWithoutHandler
            /// The router serves `HEAD` with the `GET` handler, but the policy's `HEAD` and `GET`
            /// of the path are separate routes: `HEAD` requests are refused (declare them as one
            /// route, `Route([.get, .head], …)`, so their scopes are one).
            case headApartFromGet
        }

        /// What differs.
        public let kind: Kind
        /// The method concerned.
        public let method: String
        /// The template concerned: the router's for ``Kind/handlerWithoutPolicyRoute``, else the policy's.
        public let template: String

        /// Creates a difference (the check does; a test compares with one).
        ///
        /// - Parameters:
        ///   - kind: What differs.
        ///   - method: The method concerned.
        ///   - template: The template concerned.
        public init(kind: Kind, method: String, template: String) {
            self.kind = kind
            self.method = method
            self.template = template
        }

        /// A sentence naming the route and what happens to its requests.
        public var description: String {
            switch kind {
            case .handlerWithoutPolicyRoute:
                "\(method) \(template): the router has a handler but the policy has no route; every request to it is refused"
            case .policyRouteWithoutHandler:
                "\(method) \(template): the policy has a route but the router has no handler; its requests are refused"
            case .headApartFromGet:
                "\(method) \(template): the router answers HEAD with the GET handler, but the policy declares HEAD apart from GET; HEAD requests are refused"
            }
        }
    }

    /// The start-up check: every way in which a server framework's route table and the policy
    /// differ, route by route. Empty when they agree.
    ///
    /// The gate refuses every request whose handler is not the route it matched, so a difference is
    /// never a way in; it is a route that does not work as its author meant, which this check names
    /// before the first request does. The framework adapters call it with their router's table.
    ///
    /// ```swift
    /// let differences = EndpointPolicy.sentry.differences(fromRouterTable: [
    ///     .init(method: "GET", template: "/public/api/v1/customers/export"),
    /// ])
    /// // GET /public/api/v1/customers/export: the router has a handler but the policy has no route; …
    /// ```
    ///
    /// - Parameters:
    ///   - routes: The router's routes.
    ///   - headFallsBackToGet: Whether the router answers `HEAD` with the `GET` handler when it has
    ///     no `HEAD` handler (Vapor does; Hummingbird with `.autoGenerateHeadEndpoints`).
    ///   - ignoring: Templates of routes deliberately outside the gate (`/openapi.json`, `/health`),
    ///     written as the router writes them.
    /// - Returns: The differences: the router's unmatched handlers first, in the router's order,
    ///   then the policy's unmatched routes, in the policy's order.
    public func differences(
        fromRouterTable routes: [RouterRoute], headFallsBackToGet: Bool = false, ignoring: [String] = []
    ) -> [TableDifference] {
        let routes = routes.filter { route in !ignoring.contains { Self.sameTemplate($0, route.template) } }
        var differences: [TableDifference] = []
        for route in routes {
            let known = self.routes.contains { policyRoute in
                policyRoute.methods.contains { $0.rawValue == route.method }
                    && Self.sameTemplate(policyRoute.template, route.template)
            }
            if !known {
                differences.append(
                    .init(kind: .handlerWithoutPolicyRoute, method: route.method, template: route.template))
            }
        }
        for policyRoute in self.routes {
            let handled = { (method: String) in
                routes.contains { $0.method == method && Self.sameTemplate(policyRoute.template, $0.template) }
            }
            for method in policyRoute.methods where !handled(method.rawValue) {
                if method == .head, headFallsBackToGet, handled("GET") {
                    // Served by the GET handler: fine when GET is this same route.
                    if !policyRoute.methods.contains(.get) {
                        differences.append(
                            .init(kind: .headApartFromGet, method: "HEAD", template: policyRoute.template))
                    }
                    continue
                }
                differences.append(
                    .init(kind: .policyRouteWithoutHandler, method: method.rawValue, template: policyRoute.template))
            }
        }
        return differences
    }

    /// Whether two templates name the same route: the same literals, parameters where the other has
    /// parameters (any name, `{name}` or `:name`), nothing else.
    static func sameTemplate(_ one: String, _ other: String) -> Bool {
        var first = TemplateSegments(one.utf8)
        var second = TemplateSegments(other.utf8)
        while true {
            switch (first.next(), second.next()) {
            case (nil, nil): return true
            case (let a?, let b?):
                let parameters = (TemplateSegments.isRouterParameter(a), TemplateSegments.isRouterParameter(b))
                switch parameters {
                case (true, true): continue
                case (false, false): guard a.elementsEqual(b) else { return false }
                default: return false
                }
            default: return false
            }
        }
    }
}

extension EndpointPolicy {
    /// The policy and a server's route table disagree: thrown by the framework adapters' start-up checks.
    public struct TableMismatch: Error, Sendable, Hashable, CustomStringConvertible {
        /// Every difference, route by route.
        public let differences: [TableDifference]

        /// Creates the error.
        ///
        /// - Parameter differences: The differences.
        public init(differences: [TableDifference]) {
            self.differences = differences
        }

        /// One line per difference.
        public var description: String {
            "The router's routes and the SentryAuth policy differ:\n"
                + differences.map { "- \($0)" }.joined(separator: "\n")
        }
    }
}
