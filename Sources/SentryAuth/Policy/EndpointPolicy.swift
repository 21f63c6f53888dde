/// Which scopes a request needs: a map from method and path template to required scopes, denying
/// everything it does not list.
///
/// Build one in Swift:
///
/// ```swift
/// let policy = try EndpointPolicy(prefix: "/api") {
///     Route([.get, .head], "/orders", requires: [.salesRead])
///     Route(.post, "/orders/{id}/refund", requires: [.salesRead, .invoiceWrite])
/// }
/// let match = policy.match(method: "POST", target: "/api/orders/ord_42/refund?notify=1")
/// match?.parameter("id")                       // "ord_42"
/// match?.missingScopes(held: [.salesRead])     // invoice:write
/// ```
///
/// or load one from JSON (see ``EndpointPolicy/init(from:)``); ``sentry`` is the built-in Sentry
/// Payments policy.
///
/// ## Matching
///
/// The request target's path is matched segment by segment against a tree of templates, in time
/// proportional to the number of segments and without allocating. At each segment a literal
/// (`/invoices/summary`) wins over a parameter (`/invoices/{id}`), and the choice is final: there is
/// no backtracking, so a path is never matched to a route other than the one its literals select.
/// The query string is ignored. Methods are case-sensitive and must be listed; `HEAD` is not
/// implied by `GET`.
///
/// ## Canonical paths only
///
/// A path that is not in canonical form never matches anything, so it can never reach a more
/// permissive route after some later normalization:
/// - dot segments (`/customers/../invoices`, `/./customers`) and empty segments (`//`);
/// - a trailing slash: `/customers/` is not `/customers`;
/// - percent-encoding of an unreserved character, `/` or `\` (`%69nvoices`, `%2e%2e`, `%2F`), and
///   lowercase hex (`%2f`); a percent-encoded byte is only accepted inside a parameter, as uppercase
///   hex of a printable ASCII character that must be encoded, such as `%40` for `@`;
/// - `;` parameters, backslashes, spaces, control bytes, NUL and any non-ASCII byte;
/// - a case change: matching is byte for byte, so `/Customers` is not `/customers`;
/// - targets that are not in origin form (`http://host/…`, `*`), carry a fragment, or exceed
///   ``maximumTargetLength`` bytes.
public struct EndpointPolicy: Sendable {
    /// The catalog the routes' scopes come from.
    public let catalog: ScopeCatalog
    /// The routes, in the order given, with the prefix applied to their templates.
    public let routes: [Route]

    /// The longest request target considered, in bytes; longer ones never match.
    public static let maximumTargetLength = 8192
    /// The most parameters a template may have.
    public static let maximumParameters = 8

    struct Node: Sendable {
        /// Literal children, sorted by their bytes.
        var literals: [(segment: [UInt8], child: Int)] = []
        /// The parameter child, its name and the template that introduced it.
        var parameter: (child: Int, name: String, template: String)?
        /// The routes that end here, by method.
        var methods: [(method: [UInt8], route: Int)] = []
    }

    let nodes: [Node]
    /// Each route's parameter names, in template order.
    let parameterNames: [[String]]

    /// Builds a policy.
    ///
    /// - Parameters:
    ///   - catalog: The scope catalog; ``ScopeCatalog/sentry`` by default.
    ///   - prefix: A path put before every template, such as `/public/api/v1`; empty by default.
    ///   - routes: The routes.
    /// - Throws: ``EndpointPolicyError`` naming the first bad entry.
    public init(
        catalog: ScopeCatalog = .sentry, prefix: String = "", @RouteBuilder routes: () -> [Route]
    ) throws(EndpointPolicyError) {
        try self.init(catalog: catalog, prefix: prefix, routes: routes())
    }

