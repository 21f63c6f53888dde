import Foundation

/// A warning that the key of an allowed request stops working soon: it was rolled and is in its
/// grace period, or it expires within the gate's ``RequestGate/sunsetWarning`` horizon.
///
/// Its ``headers`` tell the client, on every allowed request, while there is still time to switch:
///
/// ```
/// Deprecation: @1767225600
/// Sunset: Thu, 01 Jan 2026 00:00:00 GMT
/// Link: </manage/v1/keys/key_…>; rel="successor-version"
/// ```
///
/// `Deprecation` (RFC 9745, a structured-field date) and `Sunset` (RFC 8594, an HTTP date) both
/// carry the moment the key stops working; `Link` names the successor of a rolled key, by key ID,
/// as a path of the management API. A revoked or already expired key is refused before any of this.
public struct KeySunset: Sendable, Hashable {
    /// Why the key stops working.
    public enum Reason: String, Sendable, Hashable {
        /// It was rolled; its grace period ends (or it expires first).
        case rolled
        /// It expires.
        case expiring
    }

    /// Why the key stops working.
    public let reason: Reason
    /// When it stops working.
    public let stopsWorkingAt: Date
    /// The key that replaced it, for a rolled key.
    public let successorID: APIKeyID?

    /// The path before a successor's key ID in `Link`.
    public static let successorPathPrefix = "/manage/v1/keys/"

    /// The warning for `record` at `now`, if it stops working within `horizon` or was rolled.
    ///
    /// - Parameters:
    ///   - record: The key's record (active at `now`).
    ///   - now: The wall-clock time of the request.
    ///   - horizon: How far ahead an expiry is announced.
    /// - Returns: The warning, or `nil` for a key with no end in sight.
    public init?(record: KeyRecord, at now: Date, horizon: Duration) {
        guard let stopsWorkingAt = record.stopsWorkingAt else { return nil }
        if record.successorID != nil, record.graceEndsAt != nil {
            reason = .rolled
        } else if stopsWorkingAt.timeIntervalSince(now)
            <= Double(horizon.components.seconds) + Double(horizon.components.attoseconds) / 1e18
        {
            reason = .expiring
        } else {
            return nil
        }
        self.stopsWorkingAt = stopsWorkingAt
        self.successorID = record.successorID
    }

    /// `Deprecation`, `Sunset` and, for a rolled key, `Link` to its successor.
    public var headers: [HTTPHeaderField] {
        let seconds = Int64(stopsWorkingAt.timeIntervalSince1970.rounded(.down))
        var fields = [
            HTTPHeaderField(name: "Deprecation", value: "@\(seconds)"),
            HTTPHeaderField(name: "Sunset", value: Self.httpDate(seconds)),
        ]
        if let successorID {
            fields.append(
                HTTPHeaderField(
                    name: "Link",
                    value: "<\(Self.successorPathPrefix)\(successorID.rawValue)>; rel=\"successor-version\""))
        }
        return fields
    }

    /// RFC 9110's IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) of a time in whole seconds since 1970,
    /// from the proleptic Gregorian calendar (``RFC3339Time``'s `civil_from_days`): no locale, no
    /// formatter.
    static func httpDate(_ seconds: Int64) -> String {
        let (days, inDay) = Int(seconds).quotientAndRemainder(dividingBy: 86_400)
        let (day, secondOfDay) = inDay < 0 ? (days - 1, inDay + 86_400) : (days, inDay)
        let (year, month, dayOfMonth) = RFC3339Time.civil(fromDays: day)
        // 1970-01-01 was a Thursday.
        let weekday = ((day % 7) + 7 + 4) % 7
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[weekday]), \(two(dayOfMonth)) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }
}
