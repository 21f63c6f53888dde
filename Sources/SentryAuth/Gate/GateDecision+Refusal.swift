extension GateDecision {
    /// A refused request: the complete response to send.
    ///
    /// The body is `{"error": CODE, "message": MESSAGE}` with `Content-Type: application/json`. No part of
    /// it echoes the request: not the key, not the path, not the address.
    public struct Refusal: Error, Sendable, Hashable {
        /// The documented error codes.
        public enum Code: String, Sendable, Hashable, CaseIterable {
            /// 401: missing or invalid API key.
            case unauthorized = "UNAUTHORIZED"
            /// 403: API key not allowed from this IP address.
            case forbidden = "FORBIDDEN"
            /// 404: no route for this path (or the server's router would run another route's handler).
            case notFound = "NOT_FOUND"
            /// 405: the path has routes, none for this method; `Allow` lists the methods it has.
            case methodNotAllowed = "METHOD_NOT_ALLOWED"
            /// 403: API key missing required scopes for this endpoint.
            case insufficientScope = "INSUFFICIENT_SCOPE"
            /// 429: more requests than the key's limit.
            case rateLimitExceeded = "RATE_LIMIT_EXCEEDED"
            /// 503: a store the gate needs (the key database, a shared rate-limit store) did not answer.
            case serviceUnavailable = "SERVICE_UNAVAILABLE"

            /// The HTTP status for the code.
            public var status: Int {
                switch self {
                case .unauthorized: 401
                case .forbidden, .insufficientScope: 403
                case .notFound: 404
                case .methodNotAllowed: 405
                case .rateLimitExceeded: 429
                case .serviceUnavailable: 503
                }
            }
        }

        /// Why the request was refused, in more detail than the response says: for the server's logs.
        public enum Reason: Sendable, Hashable {
            /// No credentials: no `Authorization` header, an empty one, or another scheme.
            case missingCredentials
            /// An `Authorization` header that is not one well-formed bearer token.
            case malformedAuthorization
            /// A bearer token that is not a valid, active key.
            case invalidKey(KeyRejection)
            /// The key's allowlist does not contain the client address (or it is unknown).
            case addressNotAllowed
            /// No route for the path.
            case noRoute
            /// The path has routes, none for the request's method; these are the methods it has.
            case methodNotAllowed(allowed: [EndpointPolicy.Method])
            /// The server's router would run another handler than the route the policy matched (or
            /// none): its route table and the policy disagree, and the request is refused. `handler` is
            /// the router's template, `nil` when it had no handler. A server misconfiguration: see
            /// ``EndpointPolicy/differences(fromRouterTable:headFallsBackToGet:ignoring:)``.
            case routeMismatch(handler: String?)
            /// The key lacks these scopes.
            case insufficientScope(missing: ScopeSet)
            /// The key's rate limit is spent.
            case rateLimited
            /// The client address failed to authenticate too often (``FailedAuthenticationLimit``):
            /// refused without asking the key store.
            case tooManyFailedAuthentications
            /// The key store failed (a database that is down) while looking the key up: the key is
            /// neither valid nor known to be invalid, so the answer is 503, never 401 and never 200.
            case keyStoreUnavailable
            /// The rate-limit store failed (a shared store that is down and no fallback configured).
            case rateLimitStoreUnavailable
        }

        /// The error code.
        public let code: Code
        /// The message for the client.
        public let message: String
        /// The detailed reason, for logs.
        public let reason: Reason
        /// Every response header, `Content-Type` first.
        public let headers: [HTTPHeaderField]
        /// The key the request presented, once it was found (refusals after the credentials step), for
        /// logs: an identifier, never the key. Not part of the response.
        public var keyID: APIKeyID? = nil

        /// The HTTP status.
        public var status: Int { code.status }

        /// The JSON body: `{"error":"CODE","message":"MESSAGE"}`.
        public var body: String {
            "{\"error\":\(JSONText.quoted(code.rawValue)),\"message\":\(JSONText.quoted(message))}"
        }
    }
}

/// Renamed ``GateDecision/Refusal``.
@available(*, deprecated, renamed: "GateDecision.Refusal")
public typealias GateRefusal = GateDecision.Refusal

/// Minimal JSON string quoting for the refusal body.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
