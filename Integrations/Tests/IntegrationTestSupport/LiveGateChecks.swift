import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SentryAuth
import Testing

/// One HTTP exchange with a live server on loopback.
public struct Exchange: Sendable {
    /// The status code.
    public var status: Int
    /// Every response header, in order.
    public var headers: [(name: String, value: String)]
    /// The body as text.
    public var body: String

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as a JSON object of strings.
    public var json: [String: String] {
        get throws {
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8))
            return try #require(object as? [String: String], "a JSON object of strings: \(body)")
        }
    }
}

/// Requests against a server listening on 127.0.0.1, through AsyncHTTPClient: a real socket.
public struct LiveClient: Sendable {
    /// The server's port on 127.0.0.1.
    public let port: Int
    /// The AsyncHTTPClient that sends the requests.
    public let client: HTTPClient

    /// Creates a client for the server on `port`, with up to `connections` connections.
    public init(port: Int, connections: Int = 8) {
        self.port = port
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(5), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Shuts the client down.
    public func shutdown() async throws { try await client.shutdown() }

    /// Sends one request and collects the whole response (at most 1 MiB).
    public func send(_ method: String, _ target: String, _ headers: [(String, String)] = []) async throws -> Exchange {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(target)")
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Exchange(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: String(buffer: body))
    }
}

/// Every answer of the gate over real HTTP, checked field by field, the same for every adapter.
public enum LiveGateChecks {
    static let customers = "/public/api/v1/customers"
    static let realm = #"Bearer realm="Sentry Payments API""#

    static func bearer(_ key: CreatedKey) -> (String, String) { ("Authorization", "Bearer \(key.key.revealSecret())") }

    /// The rate-limit headers of an answer, checked against a limit of 60 per 60 s.
    static func expectRateLimitHeaders(_ exchange: Exchange, remaining: Int, limited: Bool) {
        #expect(exchange.header("X-RateLimit-Limit") == "60")
        #expect(exchange.header("X-RateLimit-Remaining") == String(remaining))
        #expect(exchange.header("RateLimit-Policy") == #""default";q=60;w=60"#)
        let reset = exchange.header("X-RateLimit-Reset").flatMap(Int.init)
        #expect(reset != nil && (0...60).contains(reset!))
        #expect(exchange.header("RateLimit") == #""default";r=\#(remaining);t=\#(reset ?? -1)"#)
        #expect((exchange.header("Retry-After") != nil) == limited)
    }

    static func expectRefusal(_ exchange: Exchange, status: Int, code: String, message: String) throws {
        #expect(exchange.status == status, "\(code)")
        #expect(exchange.header("Content-Type") == "application/json")
        #expect(try exchange.json == ["error": code, "message": message])
    }

