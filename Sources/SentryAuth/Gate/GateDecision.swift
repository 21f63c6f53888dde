/// The gate's answer for one request.
public enum GateDecision: Sendable {
    /// The request may proceed, on behalf of this principal.
    case allowed(AllowedRequest)
    /// The request is refused with this response.
    case refused(GateRefusal)

    /// The HTTP status: 200 for allowed (the handler decides the real one), else the refusal's.
    public var status: Int {
        switch self {
        case .allowed: 200
        case .refused(let refusal): refusal.status
        }
    }

    /// The headers to add to the response.
    public var headers: [HTTPHeaderField] {
        switch self {
        case .allowed(let allowed): allowed.headers
        case .refused(let refusal): refusal.headers
        }
    }
}

/// One response header.
public struct HTTPHeaderField: Sendable, Hashable {
    /// The field name, such as `Retry-After`.
    public let name: String
    /// The field value.
    public let value: String

    /// Creates a header field.
    ///
    /// - Parameters:
    ///   - name: The field name.
    ///   - value: The field value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Who a request acts for. Every data query the handler makes must be scoped to ``merchantID``.
public struct Principal: Sendable, Hashable {
    /// The merchant the key belongs to.
    public let merchantID: MerchantID
    /// The key that authenticated the request.
    public let keyID: APIKeyID
    /// The key's scopes.
    public let scopes: ScopeSet
}

/// An allowed request: its principal, the route it matched and its rate-limit state.
public struct AllowedRequest: Sendable {
    /// Who the request acts for.
    public let principal: Principal
    /// The route and its path parameters.
    public let match: EndpointMatch
    /// The rate limiter's decision, for the response headers.
    public let rateLimit: RateLimitDecision

    /// The rate-limit headers to add to the response.
    public var headers: [HTTPHeaderField] {
        rateLimit.headers.map { HTTPHeaderField(name: $0.name, value: $0.value) }
    }
}

/// A refused request: the complete response to send.
///
/// The body is `{"error": CODE, "message": MESSAGE}` with `Content-Type: application/json`. No part of
/// it echoes the request: not the key, not the path, not the address.
public struct GateRefusal: Error, Sendable, Hashable {
    /// The documented error codes.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// 401: missing or invalid API key.
        case unauthorized = "UNAUTHORIZED"
        /// 403: API key not allowed from this IP address.
        case forbidden = "FORBIDDEN"
        /// 404: no route for this method and path.
        case notFound = "NOT_FOUND"
        /// 403: API key missing required scopes for this endpoint.
        case insufficientScope = "INSUFFICIENT_SCOPE"
        /// 429: more requests than the key's limit.
        case rateLimitExceeded = "RATE_LIMIT_EXCEEDED"

        /// The HTTP status for the code.
        public var status: Int {
            switch self {
            case .unauthorized: 401
            case .forbidden, .insufficientScope: 403
            case .notFound: 404
            case .rateLimitExceeded: 429
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
        /// No route for the method and path.
        case noRoute
        /// The key lacks these scopes.
        case insufficientScope(missing: ScopeSet)
        /// The key's rate limit is spent.
        case rateLimited
    }

    /// The error code.
    public let code: Code
    /// The message for the client.
    public let message: String
    /// The detailed reason, for logs.
    public let reason: Reason
    /// Every response header, `Content-Type` first.
    public let headers: [HTTPHeaderField]

    /// The HTTP status.
    public var status: Int { code.status }

    /// The JSON body: `{"error":"CODE","message":"MESSAGE"}`.
    public var body: String {
        "{\"error\":\(JSONText.quoted(code.rawValue)),\"message\":\(JSONText.quoted(message))}"
    }
}

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
