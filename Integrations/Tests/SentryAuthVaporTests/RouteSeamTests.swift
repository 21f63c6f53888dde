import Foundation
import IntegrationTestSupport
import SentryAuth
import SentryAuthVapor
import Testing
import Vapor
import VaporTesting

@Suite("Vapor: the router and the gate agree on every request, over loopback")
struct RouteSeamTests {
    /// The README's calls (global middleware), the built-in policy, and routes of the app's own.
    static func configure(_ app: Application, world: SentryWorld) {
        app.logger.logLevel = .error
        app.middleware.use(SentryAuthMiddleware(gate: world.gate, resolver: world.resolver))
        app.get("openapi.json") { _ in "openapi" }
        app.get("public", "api", "v1", "customers", "export") { _ in "handler export" }
        app.get("public", "api", "v1", "files", "**") { _ in "handler files" }
        for route in EndpointPolicy.sentry.routes {
            let path = route.template.split(separator: "/").map { segment -> PathComponent in
                segment.first == "{" ? .parameter(String(segment.dropFirst().dropLast())) : .constant(String(segment))
            }
            for method in route.methods where method != .head {
                app.on(HTTPMethod(rawValue: method.rawValue), path) { request in
                    let allowed = try #require(request.auth.get(GateDecision.Allowed.self))
                    return RouteSeamChecks.handlerEcho(method: request.method.rawValue, match: allowed.match)
                }
            }
        }
    }

    static func withServer(_ world: SentryWorld, _ body: (Int) async throws -> Void) async throws {
        try await withApp { app in
            configure(app, world: world)
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            do {
                try await body(port)
            } catch {
                await app.server.shutdown()
                throw error
            }
            await app.server.shutdown()
        }
    }

