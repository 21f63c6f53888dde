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
        case 429: "Too Many Requests"
        default: ""
        }
    }
}

/// Renders key records for people. Every text a record holds goes through ``TerminalText``.
enum RecordText {
    static func render(_ record: KeyRecord, at now: Date) -> String {
        var lines = [
            "id:          \(record.id)",
            "merchant:    \(TerminalText.escaped(record.merchantID.rawValue))",
            "name:        \(TerminalText.escaped(record.name))",
            "scopes:      \(record.scopes.isEmpty ? "(none)" : record.scopes.formatted)",
            "allowlist:   \(record.allowlist.isEmpty ? "any address" : record.allowlist.description)",
            "rate limit:  \(record.rateLimit.limit) per \(seconds(record.rateLimit.window)) s",
            "created:     \(time(record.createdAt))",
            "expires:     \(record.expiresAt.map(time) ?? "never")",
        ]
        if let successor = record.successorID {
            lines.append(
                "rolled:      into \(successor); stops working at \(record.stopsWorkingAt.map(time) ?? "never")")
        }
        lines += [
            "revoked:     \(record.revokedAt.map(time) ?? "no")",
            "last used:   \(record.lastUsedAt.map(time) ?? "never")",
            "status:      \(record.status(at: now).rawValue)",
            "hint:        \(TerminalText.escaped(record.displayHint))",
            "digest:      \(record.digest.hex)",
        ]
        return lines.joined(separator: "\n")
    }

    /// An RFC 3339 time in UTC, with milliseconds when they are not zero.
    static func time(_ date: Date) -> String { RFC3339Time.string(from: date) }

    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }
}
