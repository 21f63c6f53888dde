public import SentryAuth
public import Vapor

extension Routes {
    /// The start-up check: throws when the application's routes and the gate's policy differ,
    /// naming each difference (a handler the policy has no route for, whose requests the gate
    /// refuses; a policy route no handler takes). Call it after the last route is registered.
    ///
    /// ```swift
    /// try app.routes.checkRoutes(against: gate.policy, ignoring: ["/openapi.json"])
    /// ```
    ///
    /// Vapor answers `HEAD` with the `GET` handler, so a policy's `HEAD` needs no handler of its
    /// own when it is in the same route as `GET`.
    ///
    /// - Parameters:
    ///   - policy: The gate's policy.
    ///   - ignoring: Templates of routes deliberately outside the gate, as Vapor writes them
    ///     (`/openapi.json`, `/files/**`).
    /// - Throws: ``EndpointPolicy/TableMismatch`` with every difference.
    public func checkRoutes(against policy: EndpointPolicy, ignoring: [String] = []) throws(EndpointPolicy
        .TableMismatch)
    {
        let table = all.map {
            EndpointPolicy.RouterRoute(method: $0.method.rawValue, template: SentryAuthMiddleware.template(of: $0.path))
        }
        let differences = policy.differences(fromRouterTable: table, headFallsBackToGet: true, ignoring: ignoring)
        guard differences.isEmpty else { throw EndpointPolicy.TableMismatch(differences: differences) }
    }
}
