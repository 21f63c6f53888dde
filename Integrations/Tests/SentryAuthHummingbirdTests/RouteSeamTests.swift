import HTTPTypes
import Hummingbird
import HummingbirdAuth
import IntegrationTestSupport
import Logging
import SentryAuth
import SentryAuthHummingbird
import SentryAuthNIO
import Testing

@Suite("Hummingbird: the router and the gate agree on every request, over loopback")
struct RouteSeamTests {
    /// The README's calls, the built-in policy, and a router with routes of its own (see ``RouteSeamChecks``).
    static func router(_ world: SentryWorld) -> Router<BasicSentryAuthRequestContext> {
        let router = Router(context: BasicSentryAuthRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.get("/openapi.json") { _, _ in "openapi" }  // before the middleware: outside the gate
        router.add(middleware: SentryAuthMiddleware(gate: world.gate, resolver: world.resolver))
        router.get("/public/api/v1/customers/export") { _, _ in "handler export" }
        router.get("/public/api/v1/files/**") { _, _ in "handler files" }
        for route in EndpointPolicy.sentry.routes {
            for method in route.methods where method != .head {
                router.on(RouterPath(route.template), method: HTTPRequest.Method(method.rawValue)!) {
                    request, context in
                    RouteSeamChecks.handlerEcho(
                        method: request.method.rawValue, match: try context.requireAllowedRequest().match)
                }
            }
        }
        return router
    }

    static func application(_ world: SentryWorld, logs: LogCapture = LogCapture()) -> some ApplicationProtocol {
        var logger = Logger(label: "test") { _ in logs.handler() }
        logger.logLevel = .debug
        return Application(
            router: router(world),
            server: .http1(configuration: .init(additionalChannelHandlers: [CloseAfterConnectHandler()])),
            logger: logger)
    }

    @Test("Literal beside {id}, wildcards, unrouted paths and methods, HEAD, scopes: the seam checks")
    func seam() async throws {
        let world = try await SentryWorld()
        let logs = LogCapture()
        try await Self.application(world, logs: logs).test(.live) { testClient in
            let client = LiveClient(port: try #require(testClient.port))
            do {
                try await RouteSeamChecks.run(client, world: world, documentOutsideGate: true)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
        // A route mismatch is a bug in the app's tables: logged at error level, naming the router's route.
        #expect(
            logs.lines.contains {
                $0.contains("error") && $0.contains("/public/api/v1/customers/export")
                    && $0.contains("fix the route table")
            }, "\(logs.lines.filter { $0.contains("route") })")
    }

    @Test("CONNECT is answered and its connection closed; OPTIONS * and a pipelined request are both answered")
    func unusualTargets() async throws {
        let world = try await SentryWorld()
        try await Self.application(world).test(.live) { testClient in
            try await RouteSeamChecks.unusualTargets(port: try #require(testClient.port), world: world)
        }
    }

    @Test("The start-up check names every route the two tables do not share")
    func startUpCheck() async throws {
        let world = try await SentryWorld()
        let router = Self.router(world)
        let error = try #require(throws: EndpointPolicy.TableMismatch.self) {
            try router.checkRoutes(against: .sentry, ignoring: ["/openapi.json"], headFallsBackToGet: true)
        }
        #expect(
            error.differences == [
                .init(kind: .handlerWithoutPolicyRoute, method: "GET", template: "/public/api/v1/customers/export"),
                .init(kind: .handlerWithoutPolicyRoute, method: "GET", template: "/public/api/v1/files/**"),
            ])
        // Without the HEAD fallback, every HEAD of the policy is named as having no handler.
        let strict = try #require(throws: EndpointPolicy.TableMismatch.self) {
            try router.checkRoutes(against: .sentry, ignoring: ["/openapi.json"])
        }
        #expect(strict.differences.filter { $0.kind == .policyRouteWithoutHandler }.count == 6)
        #expect(strict.differences.allSatisfy { $0.kind != .policyRouteWithoutHandler || $0.method == "HEAD" })
    }

    @Test("Without the HEAD fallback, a HEAD the policy allows has no handler: 404 JSON, never the GET handler")
    func headWithoutFallback() async throws {
        let world = try await SentryWorld()
        let router = Router(context: BasicSentryAuthRequestContext.self)
        router.add(middleware: SentryAuthMiddleware(gate: world.gate))
        router.get("/public/api/v1/sales") { _, _ in "handler sales" }
        try await Application(router: router).test(.live) { client in
            let key = world.full.key.revealSecret()
            try await client.execute(
                uri: "/public/api/v1/sales", method: .head, headers: [.authorization: "Bearer \(key)"]
            ) {
                response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json")
            }
            try await client.execute(
                uri: "/public/api/v1/sales", method: .get, headers: [.authorization: "Bearer \(key)"]
            ) {
                response in
                #expect(String(buffer: response.body) == "handler sales")
            }
        }
    }

    @Test("A refusal is an HTTPResponseError: middleware before the gate sees it thrown, like Hummingbird's own errors")
    func refusalIsThrown() async throws {
        let world = try await SentryWorld()
        struct Catcher: RouterMiddleware {
            typealias Context = BasicSentryAuthRequestContext
            func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
                async throws -> Response
            {
                do {
                    return try await next(request, context)
                } catch let refusal as SentryAuthRefusal {
                    var response = try refusal.response(from: request, context: context)
                    response.headers[HTTPField.Name("X-Caught")!] = refusal.refusal.code.rawValue
                    return response
                }
            }
        }
        let router = Router(context: BasicSentryAuthRequestContext.self)
        router.add(middleware: Catcher())
        router.add(middleware: SentryAuthMiddleware(gate: world.gate))
        router.get("/public/api/v1/sales") { _, _ in "handler sales" }
        try await Application(router: router).test(.live) { client in
            try await client.execute(uri: "/public/api/v1/sales", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[HTTPField.Name("X-Caught")!] == "UNAUTHORIZED")
                #expect(String(buffer: response.body) == #"{"error":"UNAUTHORIZED","message":"Missing API key."}"#)
            }
        }
    }

    @Test("hummingbird-auth's PermissionPolicy works on the principal: its permissions are the key's scopes")
    func permissionPolicy() async throws {
        let world = try await SentryWorld()
        let router = Router(context: BasicSentryAuthRequestContext.self)
        router.add(middleware: SentryAuthMiddleware(gate: world.gate))
        router.group()
            .add(middleware: AuthorizationPolicyMiddleware(PermissionPolicy<Principal>(.invoiceRemind)))
            .get("/public/api/v1/sales") { _, _ in "handler sales" }
        try await Application(router: router).test(.live) { client in
            for (key, status) in [(world.full, HTTPResponse.Status.ok), (world.narrow, .forbidden)] {
                try await client.execute(
                    uri: "/public/api/v1/sales", method: .get,
                    headers: [.authorization: "Bearer \(key.key.revealSecret())"]
                ) { response in
                    #expect(response.status == status, "\(key.record.name)")
                }
            }
        }
        #expect(
            Principal(merchantID: SentryWorld.merchant, keyID: APIKeyID("key_1")!, scopes: [.salesRead]).permissions
                == [.salesRead])
    }
}
