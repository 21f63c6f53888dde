import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import IntegrationTestSupport
import Logging
import MetricsTestKit
import NIOEmbedded
import SentryAuth
import SentryAuthHummingbird
import SentryAuthNIO
import Synchronization
import Testing

@Suite("Hummingbird middleware, live over loopback")
struct SentryAuthMiddlewareTests {
    /// An application whose one handler answers with the principal's merchant.
    static func application(
        _ world: SentryWorld, metrics: TestMetrics = TestMetrics(), logs: LogCapture = LogCapture()
    ) -> some ApplicationProtocol {
        let router = Router(context: BasicSentryAuthRequestContext.self)
        router.add(
            middleware: SentryAuthMiddleware(
                gate: world.gate, resolver: world.resolver, observer: DecisionObserver(factory: metrics)))
        // One handler per route of the policy: a catch-all route ("**") is no policy route, and the
        // gate would refuse every request to it.
        var api = ScopedRoutes<BasicSentryAuthRequestContext>()
        for route in EndpointPolicy.sentry.routes {
            api.on(route) { _, context in "merchant \(try context.requirePrincipal().merchantID)" }
        }
        api.register(on: router)
        var logger = Logger(label: "test") { _ in logs.handler() }
        logger.logLevel = .debug
        return Application(router: router, logger: logger)
    }

    @Test("Every answer of the gate over real HTTP: status, headers and JSON body")
    func everyAnswer() async throws {
        let world = try await SentryWorld()
        let metrics = TestMetrics()
        let logs = LogCapture()
        try await Self.application(world, metrics: metrics, logs: logs).test(.live) { testClient in
            let client = LiveClient(port: try #require(testClient.port))
            defer { Task { try? await client.shutdown() } }
            try await LiveGateChecks.run(client, world: world, handlerEcho: "merchant merchant_42")
            try await client.shutdown()
        }
        // Every decision counted by outcome.
        func count(_ outcome: String) -> Int64 {
            metrics.counterTotal(label: DecisionObserver.metricLabel, dimensions: [("outcome", outcome)])
        }
        // The first request, the expiring key, a key with no end, the proxied client, 59 more.
        #expect(count("allowed") == 63)
        #expect(count("unauthorized") == 5)
        #expect(count("forbidden") == 3)
        #expect(count("not_found") == 3)
        #expect(count("insufficient_scope") == 1)
        #expect(count("rate_limited") == 1)
        // Refusals logged at debug with reason and key ID, never a key.
        let lines = logs.lines
        #expect(
            lines.contains { $0.contains("sentry_auth.code=FORBIDDEN") && $0.contains(world.office.record.id.rawValue) }
        )
        #expect(lines.contains { $0.contains("sentry_auth.reason=invalid key: The API key has been revoked.") })
        for created in [world.full, world.office, world.narrow, world.revoked, world.expiring] {
            #expect(!lines.contains { $0.contains(created.key.revealSecret()) })
        }
        // Nothing shaped like a key at all (the only "sntr_" allowed is the expected prefix, quoted).
        let keyShape = /sntr_[A-Za-z0-9_-]{8,}/
        #expect(!lines.contains { $0.contains(keyShape) }, "\(lines.filter { $0.contains("sntr_") })")
        #expect(lines.contains { $0.contains(#"does not start with \"sntr_\""#) || $0.contains("does not start with") })
    }

    @Test("8 concurrent clients × 20 requests on one 60-per-minute key: exactly 60 allowed")
    func concurrentClients() async throws {
        let world = try await SentryWorld()
        try await Self.application(world).test(.live) { testClient in
            let client = LiveClient(port: try #require(testClient.port))
            do {
                try await LiveGateChecks.concurrentClients(client, key: world.busy)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    @Test("The test client of HummingbirdTesting sees the same answer (the adapter works with any client)")
    func hummingbirdTestClient() async throws {
        let world = try await SentryWorld()
        try await Self.application(world).test(.live) { client in
            let key = world.full.key.revealSecret()
            try await client.execute(
                uri: "/public/api/v1/sales/s_1", method: .get, headers: [.authorization: "Bearer \(key)"]
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "merchant merchant_42")
                #expect(response.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "59")
            }
        }
    }

    @Test("A handler routed outside the middleware cannot get a principal or a decision: it fails closed")
    func outsideTheMiddleware() async throws {
        let world = try await SentryWorld()
        let router = Router(context: BasicSentryAuthRequestContext.self)
        // Registered before the middleware: Hummingbird never runs the gate for it.
        router.get("/public/api/v1/sales") { _, context in "merchant \(try context.requirePrincipal().merchantID)" }
        router.get("/public/api/v1/sales/{id}") { _, context in try context.requireAllowedRequest().match.route.template
        }
        router.add(middleware: SentryAuthMiddleware(gate: world.gate))
        try await Application(router: router).test(.live) { client in
            let key = world.full.key.revealSecret()
            for uri in ["/public/api/v1/sales", "/public/api/v1/sales/s_1"] {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(key)"]) {
                    response in
                    #expect(response.status == .unauthorized, "\(uri)")
                    #expect(response.headers[HTTPField.Name("X-RateLimit-Remaining")!] == nil, "the gate never ran")
                }
            }
        }
    }
}

@Suite("Hummingbird middleware with hummingbird-auth")
struct HummingbirdAuthCompositionTests {
    @Test("The principal is hummingbird-auth's identity: its guards compose with the gate")
    func identity() async throws {
        let world = try await SentryWorld()
        let router = Router(context: BasicSentryAuthRequestContext.self)
        router.add(middleware: SentryAuthMiddleware(gate: world.gate))
        router.add(middleware: IsAuthenticatedMiddleware())
        router.get("/public/api/v1/sales") { _, context in
            "identity \(try context.requireIdentity().keyID), principal \(try context.requirePrincipal().keyID)"
        }
        try await Application(router: router).test(.live) { client in
            try await client.execute(
                uri: "/public/api/v1/sales", method: .get,
                headers: [.authorization: "Bearer \(world.narrow.key.revealSecret())"]
            ) { response in
                #expect(response.status == .ok)
                let id = world.narrow.record.id
                #expect(String(buffer: response.body) == "identity \(id), principal \(id)")
            }
            // Refused by the gate before hummingbird-auth's guard is reached.
            try await client.execute(uri: "/public/api/v1/sales", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="Sentry Payments API""#)
            }
        }
    }
}