    /// Builds a policy from a list of routes.
    ///
    /// - Parameters:
    ///   - catalog: The scope catalog; ``ScopeCatalog/sentry`` by default.
    ///   - prefix: A path put before every template; empty by default.
    ///   - routes: The routes.
    /// - Throws: ``EndpointPolicyError`` naming the first bad entry.
    public init(catalog: ScopeCatalog = .sentry, prefix: String = "", routes: [Route]) throws(EndpointPolicyError) {
        var nodes = [Node()]
        var built: [Route] = []
        var names: [[String]] = []
        for (entry, route) in routes.enumerated() {
            let template = prefix + route.template
            let segments = try PathTemplate.parse(template, entry: entry)
            guard !route.methods.isEmpty else { throw .invalidMethod(entry: entry, method: "") }
            guard let bits = route.requiredScopes.bits(in: catalog) else {
                let unknown = route.requiredScopes.scopes.first { !catalog.contains($0) }
                throw .unknownScope(entry: entry, scope: unknown?.name ?? "")
            }
            var node = 0
            var parameters: [String] = []
            for segment in segments {
                switch segment {
                case .literal(let bytes):
                    if let found = nodes[node].literals.first(where: { $0.segment == bytes }) {
                        node = found.child
                    } else {
                        nodes.append(Node())
                        nodes[node].literals.append((bytes, nodes.count - 1))
                        nodes[node].literals.sort { $0.segment.lexicographicallyPrecedes($1.segment) }
                        node = nodes.count - 1
                    }
                case .parameter(let name):
                    parameters.append(name)
                    if let existing = nodes[node].parameter {
                        guard existing.name == name else {
                            throw .conflictingTemplates(entry: entry, template: template, existing: existing.template)
                        }
                        node = existing.child
                    } else {
                        nodes.append(Node())
                        nodes[node].parameter = (nodes.count - 1, name, template)
                        node = nodes.count - 1
                    }
                }
            }
            for method in route.methods {
                let bytes = Array(method.rawValue.utf8)
                guard !nodes[node].methods.contains(where: { $0.method == bytes }) else {
                    throw .duplicateRoute(entry: entry, method: method.rawValue, template: template)
                }
                nodes[node].methods.append((bytes, built.count))
            }
            built.append(Route(route.methods, template, requires: ScopeSet(rawValue: bits, catalog: catalog)))
            names.append(parameters)
        }
        self.catalog = catalog
        self.routes = built
        self.nodes = nodes
        self.parameterNames = names
    }

    /// Finds the route for a request.
    ///
    /// - Parameters:
    ///   - method: The request method, case-sensitive.
    ///   - target: The raw request target, such as `/public/api/v1/customers/cus_1?expand=true`.
    /// - Returns: The matched route and its parameters, or `nil`: the request is refused.
    public func match(method: String, target: String) -> EndpointMatch? {
        guard target.utf8.count <= Self.maximumTargetLength, method.utf8.count <= 32 else { return nil }
        let found =
            target.utf8.withContiguousStorageIfAvailable { path in
                method.utf8.withContiguousStorageIfAvailable { method in find(method: method, path: path) }
            }
            ?? Array(target.utf8).withUnsafeBufferPointer { path in
                Array(method.utf8).withUnsafeBufferPointer { method in find(method: method, path: path) }
            }
        guard let (route, captures) = found ?? nil else { return nil }
        return EndpointMatch(
            route: routes[route], parameterNames: parameterNames[route], target: target, captures: captures)
    }

    /// The tree walk: O(segments), no allocation.
    private func find(
        method: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>
    ) -> (Int, EndpointMatch.Captures)? {
        guard path.first == UInt8(ascii: "/") else { return nil }
        let end = path.firstIndex(of: UInt8(ascii: "?")) ?? path.count
        var captures = EndpointMatch.Captures()
        var node = 0
        var start = 1
        if end > 1 {
            while true {
                var stop = start
                while stop < end && path[stop] != UInt8(ascii: "/") { stop += 1 }
                let segment = UnsafeBufferPointer(rebasing: path[start..<stop])
                guard PathTemplate.isCanonicalSegment(segment) else { return nil }
                if let child = literalChild(of: node, matching: segment) {
                    node = child
                } else if let parameter = nodes[node].parameter, captures.count < Self.maximumParameters {
                    captures.append(start..<stop)
                    node = parameter.child
                } else {
                    return nil
                }
                if stop == end { break }
                start = stop + 1
            }
        }
        for entry in nodes[node].methods where entry.method.elementsEqual(method) {
            return (entry.route, captures)
        }
        return nil
    }

    /// Binary search of a node's sorted literal children.
    private func literalChild(of node: Int, matching segment: UnsafeBufferPointer<UInt8>) -> Int? {
        let literals = nodes[node].literals
        var low = 0
        var high = literals.count
        while low < high {
            let middle = (low + high) / 2
            let candidate = literals[middle].segment
            if candidate.elementsEqual(segment) { return literals[middle].child }
            if candidate.lexicographicallyPrecedes(segment) { low = middle + 1 } else { high = middle }
        }
        return nil
    }
}