    /// Runs every case. `handlerEcho` is what the handler answered for an allowed request: it must
    /// name the merchant of the principal the gate set.
    public static func run(_ client: LiveClient, world: SentryWorld, handlerEcho: String) async throws {
        // 200: the principal reaches the handler; the rate-limit headers are added.
        let allowed = try await client.send("GET", customers + "?limit=10", [bearer(world.full)])
        #expect(allowed.status == 200)
        #expect(allowed.body == handlerEcho, "the handler saw the principal")
        expectRateLimitHeaders(allowed, remaining: 59, limited: false)

        // 401: missing, malformed, invalid, revoked, expired.
        let missing = try await client.send("GET", customers)
        try expectRefusal(missing, status: 401, code: "UNAUTHORIZED", message: "Missing API key.")
        #expect(missing.header("WWW-Authenticate") == realm)
        let invalidCases: [[(String, String)]] = [
            [("Authorization", "Bearer sntr_abcdefghijklmnopqrstuvwxyz123456")],
            [("Authorization", "Bearer not-a-key")],
            [bearer(world.revoked)],
        ]
        for headers in invalidCases {
            let invalid = try await client.send("GET", customers, headers)
            try expectRefusal(invalid, status: 401, code: "UNAUTHORIZED", message: "Invalid API key.")
            #expect(invalid.header("WWW-Authenticate") == realm + #", error="invalid_token""#)
            #expect(!invalid.body.contains("sntr_"))
        }
        // A key that expires within the gate's horizon (7 days) warns on every allowed answer; a key
        // with no end does not.
        let expiring = try await client.send("GET", customers, [bearer(world.expiring)])
        #expect(expiring.status == 200)
        #expect(expiring.header("Deprecation") == "@1798761660")
        #expect(expiring.header("Sunset") == "Fri, 01 Jan 2027 00:01:00 GMT")
        #expect(expiring.header("X-RateLimit-Limit") == "60")
        #expect(try await client.send("GET", customers, [bearer(world.reader)]).header("Sunset") == nil)
        world.expire()
        let expired = try await client.send("GET", customers, [bearer(world.expiring)])
        try expectRefusal(expired, status: 401, code: "UNAUTHORIZED", message: "Invalid API key.")

        // 403 FORBIDDEN: directly from loopback, and through the trusted proxy (loopback) from outside.
        let forbidden = "API key not allowed from this IP address."
        try expectRefusal(
            try await client.send("GET", customers, [bearer(world.office)]), status: 403, code: "FORBIDDEN",
            message: forbidden)
        try expectRefusal(
            try await client.send("GET", customers, [bearer(world.office), ("X-Forwarded-For", "198.51.100.7")]),
            status: 403, code: "FORBIDDEN", message: forbidden)
        // A padded header cannot make the proxy's own (trusted) address the client.
        let padding = Array(repeating: "1.1.1.1", count: 70).joined(separator: ", ")
        try expectRefusal(
            try await client.send("GET", customers, [bearer(world.office), ("X-Forwarded-For", padding + ", junk")]),
            status: 403, code: "FORBIDDEN", message: forbidden)
        let viaProxy = try await client.send(
            "GET", customers, [bearer(world.office), ("X-Forwarded-For", "127.0.0.1, 203.0.113.9")])
        #expect(viaProxy.status == 200, "the office client behind the proxy: \(viaProxy.body)")

        // 404: no route (and a non-canonical path is no route).
        for target in ["/public/api/v1/refunds", "/public/api/v1/customers/../invoices", "/public/api/v1/Customers"] {
            try expectRefusal(
                try await client.send("GET", target, [bearer(world.full)]), status: 404, code: "NOT_FOUND",
                message: "No endpoint matches this method and path.")
        }

        // 403 INSUFFICIENT_SCOPE, naming the missing scope.
        let scope = try await client.send("POST", "/public/api/v1/invoices/inv_1/remind", [bearer(world.narrow)])
        try expectRefusal(
            scope, status: 403, code: "INSUFFICIENT_SCOPE",
            message: "API key missing required scopes for this endpoint: invoice:remind.")
        #expect(scope.header("WWW-Authenticate") == realm + #", error="insufficient_scope", scope="invoice:remind""#)

        // 429 after the 60th request of a minute (the clock is frozen): 59 more after the first.
        for _ in 0..<59 { #expect(try await client.send("GET", customers, [bearer(world.full)]).status == 200) }
        let limited = try await client.send("GET", customers, [bearer(world.full)])
        try expectRefusal(
            limited, status: 429, code: "RATE_LIMIT_EXCEEDED",
            message: "Rate limit exceeded. Please try again in \(limited.header("Retry-After") ?? "?") seconds.")
        expectRateLimitHeaders(limited, remaining: 0, limited: true)
        #expect(limited.header("Retry-After").flatMap(Int.init).map { (1...60).contains($0) } == true)
    }

    /// 8 concurrent clients × 20 requests on one 60-per-minute key: exactly 60 allowed.
    public static func concurrentClients(_ client: LiveClient, key: CreatedKey) async throws {
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var statuses: [Int] = []
                    for _ in 0..<20 { statuses.append(try await client.send("GET", customers, [bearer(key)]).status) }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.count == 160)
        #expect(statuses.filter { $0 == 200 }.count == 60)
        #expect(statuses.filter { $0 == 429 }.count == 100)
    }
}
