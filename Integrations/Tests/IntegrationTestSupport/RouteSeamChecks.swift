import Foundation
import SentryAuth
import Testing

/// The seam between a framework's router and the gate, held to the same answers in every adapter.
///
/// The application under test is built from the README's calls, with the built-in policy and a
/// router of its own:
/// - `GET /openapi.json`, answered `openapi`: outside the gate where the framework can say so
///   (Hummingbird: registered before the middleware), behind it otherwise (Vapor's global
///   middleware, which every request must meet);
/// - behind the gate, the app's own routes the policy does not name, registered first:
///   `GET /public/api/v1/customers/export` (meant for `sales:read` holders) and
///   `GET /public/api/v1/files/**`, answered `handler export` and `handler files`;
/// - behind the gate, one handler per method of every policy route, answering
///   ``handlerEcho(method:match:)`` from the gate's allowed decision (read from the
///   context or `request.auth`, never by matching again). `HEAD` is served by the framework's
///   HEAD-to-GET fallback (Vapor's own; Hummingbird's `.autoGenerateHeadEndpoints`).
public enum RouteSeamChecks {
    static let v1 = "/public/api/v1"

    /// What a policy route's handler answers: `handler METHOD TEMPLATE name=value…`.
    public static func handlerEcho(method: String, match: EndpointMatch) -> String {
        (["handler", method, match.route.template] + match.parameters.map { "\($0.name)=\($0.value)" })
            .joined(separator: " ")
    }

    static func bearer(_ key: CreatedKey) -> (String, String) { ("Authorization", "Bearer \(key.key.revealSecret())") }

    static func expectRefusal(_ exchange: Exchange, _ status: Int, _ code: String, _ context: String) throws {
        #expect(exchange.status == status, "\(context): \(exchange.status) \(exchange.body)")
        #expect(exchange.header("Content-Type") == "application/json", "\(context)")
        #expect(try exchange.json["error"] == code, "\(context)")
        #expect(!exchange.body.contains("handler"), "\(context): a handler ran")
    }

    /// Runs every check against the application on `client.port`.
    public static func run(_ client: LiveClient, world: SentryWorld, documentOutsideGate: Bool) async throws {
        // The app's literal route beside the policy's {id}: no key reaches its handler, whatever it holds.
        for key in [world.reader, world.narrow, world.full] {
            let export = try await client.send("GET", v1 + "/customers/export", [bearer(key)])
            try expectRefusal(export, 404, "NOT_FOUND", "export with \(key.record.name)")
        }
        // The policy's own route still works, and its handler reads the decision, not the policy.
        let customer = try await client.send("GET", v1 + "/customers/cus_1?expand=1", [bearer(world.reader)])
        #expect(customer.status == 200)
        #expect(customer.body == "handler GET /public/api/v1/customers/{id} id=cus_1")
        #expect(customer.header("X-RateLimit-Remaining") == "59")
        // A wildcard route behind the gate is never a policy route.
        for target in [v1 + "/files/a", v1 + "/files/a/b/c"] {
            try expectRefusal(try await client.send("GET", target, [bearer(world.full)]), 404, "NOT_FOUND", target)
        }

        // Every request meets the gate, routed or not: no key is 401 JSON on any path and method.
        let unrouted: [(String, String)] = [
            ("GET", "/nowhere"), ("GET", "/"), ("TRACE", v1 + "/customers"), ("OPTIONS", v1 + "/customers"),
            ("PROPFIND", v1 + "/customers"), ("DELETE", v1 + "/customers"), ("HEAD", "/nowhere"),
            ("GET", v1 + "/customers/export"),
        ]
        for (method, target) in unrouted {
            let missing = try await client.send(method, target)
            #expect(missing.status == 401, "\(method) \(target)")
            #expect(missing.header("WWW-Authenticate") == #"Bearer realm="Sentry Payments API""#)
            if method != "HEAD" { try expectRefusal(missing, 401, "UNAUTHORIZED", "\(method) \(target) without a key") }
        }
        // With a key: a known path with another method is 405 with Allow; an unknown path 404.
        for method in ["TRACE", "OPTIONS", "PROPFIND", "DELETE", "PUT"] {
            let refused = try await client.send(method, v1 + "/customers", [bearer(world.full)])
            try expectRefusal(refused, 405, "METHOD_NOT_ALLOWED", "\(method) /customers")
            #expect(refused.header("Allow") == "GET, HEAD, POST", "\(method)")
        }
        let remindGet = try await client.send("GET", v1 + "/invoices/inv_1/remind", [bearer(world.full)])
        try expectRefusal(remindGet, 405, "METHOD_NOT_ALLOWED", "GET remind")
        #expect(remindGet.header("Allow") == "POST")
        for target in ["/nowhere", "/", v1 + "/refunds"] {
            try expectRefusal(try await client.send("GET", target, [bearer(world.full)]), 404, "NOT_FOUND", target)
        }
        // A route outside the gate stays outside it; behind the gate, it is a route the policy lacks.
        let document = try await client.send("GET", "/openapi.json")
        if documentOutsideGate {
            #expect(document.status == 200 && document.body == "openapi")
        } else {
            try expectRefusal(document, 401, "UNAUTHORIZED", "/openapi.json behind the gate")
            let withKey = try await client.send("GET", "/openapi.json", [bearer(world.full)])
            try expectRefusal(withKey, 404, "NOT_FOUND", "/openapi.json behind the gate, with a key")
        }

        // HEAD where the policy allows it: the GET handler's headers, no body.
        let head = try await client.send("HEAD", v1 + "/customers", [bearer(world.reader)])
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("X-RateLimit-Remaining") == "58")
        // HEAD where the policy does not: 405, though the framework has a GET handler for it.
        let headRemind = try await client.send("HEAD", v1 + "/invoices/inv_1/remind", [bearer(world.full)])
        #expect(headRemind.status == 405 && headRemind.header("Allow") == "POST")

