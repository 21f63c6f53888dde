/// Why a policy could not be built. Each case names the entry (0-based index in the route list) and
/// what is wrong with it.
public enum EndpointPolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A template is not a valid path template; carries the reason.
    case malformedTemplate(entry: Int, template: String, reason: String)
    /// A route lists no method, or a method that is not a token.
    case invalidMethod(entry: Int, method: String)
    /// A scope name is not in the policy's catalog.
    case unknownScope(entry: Int, scope: String)
    /// The same method and template appear twice.
    case duplicateRoute(entry: Int, method: String, template: String)
    /// Two templates match the same paths with different parameter names, such as `/a/{id}` and `/a/{key}`.
    case conflictingTemplates(entry: Int, template: String, existing: String)
    /// A route's cost is not 1 to ``RateLimit/maximumLimit``.
    case invalidCost(entry: Int, cost: Int)
    /// The JSON document is not a policy; carries the decoder's explanation.
    case invalidDocument(String)

    /// A message naming the entry and the reason.
    public var description: String {
        switch self {
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
