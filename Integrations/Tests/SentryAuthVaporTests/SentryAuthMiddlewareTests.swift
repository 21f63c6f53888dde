import Foundation
import IntegrationTestSupport
import SentryAuth
import SentryAuthVapor
import Testing
import Vapor
import VaporTesting

@Suite("Vapor middleware, live over loopback")
struct SentryAuthMiddlewareTests {
    /// Runs `body` against a Vapor application listening on 127.0.0.1 (a free port), whose one
    /// handler answers with the merchant of `request.auth.require(Principal.self)`.
    static func withServer(_ world: SentryWorld, _ body: (LiveClient) async throws -> Void) async throws {
        try await withApp { app in
            app.logger.logLevel = .error
            // Global middleware: every request meets the gate, unmatched ones too (a group would gate
            // only its own routes). One handler per route of the policy: a catch-all route ("**") is
            // no policy route, and the gate would refuse every request to it.
            app.middleware.use(SentryAuthMiddleware(gate: world.gate, resolver: world.resolver))
            var routes = ScopedRoutes()
            for route in EndpointPolicy.sentry.routes {
                routes.on(route) { request in "merchant \(try request.auth.require(Principal.self).merchantID)" }
            }
            routes.register(on: app)
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            let client = LiveClient(port: port)
            do {
                try await body(client)
            } catch {
                try? await client.shutdown()
                await app.server.shutdown()
                throw error
            }
            try await client.shutdown()
            await app.server.shutdown()
        }
    }

    @Test("Every answer of the gate over real HTTP: status, headers and JSON body")
    func everyAnswer() async throws {
        let world = try await SentryWorld()
        try await Self.withServer(world) { client in
            try await LiveGateChecks.run(client, world: world, handlerEcho: "merchant merchant_42")
        }
    }

    @Test("8 concurrent clients × 20 requests on one 60-per-minute key: exactly 60 allowed")
    func concurrentClients() async throws {
        let world = try await SentryWorld()
        try await Self.withServer(world) { client in
            try await LiveGateChecks.concurrentClients(client, key: world.busy)
        }
    }

    @Test("VaporTesting's in-memory tester: the principal is what request.auth holds")
    func inMemory() async throws {
        let world = try await SentryWorld()
        try await withApp { app in
            app.grouped(SentryAuthMiddleware(gate: world.gate)).get("public", "api", "v1", "sales") { request in
                let principal = try request.auth.require(Principal.self)
                return "\(principal.merchantID) \(principal.keyID) \(principal.scopes)"
            }
            try await app.testing().test(
                .GET, "/public/api/v1/sales",
                headers: ["Authorization": "Bearer \(world.narrow.key.revealSecret())"]
            ) { response in
                #expect(response.status == .ok)
                #expect(response.body.string == "merchant_42 \(world.narrow.record.id) sales:read")
                #expect(response.headers.first(name: "X-RateLimit-Remaining") == "59")
            }
            // No remote address in memory: the peer is unknown, so an allowlisted key fails closed.
            try await app.testing().test(
                .GET, "/public/api/v1/sales",
                headers: ["Authorization": "Bearer \(world.office.key.revealSecret())"]
            ) { response in
                #expect(response.status == .forbidden)
            }
        }
    }
}