    @Test("Literal beside {id}, wildcards, unrouted paths and methods, HEAD, scopes: the seam checks")
    func seam() async throws {
        let world = try await SentryWorld()
        try await Self.withServer(world) { port in
            let client = LiveClient(port: port)
            do {
                try await RouteSeamChecks.run(client, world: world, documentOutsideGate: false)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    @Test("CONNECT is answered and its connection closed; OPTIONS * and a pipelined request are both answered")
    func unusualTargets() async throws {
        let world = try await SentryWorld()
        try await Self.withServer(world) { port in try await RouteSeamChecks.unusualTargets(port: port, world: world) }
    }

    @Test("The start-up check names every route the two tables do not share")
    func startUpCheck() async throws {
        let world = try await SentryWorld()
        try await withApp { app in
            Self.configure(app, world: world)
            let error = try #require(throws: EndpointPolicy.TableMismatch.self) {
                try app.routes.checkRoutes(against: .sentry)
            }
            #expect(
                error.differences == [
                    .init(kind: .handlerWithoutPolicyRoute, method: "GET", template: "/openapi.json"),
                    .init(kind: .handlerWithoutPolicyRoute, method: "GET", template: "/public/api/v1/customers/export"),
                    .init(kind: .handlerWithoutPolicyRoute, method: "GET", template: "/public/api/v1/files/**"),
                ])
        }
    }

    @Test("Routes declared once with ScopedRoutes: the tables agree; the literal route has its own scopes")
    func scopedRoutes() async throws {
        let world = try await SentryWorld()
        var api = ScopedRoutes(prefix: "/public/api/v1")
        api.get("/customers/export", requires: [.salesRead]) { request in
            "export for \(try request.auth.require(Principal.self).merchantID)"
        }
        api.get("/customers/{id}", requires: [.customerRead]) { request in
            "customer \(request.auth.get(GateDecision.Allowed.self)?.match.parameter("id") ?? "")"
        }
        api.post("/invoices/{id}/remind", requires: [.invoiceRemind]) { _ in "reminded" }
        let policy = try api.policy()
        #expect(
            policy.routes.map(\.template) == [
                "/public/api/v1/customers/export", "/public/api/v1/customers/{id}",
                "/public/api/v1/invoices/{id}/remind",
            ])
        let gate = RequestGate(
            keys: world.keys, policy: policy, rateLimits: world.limits, clock: world.clock, wallClock: world.wallClock)
        try await withApp { app in
            app.middleware.use(SentryAuthMiddleware(gate: gate))
            api.register(on: app)
            try app.routes.checkRoutes(against: policy)
            func send(_ method: HTTPMethod, _ path: String, _ key: CreatedKey) async throws -> (UInt, String) {
                var result: (UInt, String) = (0, "")
                try await app.testing().test(
                    method, path, headers: ["Authorization": "Bearer \(key.key.revealSecret())"]
                ) {
                    result = ($0.status.code, $0.body.string)
                }
                return result
            }
            #expect(try await send(.GET, "/public/api/v1/customers/export", world.reader).0 == 403)
            #expect(
                try await send(.GET, "/public/api/v1/customers/export", world.narrow) == (200, "export for merchant_42")
            )
            #expect(try await send(.GET, "/public/api/v1/customers/c_9", world.reader) == (200, "customer c_9"))
            #expect(try await send(.HEAD, "/public/api/v1/customers/c_9", world.reader).0 == 200)
            #expect(try await send(.POST, "/public/api/v1/invoices/i/remind", world.narrow).0 == 403)
            #expect(try await send(.POST, "/public/api/v1/invoices/i/remind", world.full) == (200, "reminded"))
        }
    }

    @Test(
        "HEAD apart from GET in the policy: Vapor's GET handler never answers a HEAD the GET route's scopes would refuse"
    )
    func headApartFromGet() async throws {
        let world = try await SentryWorld()
        let policy = try EndpointPolicy {
            EndpointPolicy.Route(.get, "/reports", requires: [.salesRead])
            EndpointPolicy.Route(.head, "/reports", requires: [])
            EndpointPolicy.Route(.get, "/exports", requires: [])
        }
        let gate = RequestGate(
            keys: world.keys, policy: policy, rateLimits: world.limits, clock: world.clock, wallClock: world.wallClock)
        try await withApp { app in
            app.middleware.use(SentryAuthMiddleware(gate: gate))
            app.get("reports") { _ in "handler reports" }
            app.get("exports") { _ in "handler exports" }
            let error = try #require(throws: EndpointPolicy.TableMismatch.self) {
                try app.routes.checkRoutes(against: policy)
            }
            #expect(error.differences == [.init(kind: .headApartFromGet, method: "HEAD", template: "/reports")])
            let headers: HTTPHeaders = ["Authorization": "Bearer \(world.reader.key.revealSecret())"]
            try await app.testing().test(.HEAD, "/reports", headers: headers) { #expect($0.status == .notFound) }
            try await app.testing().test(.HEAD, "/exports", headers: headers) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers.first(name: "Allow") == "GET")
            }
            try await app.testing().test(.GET, "/exports", headers: headers) {
                #expect($0.body.string == "handler exports")
            }
        }
    }

    @Test("On a group, the gate meets that group's routes only: outside it, Vapor answers alone (as documented)")
    func grouped() async throws {
        let world = try await SentryWorld()
        try await withApp { app in
            app.get("health") { _ in "ok" }  // outside the group: never gated
            let api = app.grouped(SentryAuthMiddleware(gate: world.gate))
            api.get("public", "api", "v1", "sales") { _ in "handler sales" }
            api.get("public", "api", "v1", "customers", "export") { _ in "handler export" }
            try await app.testing().test(.GET, "/health") { #expect($0.body.string == "ok") }
            try await app.testing().test(.GET, "/public/api/v1/sales") { #expect($0.status == .unauthorized) }
            let headers: HTTPHeaders = ["Authorization": "Bearer \(world.full.key.revealSecret())"]
            try await app.testing().test(.GET, "/public/api/v1/sales", headers: headers) {
                #expect($0.body.string == "handler sales")
            }
            // Inside the group, the route check holds as with global middleware.
            try await app.testing().test(.GET, "/public/api/v1/customers/export", headers: headers) { response in
                #expect(response.status == .notFound)
                #expect(response.headers.first(name: "Content-Type") == "application/json")
            }
            // A request no route takes never meets a group's middleware: Vapor's own 404, not the gate's.
            try await app.testing().test(.GET, "/public/api/v1/refunds") { response in
                #expect(response.status == .notFound)
                #expect(!response.body.string.contains("NOT_FOUND"))
            }
        }
    }
}
