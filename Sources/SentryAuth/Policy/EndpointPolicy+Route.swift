extension EndpointPolicy {
    /// One entry of an ``EndpointPolicy``: methods and a path template, the scopes a request needs, and
    /// what a request costs against the key's rate limit.
    ///
    /// Nested in ``EndpointPolicy`` so that it never clashes with Vapor's or Hummingbird's `Route`.
    ///
    /// ```swift
    /// EndpointPolicy.Route([.get, .head], "/customers/{id}", requires: [.customerRead])
    /// EndpointPolicy.Route(.get, "/sales/export", requires: [.salesRead], cost: 10)
    /// ```
    public struct Route: Sendable, Hashable {
        /// The methods the route answers. Methods are case-sensitive.
        public let methods: [Method]
        /// The path template, such as `/customers/{id}`: literal segments and `{parameter}` segments.
        public let template: String
        /// The scopes a request must hold, all of them. Empty means any valid key.
        public let requiredScopes: ScopeSet
        /// What one request to the route costs against the key's rate limit: 1 unless the route says
        /// otherwise (an export endpoint might cost 10). A cost above a key's limit is answered 429.
        public let cost: Int

        /// Creates a route. The template is checked when the policy is built.
        ///
        /// - Parameters:
        ///   - methods: The methods the route answers.
        ///   - template: The path template.
        ///   - requiredScopes: The scopes a request must hold.
        ///   - cost: What one request costs against the key's rate limit, 1 or more; 1 by default.
        public init(_ methods: [Method], _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1) {
            self.methods = methods
            self.template = template
            self.requiredScopes = requiredScopes
            self.cost = cost
        }

        /// Creates a route for one method.
        ///
        /// - Parameters:
        ///   - method: The method the route answers.
        ///   - template: The path template.
        ///   - requiredScopes: The scopes a request must hold.
        ///   - cost: What one request costs against the key's rate limit, 1 or more; 1 by default.
        public init(_ method: Method, _ template: String, requires requiredScopes: ScopeSet, cost: Int = 1) {
            self.init([method], template, requires: requiredScopes, cost: cost)
        }
    }

    /// Collects ``EndpointPolicy/Route`` values written one per line into a list.
    @resultBuilder
    public enum RouteBuilder {
        /// Collects the routes of a block.
        ///
        /// - Parameter routes: Groups of routes.
        /// - Returns: All of them, in order.
        public static func buildBlock(_ routes: [Route]...) -> [Route] { routes.flatMap { $0 } }
        /// Turns one route into a group.
        ///
        /// - Parameter route: A route.
        /// - Returns: A group of one.
        public static func buildExpression(_ route: Route) -> [Route] { [route] }
        /// Passes a group through.
        ///
        /// - Parameter routes: A group of routes.
        /// - Returns: The same group.
        public static func buildExpression(_ routes: [Route]) -> [Route] { routes }
        /// Supports `if` without `else`.
        ///
        /// - Parameter routes: The routes, if the condition held.
        /// - Returns: The routes, or none.
        public static func buildOptional(_ routes: [Route]?) -> [Route] { routes ?? [] }
        /// Supports `if`/`else`: the first branch.
        ///
        /// - Parameter routes: The branch's routes.
        /// - Returns: The same routes.
        public static func buildEither(first routes: [Route]) -> [Route] { routes }
        /// Supports `if`/`else`: the second branch.
        ///
        /// - Parameter routes: The branch's routes.
        /// - Returns: The same routes.
        public static func buildEither(second routes: [Route]) -> [Route] { routes }
        /// Supports `for` loops.
        ///
        /// - Parameter routes: The routes of each iteration.
        /// - Returns: All of them.
        public static func buildArray(_ routes: [[Route]]) -> [Route] { routes.flatMap { $0 } }
    }
}
