import Testing

@testable import SentryAuth

@Suite("Endpoint policy beside a server's router: allowed methods, same route, table differences")
struct RouterTableTests {
    static let v1 = "/public/api/v1"
    static let methods = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "get", "PROPFIND",
    ]
    static let targets = [
        "/public/api/v1/customers", "/public/api/v1/customers/cus_1", "/public/api/v1/customers/export?x=1",
        "/public/api/v1/invoices/inv_1/remind", "/public/api/v1/invoices/inv_1", "/public/api/v1/sales",
        "/public/api/v1/sales/s_1", "/public/api/v1/refunds", "/public/api/v1", "/", "*", "//",
        "/public/api/v1/customers/", "/public/api/v1/customers/../invoices", "/public/api/v1/Customers",
        "/public/api/v1/customers#x", "host:443", "/public/api/v1/invoices/inv_1/remind/x",
    ]

    @Test("allowedMethods is exactly the set of methods match() accepts, for every target (an oracle over the table)")
    func allowedMethodsAgreeWithMatch() {
        let policy = EndpointPolicy.sentry
        for target in Self.targets {
            let oracle = Set(Self.methods.filter { policy.match(method: $0, target: target) != nil })
            let allowed = policy.allowedMethods(target: target).map(\.rawValue)
            #expect(Set(allowed) == oracle, "\(target)")
            #expect(allowed.count == Set(allowed).count, "no method twice: \(target)")
        }
    }

    @Test("allowedMethods lists the methods in the order the policy declares them")
    func allowedMethodsOrder() {
        let policy = EndpointPolicy.sentry
        #expect(policy.allowedMethods(target: Self.v1 + "/customers").map(\.rawValue) == ["GET", "HEAD", "POST"])
        #expect(
            policy.allowedMethods(target: Self.v1 + "/customers/c?q=1").map(\.rawValue)
                == ["GET", "HEAD", "PUT", "PATCH", "DELETE"])
        #expect(policy.allowedMethods(target: Self.v1 + "/invoices/i/remind").map(\.rawValue) == ["POST"])
        #expect(policy.allowedMethods(target: Self.v1 + "/refunds").isEmpty)
        #expect(policy.allowedMethods(target: String(repeating: "/a", count: 5000)).isEmpty)
    }

    @Test("isSameRoute: a literal route beside a parameter route is another route; names and syntax do not matter")
    func sameRoute() throws {
        let match = try #require(EndpointPolicy.sentry.match(method: "GET", target: Self.v1 + "/customers/export"))
        #expect(match.route.template == Self.v1 + "/customers/{id}")
        let same = [
            "/public/api/v1/customers/{id}", "/public/api/v1/customers/:id", "/public/api/v1/customers/{customerID}",
            "public/api/v1/customers/{id}", "/public//api/v1/customers/{id}/",
        ]
        for template in same { #expect(match.isSameRoute(asTemplate: template), "\(template)") }
        let other = [
            "/public/api/v1/customers/export", "/public/api/v1/customers/*", "/public/api/v1/**", "/**",
            "/public/api/v1/customers/{id}.pdf", "/public/api/v1/customers/id*", "/public/api/v1/customers",
            "/public/api/v1/customers/{id}/x", "/public/api/v1/Customers/{id}", "/public/api/v1/customers/{}",
            "/public/api/v1/customers/:", "/public/api/v1/customers/{id", "", "/",
        ]
        for template in other { #expect(!match.isSameRoute(asTemplate: template), "\(template)") }
    }

    @Test("differences: route by route, both directions, HEAD served by GET")
    func differences() throws {
        let policy = try EndpointPolicy(prefix: "/v1") {
            EndpointPolicy.Route([.get, .head], "/customers/{id}", requires: [.customerRead])
            EndpointPolicy.Route(.post, "/customers", requires: [.customerWrite])
            EndpointPolicy.Route(.get, "/sales", requires: [.salesRead])
            EndpointPolicy.Route(.head, "/sales", requires: [])
        }
        let router: [EndpointPolicy.RouterRoute] = [
            .init(method: "GET", template: "/v1/customers/:id"),
            .init(method: "GET", template: "/v1/customers/export"),
            .init(method: "GET", template: "/v1/sales"),
            .init(method: "GET", template: "/openapi.json"),
            .init(method: "GET", template: "/v1/**"),
        ]
        let found = policy.differences(fromRouterTable: router, headFallsBackToGet: true, ignoring: ["/openapi.json"])
        #expect(
            found == [
                .init(kind: .handlerWithoutPolicyRoute, method: "GET", template: "/v1/customers/export"),
                .init(kind: .handlerWithoutPolicyRoute, method: "GET", template: "/v1/**"),
                .init(kind: .policyRouteWithoutHandler, method: "POST", template: "/v1/customers"),
                .init(kind: .headApartFromGet, method: "HEAD", template: "/v1/sales"),
            ])
        // Without a HEAD-to-GET fallback, the HEAD routes have no handler.
        let strict = policy.differences(fromRouterTable: router, ignoring: ["/openapi.json"])
        #expect(
            strict.filter { $0.method == "HEAD" } == [
                .init(kind: .policyRouteWithoutHandler, method: "HEAD", template: "/v1/customers/{id}"),
                .init(kind: .policyRouteWithoutHandler, method: "HEAD", template: "/v1/sales"),
            ])
        // The built-in policy against a table made from itself: no difference.
        let own = EndpointPolicy.sentry.routes.flatMap { route in
            route.methods.map { EndpointPolicy.RouterRoute(method: $0.rawValue, template: route.template) }
        }
        #expect(EndpointPolicy.sentry.differences(fromRouterTable: own).isEmpty)
        let mismatch = EndpointPolicy.TableMismatch(differences: found)
        #expect(mismatch.description.contains("- GET /v1/customers/export: the router has a handler"))
        #expect(mismatch.description.split(separator: "\n").count == 5)
    }
}
