/// The route a request matched, and the values of its path parameters.
public struct EndpointMatch: Sendable {
    /// The matched route.
    public let route: EndpointPolicy.Route
    /// The route's parameter names, in template order.
    let parameterNames: [String]
    /// The request target the captures point into.
    let target: String
    /// Byte ranges of the parameter values in `target`.
    let captures: Captures

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
    public var requiredScopes: ScopeSet { route.requiredScopes }

    /// The needed scopes that `held` lacks: empty when the request may proceed.
    ///
    /// - Parameter held: The scopes of the presented key.
    /// - Returns: The missing scopes, for the `INSUFFICIENT_SCOPE` message.
    public func missingScopes(held: ScopeSet) -> ScopeSet {
        route.requiredScopes.subtracting(held)
    }

    /// Whether `held` includes every needed scope.
    ///
    /// - Parameter held: The scopes of the presented key.
    /// - Returns: `true` when the request may proceed.
    public func isAllowed(held: ScopeSet) -> Bool {
        route.requiredScopes.isSubset(of: held)
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
