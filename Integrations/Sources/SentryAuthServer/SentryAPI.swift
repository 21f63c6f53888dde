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

    /// The router: the gate (unless `gated` is false), then one handler for every path and method.
    static func router(
        policy: EndpointPolicy, gate: RequestGate?, resolver: ClientAddressResolver
    ) -> Router<BasicSentryAuthRequestContext> {
        let router = Router(context: BasicSentryAuthRequestContext.self)
        // The published contract, outside the gate.
        let document = (try? OpenAPIDocument.json(for: policy)) ?? Data("{}".utf8)
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
        let api = router.group()
        if let gate { api.add(middleware: SentryAuthMiddleware(gate: gate, resolver: resolver)) }
        let methods = Set(policy.routes.flatMap(\.methods).map(\.rawValue))
        for method in methods.sorted() {
            api.on("**", method: HTTPRequest.Method(method)!) { request, context in
                try answer(request, context, policy: policy)
            }
        }
        return router
    }

    static func answer(
        _ request: Request, _ context: BasicSentryAuthRequestContext, policy: EndpointPolicy
    ) throws -> Answer {
        guard let match = policy.match(method: request.method.rawValue, target: request.head.path ?? "") else {
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
