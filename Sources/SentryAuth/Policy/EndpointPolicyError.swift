/// Why a policy could not be built. Each case names the entry (0-based index in the route list) and
/// what is wrong with it.
public struct EndpointPolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case malformedTemplate(entry: Int, template: String, reason: String)
        case invalidMethod(entry: Int, method: String)
        case unknownScope(entry: Int, scope: String)
        case duplicateRoute(entry: Int, method: String, template: String)
        case conflictingTemplates(entry: Int, template: String, existing: String)
        case invalidCost(entry: Int, cost: Int)
        case invalidDocument(String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// A template is not a valid path template; carries the reason.
    public static func malformedTemplate(entry: Int, template: String, reason: String) -> Self {
        Self(.malformedTemplate(entry: entry, template: template, reason: reason))
    }

    /// A route lists no method, or a method that is not a token.
    public static func invalidMethod(entry: Int, method: String) -> Self {
        Self(.invalidMethod(entry: entry, method: method))
    }

    /// A scope name is not in the policy's catalog.
    public static func unknownScope(entry: Int, scope: String) -> Self {
        Self(.unknownScope(entry: entry, scope: scope))
    }

    /// The same method and template appear twice.
    public static func duplicateRoute(entry: Int, method: String, template: String) -> Self {
        Self(.duplicateRoute(entry: entry, method: method, template: template))
    }

    /// Two templates match the same paths with different parameter names, such as `/a/{id}` and `/a/{key}`.
    public static func conflictingTemplates(entry: Int, template: String, existing: String) -> Self {
        Self(.conflictingTemplates(entry: entry, template: template, existing: existing))
    }

    /// A route's cost is not 1 to ``RateLimit/maximumLimit``.
    public static func invalidCost(entry: Int, cost: Int) -> Self { Self(.invalidCost(entry: entry, cost: cost)) }

    /// The JSON document is not a policy; carries the decoder's explanation.
    public static func invalidDocument(_ value: String) -> Self { Self(.invalidDocument(value)) }

    /// A message naming the entry and the reason.
    public var description: String {
        switch kind {
        case .malformedTemplate(let entry, let template, let reason):
            "Route \(entry + 1): template \"\(ScopeError.safeExcerpt(template))\" is malformed: \(reason)."
        case .invalidMethod(let entry, let method):
            "Route \(entry + 1): \"\(ScopeError.safeExcerpt(method))\" is not an HTTP method."
        case .unknownScope(let entry, let scope):
            "Route \(entry + 1): unknown scope \"\(ScopeError.safeExcerpt(scope))\"."
        case .duplicateRoute(let entry, let method, let template):
            "Route \(entry + 1): \(method) \(template) is defined twice."
        case .conflictingTemplates(let entry, let template, let existing):
            "Route \(entry + 1): \(template) matches the same paths as \(existing); use one parameter name."
        case .invalidCost(let entry, let cost):
            "Route \(entry + 1): a cost of \(cost) is not 1 to \(RateLimit.maximumLimit)."
        case .invalidDocument(let reason): "The policy document is invalid: \(reason)"
        }
    }
}
