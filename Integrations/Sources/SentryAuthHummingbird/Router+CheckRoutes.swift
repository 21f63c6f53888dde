public import Hummingbird
public import SentryAuth

extension Router {
    /// The start-up check: throws when the router's routes and the gate's policy differ, naming
    /// each difference (a handler the policy has no route for, whose requests the gate refuses; a
    /// policy route no handler takes). Call it after the last route is added.
    ///
    /// ```swift
    /// try router.checkRoutes(against: gate.policy, ignoring: ["/openapi.json"])
    /// ```
    ///
    /// - Parameters:
    ///   - policy: The gate's policy.
    ///   - ignoring: Templates of routes deliberately outside the gate (added before the middleware).
    ///   - headFallsBackToGet: Whether the router was made with `.autoGenerateHeadEndpoints`
    ///     (then a `GET` handler answers `HEAD`); `false` by default.
    /// - Throws: ``EndpointPolicy/TableMismatch`` with every difference.
    public func checkRoutes(
        against policy: EndpointPolicy, ignoring: [String] = [], headFallsBackToGet: Bool = false
    ) throws(EndpointPolicy.TableMismatch) {
        let table = routes.map { EndpointPolicy.RouterRoute(method: $0.method.rawValue, template: $0.path.description) }
        let differences = policy.differences(
            fromRouterTable: table, headFallsBackToGet: headFallsBackToGet, ignoring: ignoring)
        guard differences.isEmpty else { throw EndpointPolicy.TableMismatch(differences: differences) }
    }
}
