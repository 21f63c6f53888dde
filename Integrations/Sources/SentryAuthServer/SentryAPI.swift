import Foundation
import NIOCore
import Hummingbird
import SentryAuth
import SentryAuthHummingbird

/// The reference server's application: every route of the policy, behind the gate.
enum SentryAPI {
    /// What an allowed request is answered with: who it acts for and what it asked.
    struct Answer: ResponseEncodable {
        /// The merchant every data query of the request is scoped to.
        var merchantID: String
        /// The key that authenticated the request.
        var keyID: String
        /// `METHOD template`, such as `GET /public/api/v1/customers/{id}`.
        var endpoint: String
        /// The template's parameters.
        var parameters: [String: String]

        enum CodingKeys: String, CodingKey {
            case merchantID = "merchant_id"
            case keyID = "key_id"
            case endpoint, parameters
        }
    }

    /// The router: the published contract outside the gate, then the gate in front of every other
    /// request (matched or not), then one handler per policy route, declared with the route itself
    /// (``ScopedRoutes``) so the router and the policy are one table.
    static func router(
        policy: EndpointPolicy, gate: RequestGate?, resolver: ClientAddressResolver, readiness: Readiness = Readiness()
    ) throws -> Router<BasicSentryAuthRequestContext> {
        let router = Router(context: BasicSentryAuthRequestContext.self)
        // The published contract, outside the gate: registered before the middleware.
        let document = (try? OpenAPIDocument.json(for: policy)) ?? Data("{}".utf8)
        router.get(RouterPath(Self.documentPath)) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
        // Health and readiness, outside the gate too: for load balancers and orchestrators.
        router.get(RouterPath(Self.healthPath)) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"up"}"#)))
        }
        router.get(RouterPath(Self.readinessPath)) { _, _ in
            let (ready, body) = await readiness.evaluate()
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        if let gate { router.add(middleware: SentryAuthMiddleware(gate: gate, resolver: resolver)) }
        var api = ScopedRoutes<BasicSentryAuthRequestContext>()
        for route in policy.routes {
            api.on(route) { request, context in try answer(request, context, policy: policy) }
        }
        api.register(on: router)
        do {
            try router.checkRoutes(against: policy, ignoring: [Self.documentPath, Self.healthPath, Self.readinessPath])
        } catch {
            throw StartupError(description: "\(error)")  // cannot happen: both tables come from the policy
        }
        return router
    }

    /// Where the OpenAPI document is served, outside the gate.
    static let documentPath = "/openapi.json"
    /// Where liveness (200 while the process runs) and readiness (200 or 503, with reasons) are served.
    static let healthPath = "/health"
    /// See ``healthPath``.
    static let readinessPath = "/ready"

    static func answer(
        _ request: Request, _ context: BasicSentryAuthRequestContext, policy: EndpointPolicy
    ) throws -> Answer {
        // Behind the gate, the decision holds the match; without one (`--no-gate`), match here.
        guard
            let match = context.allowedRequest?.match
                ?? policy.match(method: request.method.rawValue, target: request.head.path ?? "")
        else {
            throw HTTPError(.notFound)
        }
        let principal = context.principal
        var parameters: [String: String] = [:]
        for (name, value) in match.parameters { parameters[name] = String(value) }
        return Answer(
            merchantID: principal?.merchantID.rawValue ?? "(no gate)", keyID: principal?.keyID.rawValue ?? "(no gate)",
            endpoint: "\(request.method.rawValue) \(match.route.template)", parameters: parameters)
    }
}
