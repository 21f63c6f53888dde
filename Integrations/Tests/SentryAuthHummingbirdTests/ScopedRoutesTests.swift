import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IntegrationTestSupport
import SentryAuth
import SentryAuthHummingbird
import Testing

@Suite("Hummingbird: routes declared once with their scopes")
struct ScopedRoutesTests {
    static func routes() -> ScopedRoutes<BasicSentryAuthRequestContext> {
        var api = ScopedRoutes<BasicSentryAuthRequestContext>(prefix: "/public/api/v1")
        api.get("/customers/export", requires: [.salesRead], cost: 5) { _, context in
            "export for \(try context.requirePrincipal().merchantID)"
        }
        api.get("/customers/{id}", requires: [.customerRead]) { _, context in
            "customer \(try context.requireAllowedRequest().match.parameter("id") ?? "")"
        }
        api.post("/invoices/{id}/remind", requires: [.invoiceRemind]) { _, _ in "reminded" }
        api.delete("/customers/{id}", requires: [.customerWrite]) { _, _ in "deleted" }
        return api
    }

    @Test("The policy is made from the declarations: routes, methods (GET with HEAD), scopes and cost")
    func policy() throws {
        let policy = try Self.routes().policy()
        #expect(
            policy.routes == [
                .init([.get, .head], "/public/api/v1/customers/export", requires: [.salesRead], cost: 5),
                .init([.get, .head], "/public/api/v1/customers/{id}", requires: [.customerRead]),
                .init(.post, "/public/api/v1/invoices/{id}/remind", requires: [.invoiceRemind]),
                .init(.delete, "/public/api/v1/customers/{id}", requires: [.customerWrite]),
            ])
        // The router made from the same list agrees with it, HEAD included.
        let router = Router(context: BasicSentryAuthRequestContext.self)
        Self.routes().register(on: router)
        try router.checkRoutes(against: policy)
        // A declaration the policy cannot hold is an error naming it.
        var bad = ScopedRoutes<BasicSentryAuthRequestContext>()
        bad.get("/a/{id}/{id}", requires: []) { _, _ in "" }
        #expect(throws: EndpointPolicyError.self) { try bad.policy() }
    }

    @Test("Served: the literal route is its own route with its own scopes; HEAD answers without a body")
    func served() async throws {
        let world = try await SentryWorld()
        let api = Self.routes()
        let gate = RequestGate(
            keys: world.keys, policy: try api.policy(), rateLimits: world.limits, clock: world.clock,
            wallClock: world.wallClock)
        let router = Router(context: BasicSentryAuthRequestContext.self)
        router.add(middleware: SentryAuthMiddleware(gate: gate))
        api.register(on: router)
        try await Application(router: router).test(.live) { client in
            func send(_ method: HTTPRequest.Method, _ uri: String, _ key: CreatedKey) async throws -> (
                Int, String, HTTPFields
            ) {
                try await client.execute(
                    uri: uri, method: method, headers: [.authorization: "Bearer \(key.key.revealSecret())"]
                ) { ($0.status.code, String(buffer: $0.body), $0.headers) }
            }
            #expect(try await send(.get, "/public/api/v1/customers/export", world.reader).0 == 403)
            let export = try await send(.get, "/public/api/v1/customers/export", world.narrow)
            #expect(export.0 == 200 && export.1 == "export for merchant_42")
            #expect(export.2[HTTPField.Name("X-RateLimit-Remaining")!] == "55", "the declared cost of 5")
            #expect(try await send(.get, "/public/api/v1/customers/c_9", world.reader).1 == "customer c_9")
            let head = try await send(.head, "/public/api/v1/customers/c_9", world.reader)
            #expect(head.0 == 200 && head.1.isEmpty)
            #expect(try await send(.post, "/public/api/v1/invoices/i/remind", world.narrow).0 == 403)
            #expect(try await send(.post, "/public/api/v1/invoices/i/remind", world.full).1 == "reminded")
            let put = try await send(.put, "/public/api/v1/customers/c_9", world.full)
            #expect(put.0 == 405 && put.2[HTTPField.Name("Allow")!] == "GET, HEAD, DELETE")
        }
    }
}
