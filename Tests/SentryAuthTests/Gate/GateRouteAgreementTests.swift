import Testing

@testable import SentryAuth
import SentryAuthTesting

@Suite("Request gate: 405 with Allow, and the server's handler must be the route the policy matched")
struct GateRouteAgreementTests {
    static let v1 = "/public/api/v1"

    func request(
        _ fixture: GateFixture, _ key: APIKey?, _ method: String, _ target: String, handler: GateRequest.Handler
    ) -> GateRequest {
        var request = fixture.request(key, method, target)
        request.handler = handler
        return request
    }

    @Test("A known path with another method is 405 METHOD_NOT_ALLOWED with Allow; an unknown path stays 404")
    func methodNotAllowed() async throws {
        let fixture = GateFixture()
        let key = try await fixture.manager.create(for: .acme, name: "k", scopes: .all).key
        for method in ["TRACE", "OPTIONS", "PROPFIND", "get", "CONNECT"] {
            let refusal = try #require(
                try await fixture.evaluate(fixture.request(key, method, Self.v1 + "/customers")).refusal)
            #expect(refusal.status == 405, "\(method)")
            #expect(refusal.code == .methodNotAllowed)
            #expect(refusal.header("Allow") == "GET, HEAD, POST")
            #expect(refusal.header("Content-Type") == "application/json")
            #expect(
                try refusal.parsedBody == [
                    "error": "METHOD_NOT_ALLOWED", "message": "The endpoint does not support this method.",
                ])
            #expect(refusal.reason == .methodNotAllowed(allowed: [.get, .head, .post]))
        }
        let remind = try #require(
            try await fixture.evaluate(fixture.request(key, "GET", Self.v1 + "/invoices/i/remind")).refusal)
        #expect(remind.status == 405)
        #expect(remind.header("Allow") == "POST")
        for target in [Self.v1 + "/refunds", "*", "host:443", "/", "//", Self.v1 + "/customers/"] {
            let refusal = try #require(try await fixture.evaluate(fixture.request(key, "GET", target)).refusal)
            #expect(refusal.status == 404, "\(target)")
            #expect(refusal.header("Allow") == nil)
        }
    }

    @Test("Credentials and the allowlist come before 404 and 405: no key is 401 on any path and method")
    func order() async throws {
        let fixture = GateFixture()
        let office = try IPAllowlist(parsing: ["198.51.100.0/24"])
        let key = try await fixture.manager.create(for: .acme, name: "k", scopes: .all, allowlist: office).key
        for (method, target) in [("TRACE", Self.v1 + "/customers"), ("GET", "/nowhere"), ("OPTIONS", "*")] {
            #expect(try await fixture.evaluate(fixture.request(nil, method, target)).status == 401)
            #expect(try await fixture.evaluate(fixture.request(key, method, target)).status == 403)
        }
    }

    @Test("A literal app route beside the policy's {id}: refused before scopes and quota, whatever the key holds")
    func literalBesideParameter() async throws {
        let fixture = GateFixture()
        let reader = try await fixture.manager.create(
            for: .acme, name: "k", scopes: [.customerRead], rateLimit: try RateLimit(limit: 2, window: .seconds(60)))
        let target = Self.v1 + "/customers/export"
        for _ in 0..<5 {
            let refusal = try #require(
                try await fixture.evaluate(
                    request(fixture, reader.key, "GET", target, handler: .template(target))
                ).refusal)
            #expect(refusal.status == 404)
            #expect(refusal.reason == .routeMismatch(handler: target))
            #expect(try refusal.parsedBody["message"] == "No endpoint matches this method and path.")
        }
        // Nothing was spent: the key still has its two requests, through the policy's own handler.
        for remaining in [1, 0] {
            let allowed = try #require(
                try await fixture.evaluate(
                    request(fixture, reader.key, "GET", target, handler: .template(Self.v1 + "/customers/:id"))
                ).allowed)
            #expect(allowed.rateLimit.remaining == remaining)
        }
        // No handler at all: nothing is allowed, even where the policy has the route.
        let none = try await fixture.evaluate(
            request(fixture, reader.key, "GET", Self.v1 + "/customers/c", handler: .none))
        #expect(none.refusal?.reason == .routeMismatch(handler: nil))
        // Wildcards and partial captures are never a policy route.
        for wildcard in ["/**", Self.v1 + "/customers/*", Self.v1 + "/customers/{id}.pdf"] {
            let decision = try await fixture.evaluate(
                request(fixture, reader.key, "GET", Self.v1 + "/customers/c", handler: .template(wildcard)))
            #expect(decision.refusal?.reason == .routeMismatch(handler: wildcard), "\(wildcard)")
        }
    }

    @Test("HEAD: allowed only where the policy allows it; served by a GET handler only when HEAD and GET are one route")
    func head() async throws {
        let fixture = GateFixture()
        let key = try await fixture.manager.create(for: .acme, name: "k", scopes: .all).key
        // The built-in policy declares GET|HEAD together: HEAD through the GET handler's template is fine.
        let sales = Self.v1 + "/sales/s_1"
        let allowed = try await fixture.evaluate(
            request(fixture, key, "HEAD", sales, handler: .template(Self.v1 + "/sales/{id}")))
        #expect(allowed.allowed != nil)
        // A policy with HEAD apart from GET, with other scopes: the GET handler must not run for HEAD.
        let split = try EndpointPolicy(prefix: "/v1") {
            EndpointPolicy.Route(.get, "/reports", requires: [.salesRead])
            EndpointPolicy.Route(.head, "/reports", requires: [])
            EndpointPolicy.Route(.get, "/exports", requires: [])
        }
        let gate = RequestGate(
            keys: fixture.keys, policy: split, rateLimits: fixture.limits, clock: fixture.clock,
            wallClock: fixture.wallClock)
        let narrow = try await fixture.manager.create(for: .acme, name: "n", scopes: [.customerRead]).key
        let headReports = request(fixture, narrow, "HEAD", "/v1/reports", handler: .template("/v1/reports"))
        #expect(try await gate.evaluate(headReports).refusal?.reason == .routeMismatch(handler: "/v1/reports"))
        // Unchecked (no router beside the gate), the policy's HEAD route decides alone.
        var unchecked = headReports
        unchecked.handler = .unchecked
        #expect(try await gate.evaluate(unchecked).allowed != nil)
        // A path the policy has for GET only: HEAD is 405, whatever the router would do.
        let headExports = try #require(
            try await gate.evaluate(request(fixture, narrow, "HEAD", "/v1/exports", handler: .template("/v1/exports")))
                .refusal)
        #expect(headExports.status == 405)
        #expect(headExports.header("Allow") == "GET")
    }
}
