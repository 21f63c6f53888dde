#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SentryAuth

/// Renders key records for people. Every text a record holds goes through ``TerminalText``.
package enum RecordText {
    package static func render(_ record: KeyRecord, at now: Date) -> String {
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
    package static func time(_ date: Date) -> String { RFC3339Time.string(from: date) }

    package static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }
}
