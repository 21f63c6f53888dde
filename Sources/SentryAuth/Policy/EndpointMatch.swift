/// The route a request matched, and the values of its path parameters.
///
/// A match holds two references (the policy's route table and the request target) and plain
/// integers: making one on every request retains two objects, whatever the route.
public struct EndpointMatch: Sendable {
    /// A policy's routes with each one's parameter names.
    final class RouteTable: Sendable {
        let routes: [EndpointPolicy.Route]
        let parameterNames: [[String]]

        init(routes: [EndpointPolicy.Route], parameterNames: [[String]]) {
            self.routes = routes
            self.parameterNames = parameterNames
        }
    }

    /// The policy's routes.
    let table: RouteTable
    /// The matched route's index in `table`.
    let index: Int
    /// The request target the captures point into.
    let target: String
    /// Byte ranges of the parameter values in `target`.
    let captures: Captures

    /// The matched route.
    public var route: EndpointPolicy.Route { table.routes[index] }

    /// The route's parameter names, in template order.
    var parameterNames: [String] { table.parameterNames[index] }

    /// What the route costs, read in place.
    var cost: Int { table.routes[index].cost }

    /// Up to eight byte ranges, held inline so matching allocates nothing.
    struct Captures: Sendable {
        var starts = SIMD8<Int32>()
        var ends = SIMD8<Int32>()
        var count = 0

        mutating func append(_ range: Range<Int>) {
            starts[count] = Int32(range.lowerBound)
            ends[count] = Int32(range.upperBound)
            count += 1
        }
    }

    /// The scopes the request needs.
    public var requiredScopes: ScopeSet { table.routes[index].requiredScopes }

    /// The needed scopes that `held` lacks: empty when the request may proceed.
    ///
    /// - Parameter held: The scopes of the presented key.
    /// - Returns: The missing scopes, for the `INSUFFICIENT_SCOPE` message.
    public func missingScopes(held: ScopeSet) -> ScopeSet {
        table.routes[index].requiredScopes.subtracting(held)
    }

    /// Whether `held` includes every needed scope.
    ///
    /// - Parameter held: The scopes of the presented key.
    /// - Returns: `true` when the request may proceed.
    public func isAllowed(held: ScopeSet) -> Bool {
        table.routes[index].requiredScopes.isSubset(of: held)
    }

    /// Whether a server router's route template names the route this match found: the check that
    /// lets a server framework's router and the policy agree on the handler that runs.
    ///
    /// The template is written as the router writes it: literal segments, and parameters as
    /// `{name}` or `:name` (their names need not be the policy's). Wildcards (`*`, `**`), partial
    /// captures (`{id}.pdf`, `file.*`) and anything else are never a policy segment, so a route
    /// that has one is never the same route. Empty segments are ignored, as routers do.
    ///
    /// ```swift
    /// let match = EndpointPolicy.sentry.match(method: "GET", target: "/public/api/v1/customers/export")!
    /// match.isSameRoute(asTemplate: "/public/api/v1/customers/{id}")     // true
    /// match.isSameRoute(asTemplate: "/public/api/v1/customers/export")   // false: another handler
    /// ```
    ///
    /// - Parameter template: The router's template for the handler it is about to run.
    /// - Returns: `true` when both name the same sequence of literals and parameters.
    public func isSameRoute(asTemplate template: String) -> Bool {
        EndpointPolicy.sameTemplate(table.routes[index].template, template)
    }

    /// The raw (still percent-encoded) value of a path parameter.
    ///
    /// - Parameter name: The parameter's name in the template, such as `id`.
    /// - Returns: The value, or `nil` if the template has no such parameter.
    public func parameter(_ name: String) -> Substring? {
        guard let index = parameterNames.firstIndex(of: name) else { return nil }
        return value(at: index)
    }

    /// Every parameter, in template order, with its raw value.
    public var parameters: [(name: String, value: Substring)] {
        parameterNames.indices.map { (parameterNames[$0], value(at: $0)) }
    }

    private func value(at index: Int) -> Substring {
        let utf8 = target.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: Int(captures.starts[index]))
        let end = utf8.index(utf8.startIndex, offsetBy: Int(captures.ends[index]))
        return target[start..<end]
    }
}

/// The non-empty `/`-separated segments of a template, without allocating.
struct TemplateSegments: IteratorProtocol {
    private let text: String.UTF8View
    private var index: String.UTF8View.Index

    init(_ text: String.UTF8View) {
        self.text = text
        self.index = text.startIndex
    }

    mutating func next() -> Substring.UTF8View? {
        while index < text.endIndex, text[index] == UInt8(ascii: "/") { index = text.index(after: index) }
        guard index < text.endIndex else { return nil }
        let start = index
        while index < text.endIndex, text[index] != UInt8(ascii: "/") { index = text.index(after: index) }
        return Substring(text[start..<index]).utf8
    }

    /// A router's whole-segment parameter: `{name}` or `:name`, with a name of letters, digits and `_`.
    static func isRouterParameter(_ segment: Substring.UTF8View) -> Bool {
        let name: Substring.UTF8View.SubSequence
        if segment.first == UInt8(ascii: ":") {
            name = segment.dropFirst()
        } else if segment.first == UInt8(ascii: "{"), segment.last == UInt8(ascii: "}") {
            name = segment.dropFirst().dropLast()
        } else {
            return false
        }
        return !name.isEmpty && name.allSatisfy(PathTemplate.isNameCharacter)
    }
}
