#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Strict RFC 3339 `date-time` text, to the millisecond: how key stores write times and how the
/// `sentry-auth` command reads them (`--expires 2027-01-31T09:30:00.250+02:00`).
///
/// ```swift
/// let expiry = try RFC3339Time.date(from: "2027-01-31T09:30:00.250+02:00")
/// RFC3339Time.string(from: expiry)   // "2027-01-31T07:30:00.250Z"
/// ```
///
/// A time is kept to the millisecond: ``string(from:)`` writes the nearest millisecond (and the
/// fraction only when it is not zero), and ``date(from:)`` reads it back to the same `Date`, so a
/// record survives any number of writes unchanged. (Foundation's `ISO8601FormatStyle` truncates a
/// binary fraction such as `.123` to `.122`, and its round trips drift.)
///
/// Every field is checked against its range — month 1–12, the day against the month's length in that
/// year (leap years by the Gregorian rule), hour 0–23, minute 0–59, second 0–59 — and an out-of-range
/// field is an error that names it, never rolled into the next minute, day or month. A leap second
/// (`23:59:60`) is refused: a key's expiry does not need one and no clock here keeps them. `T`/`Z`
/// may be lowercase (RFC 3339 §5.6); the offset is `Z` or `±hh:mm`. Fractional seconds of any length
/// are accepted and kept to the millisecond (truncated), the precision a key store keeps.
public enum RFC3339Time {
    /// Why a text is not an RFC 3339 date-time.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong, naming the field (`day 30 is out of range: 2027-02 has 28 days.`).
        public let description: String
    }

    /// Parses an RFC 3339 date-time, kept to the millisecond (finer fractions are truncated).
    ///
    /// - Parameter text: A date-time such as `2027-01-31T00:00:00Z` or `2027-01-31T09:30:00.25+02:00`.
    /// - Returns: The time.
    /// - Throws: ``ParseError`` naming the first field that is missing or out of range.
    public static func date(from text: some StringProtocol) throws(ParseError) -> Date {
        var reader = Reader(bytes: Array(text.utf8))
        let year = try reader.number(digits: 4, field: "year")
        try reader.expect("-", after: "year")
        let month = try reader.number(digits: 2, field: "month")
        guard (1...12).contains(month) else { throw ParseError(description: "month \(month) is not 1 to 12.") }
        try reader.expect("-", after: "month")
        let day = try reader.number(digits: 2, field: "day")
        let days = daysIn(month: month, year: year)
        guard (1...days).contains(day) else {
            throw ParseError(
                description: "day \(day) is out of range: \(year)-\(twoDigits(month)) has \(days) days.")
        }
        guard let separator = reader.next(), separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") else {
            throw ParseError(description: "expected 'T' and a time after the date, as in 2027-01-31T00:00:00Z.")
        }
        let hour = try reader.number(digits: 2, field: "hour")
        guard hour <= 23 else { throw ParseError(description: "hour \(hour) is not 0 to 23.") }
        try reader.expect(":", after: "hour")
        let minute = try reader.number(digits: 2, field: "minute")
        guard minute <= 59 else { throw ParseError(description: "minute \(minute) is not 0 to 59.") }
        try reader.expect(":", after: "minute")
        let second = try reader.number(digits: 2, field: "second")
        guard second <= 59 else {
            throw ParseError(description: "second \(second) is not 0 to 59 (leap seconds are not accepted).")
        }
        var milliseconds = 0
        if reader.peek == UInt8(ascii: ".") {
            _ = reader.next()
            var digits = 0
            while let digit = reader.peek, isDigit(digit) {
                _ = reader.next()
                if digits < 3 { milliseconds = milliseconds * 10 + Int(digit - UInt8(ascii: "0")) }
                digits += 1
            }
            guard digits > 0 else { throw ParseError(description: "expected digits after the '.' of the seconds.") }
            for _ in digits..<max(digits, 3) { milliseconds *= 10 }
        }
        var offsetMinutes = 0
        switch reader.next() {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"): break
        case let sign? where sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"):
            let hours = try reader.number(digits: 2, field: "offset hour")
            guard hours <= 23 else { throw ParseError(description: "offset hour \(hours) is not 0 to 23.") }
            try reader.expect(":", after: "offset hour")
            let minutes = try reader.number(digits: 2, field: "offset minute")
            guard minutes <= 59 else { throw ParseError(description: "offset minute \(minutes) is not 0 to 59.") }
            offsetMinutes = (hours * 60 + minutes) * (sign == UInt8(ascii: "-") ? -1 : 1)
        default:
            throw ParseError(description: "expected a time zone offset: 'Z' or ±hh:mm.")
        }
        guard reader.isAtEnd else { throw ParseError(description: "unexpected text after the time zone offset.") }
        let days1970 = daysFromCivil(year: year, month: month, day: day)
        let seconds = days1970 * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return date(milliseconds: seconds * 1000 + milliseconds)
    }

    /// Writes a time in UTC, `2027-01-31T07:30:00Z`, with `.mmm` when its millisecond is not zero.
    ///
    /// - Parameter date: The time; written to the nearest millisecond.
    /// - Returns: The RFC 3339 text.
    public static func string(from date: Date) -> String {
        let total = milliseconds(of: date)
        let (days, inDay) = total.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, dayMilliseconds) = inDay < 0 ? (days - 1, inDay + 86_400_000) : (days, inDay)
        let (year, month, dayOfMonth) = civil(fromDays: day)
        let seconds = dayMilliseconds / 1000
        var text =
            "\(padded(year, 4))-\(padded(month, 2))-\(padded(dayOfMonth, 2))T\(padded(seconds / 3600, 2)):"
            + "\(padded(seconds / 60 % 60, 2)):\(padded(seconds % 60, 2))"
        if dayMilliseconds % 1000 != 0 { text += ".\(padded(dayMilliseconds % 1000, 3))" }
        return text + "Z"
    }

    /// A time to the millisecond: the `Date` that ``date(from:)`` gives for that millisecond.
    ///
    /// - Parameter date: Any time.
    /// - Returns: `date` rounded to the nearest millisecond.
    public static func millisecondPrecision(_ date: Date) -> Date {
        self.date(milliseconds: milliseconds(of: date))
    }

    static func milliseconds(of date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(milliseconds: Int) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index == bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func next() -> UInt8? {
            defer { index += 1 }
            return peek
        }

        mutating func number(digits: Int, field: String) throws(ParseError) -> Int {
            var value = 0
            for _ in 0..<digits {
                guard let byte = peek, isDigit(byte) else {
                    throw ParseError(description: "the \(field) needs \(digits) digits.")
                }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                index += 1
            }
            return value
        }

        mutating func expect(_ character: Unicode.Scalar, after field: String) throws(ParseError) {
            guard next() == UInt8(ascii: character) else {
                throw ParseError(description: "expected '\(character)' after the \(field).")
            }
        }
    }
}
