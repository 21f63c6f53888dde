#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SentryAuth

/// Renders a gate decision as an HTTP response: status line, headers, blank line, body.
enum ResponseText {
    static func render(_ decision: GateDecision) -> String {
        var lines = ["HTTP/1.1 \(decision.status) \(reason(decision.status))"]
        switch decision {
        case .allowed(let allowed):
            lines += allowed.headers.map { "\($0.name): \($0.value)" }
            let principal = allowed.principal
            lines += [
                "", "(allowed: merchant \(principal.merchantID), key \(principal.keyID), scopes \(principal.scopes))",
            ]
        case .refused(let refusal):
            lines += refusal.headers.map { "\($0.name): \($0.value)" }
            lines += ["", refusal.body]
        }
        return lines.joined(separator: "\n")
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 429: "Too Many Requests"
        default: ""
        }
    }
}
