import Foundation
import SentryAuth

/// The OpenAPI 3.1 document of the routes the server guards, built from the endpoint policy so it
/// cannot drift from what the gate enforces: the bearer security scheme, each operation's required
/// scopes, and every answer the gate can give — 200, 401, 403 (`FORBIDDEN` and
/// `INSUFFICIENT_SCOPE`), 404, 429 and 503 (a store that did not answer) — with the error body and
/// its headers. The 405 for a method a path does not list cannot stand under an operation (there is
/// none for that method): the document's description says it, and `components.responses` holds it.
enum OpenAPIDocument {
    /// The document as JSON.
    static func json(for policy: EndpointPolicy) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(JSONValue.object(document(for: policy)))
    }

    /// A byte a decoded parameter may hold (printable ASCII but `/` and `\`), and the same but `.`.
    static let any = #"[!-.0-\[\]-~]"#
    static let notDot = #"[!-\-0-\[\]-~]"#

    static func document(for policy: EndpointPolicy) -> [String: JSONValue] {
        var paths: [String: JSONValue] = [:]
        for route in policy.routes {
            var item = paths[route.template]?.objectValue ?? [:]
            let parameters = route.template.split(separator: "/").filter { $0.first == "{" }.map {
                JSONValue.object([
                    "name": .string(String($0.dropFirst().dropLast())), "in": .string("path"), "required": .bool(true),
                    // What a parameter may hold once decoded (the policy's canonical segment): printable
                    // ASCII but `/` and `\\`, not a dot segment (`.`, `..`).
                    "schema": .object([
                        "type": .string("string"), "minLength": .number(1),
                        "pattern": .string("^(?:\(notDot)\(any)*|\\.\(notDot)\(any)*|\\.\\.\(any)+)$"),
                    ]),
                ])
            }
            for method in route.methods {
                item[method.rawValue.lowercased()] = .object(
                    operation(route: route, method: method, parameters: parameters))
            }
            paths[route.template] = .object(item)
        }
        return [
            "openapi": .string("3.1.0"),
            "info": .object([
                "title": .string("Sentry Payments API (reference server)"), "version": .string("1"),
                "description": .string(
                    "Every request needs `Authorization: Bearer sntr_…`; a key holds scopes, an optional IP allowlist "
                        + "and a rate limit (60 requests a minute by default). Every request meets the gate, on any "
                        + "path and method: without a valid key it is 401 `UNAUTHORIZED`; a path this document does "
                        + "not list is 404 `NOT_FOUND`, and a listed path with a method it does not list is 405 "
                        + "`METHOD_NOT_ALLOWED` with `Allow` naming the path's methods (both with the Error body)."),
            ]),
            "paths": .object(paths),
            "components": .object([
                "securitySchemes": .object([
                    "bearer": .object([
                        "type": .string("http"), "scheme": .string("bearer"), "bearerFormat": .string("sntr_ API key"),
                    ])
                ]),
                "schemas": .object([
                    "Error": .object([
                        "type": .string("object"), "required": .array([.string("error"), .string("message")]),
                        "additionalProperties": .bool(false),
                        "properties": .object([
                            "error": .object([
                                "type": .string("string"),
                                "enum": .array(GateDecision.Refusal.Code.allCases.map { .string($0.rawValue) }),
                            ]),
                            "message": .object(["type": .string("string")]),
                        ]),
                    ]),
                    "Answer": .object([
                        "type": .string("object"),
                        "required": .array(["merchant_id", "key_id", "endpoint", "parameters"].map { .string($0) }),
                        "properties": .object([
                            "merchant_id": .object(["type": .string("string")]),
                            "key_id": .object(["type": .string("string")]),
                            "endpoint": .object(["type": .string("string")]),
                            "parameters": .object([
                                "type": .string("object"), "additionalProperties": .object(["type": .string("string")]),
                            ]),
                        ]),
                    ]),
                ]),
                "headers": .object(headers),
                "responses": .object([
                    "MethodNotAllowed": .object([
                        "description": .string(
                            "METHOD_NOT_ALLOWED: the path exists, not with this method; `Allow` lists its methods"),
                        "headers": .object(["Allow": .object(["$ref": .string("#/components/headers/Allow")])]),
                        "content": .object([
                            "application/json": .object([
                                "schema": .object(["$ref": .string("#/components/schemas/Error")])
                            ])
                        ]),
                    ])
                ]),
            ]),
        ]
    }

    static func operation(
        route: EndpointPolicy.Route, method: EndpointPolicy.Method, parameters: [JSONValue]
    ) -> [String: JSONValue] {
        let head = method == .head
        func response(_ description: String, schema: String, headers names: [String]) -> JSONValue {
            var response: [String: JSONValue] = ["description": .string(description)]
            if !head {
                response["content"] = .object([
                    "application/json": .object(["schema": .object(["$ref": .string("#/components/schemas/\(schema)")])]
                    )
                ])
            }
            if !names.isEmpty {
                response["headers"] = .object(
                    Dictionary(
                        uniqueKeysWithValues: names.map {
                            ($0, .object(["$ref": .string("#/components/headers/\($0)")]))
                        }))
            }
            return .object(response)
        }
        let rateLimitHeaders = [
            "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit",
        ]
        let scopes = route.requiredScopes.scopes.map(\.name)
        return [
            "operationId": .string(operationID(method: method, template: route.template)),
            "summary": .string(
                "Needs " + (scopes.isEmpty ? "any valid key" : scopes.joined(separator: ", "))
                    + (route.cost == 1 ? "" : "; costs \(route.cost) requests")),
            "parameters": .array(parameters),
            "security": .array([.object(["bearer": .array(scopes.map { .string($0) })])]),
            "x-required-scopes": .array(scopes.map { .string($0) }),
            "responses": .object([
                "200": response(
                    "Allowed: the merchant the request acts for", schema: "Answer",
                    headers: rateLimitHeaders + ["Deprecation", "Sunset", "Link"]),
                "401": response(
                    "UNAUTHORIZED: missing or invalid API key", schema: "Error", headers: ["WWW-Authenticate"]),
                "403": response(
                    "FORBIDDEN (API key not allowed from this IP address) or INSUFFICIENT_SCOPE (API key missing "
                        + "required scopes for this endpoint)", schema: "Error", headers: []),
                "404": response(
                    "NOT_FOUND: no endpoint matches this method and path (non-canonical paths never match)",
                    schema: "Error", headers: []),
                "429": response(
                    "RATE_LIMIT_EXCEEDED: more requests than the key's limit in its window, or too many failed "
                        + "authentications from the client address (its requests are then refused without a key "
                        + "look-up until the window ends)", schema: "Error",
                    headers: rateLimitHeaders + ["Retry-After"]),
                "503": response(
                    "SERVICE_UNAVAILABLE: the key database or the shared rate-limit store did not answer",
                    schema: "Error", headers: ["Retry-After"]),
            ]),
        ]
    }

    /// `getPublicApiV1CustomersId` for `GET /public/api/v1/customers/{id}`.
    static func operationID(method: EndpointPolicy.Method, template: String) -> String {
        let words = template.split(separator: "/").map { $0.filter { $0.isLetter || $0.isNumber } }
        return method.rawValue.lowercased() + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static let headers: [String: JSONValue] = {
        func header(_ description: String, _ schema: [String: JSONValue], required: Bool = true) -> JSONValue {
            .object(["description": .string(description), "required": .bool(required), "schema": .object(schema)])
        }
        let integer: [String: JSONValue] = ["type": .string("string"), "pattern": .string("^[0-9]+$")]
        return [
            "X-RateLimit-Limit": header("Requests allowed per window", integer),
            "X-RateLimit-Remaining": header("Requests left in the current window", integer),
            "X-RateLimit-Reset": header("Seconds until the window frees quota, rounded up", integer),
            "RateLimit-Policy": header("IETF draft: `\"default\";q=LIMIT;w=WINDOW`", ["type": .string("string")]),
            "RateLimit": header("IETF draft: `\"default\";r=REMAINING;t=RESET`", ["type": .string("string")]),
            "Retry-After": header("Seconds to wait, rounded up, at least 1", integer),
            "Deprecation": header(
                "RFC 9745, when the key stops working within 7 days or was rolled: `@SECONDS`, that moment",
                ["type": .string("string"), "pattern": .string("^@-?[0-9]+$")], required: false),
            "Sunset": header(
                "RFC 8594, with Deprecation: the moment the key stops working, as an HTTP date",
                ["type": .string("string")], required: false),
            "Link": header(
                "For a rolled key: `</manage/v1/keys/SUCCESSOR-ID>; rel=\"successor-version\"`",
                ["type": .string("string")], required: false),
            "Allow": header("The path's methods, comma-separated (`GET, HEAD, POST`)", ["type": .string("string")]),
            "WWW-Authenticate": header(
                "RFC 6750 challenge: `Bearer realm=\"…\"`, with `error=\"invalid_token\"` when a token was presented",
                ["type": .string("string"), "pattern": .string("^Bearer realm=")]),
        ]
    }()
}

/// A JSON value, for building the document without Foundation's untyped dictionaries.
enum JSONValue: Encodable, Sendable {
    case string(String)
    case number(Int)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])

    var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