        // Scopes after routes: remind without invoice:remind.
        let remind = try await client.send("POST", v1 + "/invoices/inv_1/remind", [bearer(world.narrow)])
        try expectRefusal(remind, 403, "INSUFFICIENT_SCOPE", "remind with sales:read")
        #expect(try remind.json["message"] == "API key missing required scopes for this endpoint: invoice:remind.")
        let reminded = try await client.send("POST", v1 + "/invoices/inv_1/remind", [bearer(world.full)])
        #expect(reminded.body == "handler POST /public/api/v1/invoices/{id}/remind id=inv_1")
    }

    /// `CONNECT` and asterisk-form targets get a complete answer, and a `CONNECT` never leaves its
    /// connection hanging: the server answers, then closes (nothing after a CONNECT is HTTP, and
    /// SwiftNIO sends the answer to a CONNECT without a body or `Content-Length`).
    public static func unusualTargets(port: Int, world: SentryWorld) async throws {
        let key = world.full.key.revealSecret()
        for authorization in ["", "Authorization: Bearer \(key)\r\n"] {
            let connection = try RawHTTPConnection(port: port)
            connection.send(
                "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\(authorization)\r\n"
                    + "GET /public/api/v1/customers HTTP/1.1\r\nHost: x\r\n\(authorization)\r\n")
            let (text, closed) = await connection.readUntilClose()
            let statuses = RawHTTPConnection.statuses(in: text)
            #expect(closed, "the connection after CONNECT is closed, not left hanging: \(text)")
            #expect(statuses.first == (authorization.isEmpty ? 401 : 404), "\(text)")
            #expect(statuses.count == 1, "nothing after a CONNECT is read as a request: \(text)")
            #expect(!text.contains(key))
        }
        // OPTIONS * then a pipelined request on the same connection: both answered, in order.
        let connection = try RawHTTPConnection(port: port)
        connection.send(
            "OPTIONS * HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n\r\n"
                + "GET /public/api/v1/customers/c_1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n"
                + "Connection: close\r\n\r\n")
        let (text, closed) = await connection.readUntilClose()
        #expect(closed)
        #expect(RawHTTPConnection.statuses(in: text) == [404, 200], "\(text)")
        #expect(text.contains("{\"error\":\"NOT_FOUND\""))
    }
}
