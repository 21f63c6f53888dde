import Foundation
import Testing

@testable import SentryAuth

@Suite("RFC 3339 times")
struct RFC3339TimeTests {
    @Test(
        "Valid times, with offsets and fractions, agree with the seconds since 1970",
        arguments: [
            // RFC 3339 §5.8 examples, then edges; the seconds are computed independently (Python's datetime).
            ("1985-04-12T23:20:50.52Z", 482_196_050.52),
            ("1996-12-19T16:39:57-08:00", 851_042_397),
            ("1937-01-01T12:00:27.87+00:20", -1_041_337_172.13),
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T23:59:59z", 951_868_799),
            ("2027-01-31t00:00:00.999999Z", 1_801_353_600.999),
            ("2099-12-31T23:59:59+23:59", 4_102_358_459),
        ])
    func valid(text: String, seconds: Double) throws {
        let date = try RFC3339Time.date(from: text)
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_5, "\(text)")
    }

    @Test(
        "Out-of-range fields are refused, naming the field, never rolled forward",
        arguments: [
            ("2027-01-31T99:99:99Z", "hour 99 is not 0 to 23."),
            ("2027-01-31T23:60:00Z", "minute 60 is not 0 to 59."),
            ("2027-02-30T00:00:00Z", "day 30 is out of range: 2027-02 has 28 days."),
            ("2100-02-29T00:00:00Z", "day 29 is out of range: 2100-02 has 28 days."),
            ("2027-04-31T00:00:00Z", "day 31 is out of range: 2027-04 has 30 days."),
            ("2027-13-01T00:00:00Z", "month 13 is not 1 to 12."),
            ("2027-00-01T00:00:00Z", "month 0 is not 1 to 12."),
            ("2027-01-00T00:00:00Z", "day 0 is out of range: 2027-01 has 31 days."),
            ("2027-01-31T23:59:60Z", "second 60 is not 0 to 59 (leap seconds are not accepted)."),
            ("2027-01-31T00:00:00+24:00", "offset hour 24 is not 0 to 23."),
            ("2027-01-31T00:00:00+01:60", "offset minute 60 is not 0 to 59."),
            ("2027-01-31", "expected 'T' and a time after the date, as in 2027-01-31T00:00:00Z."),
            ("2027-01-31T00:00:00", "expected a time zone offset: 'Z' or ±hh:mm."),
            ("2027-01-31T00:00:00.Z", "expected digits after the '.' of the seconds."),
            ("2027-01-31T00:00:00Z ", "unexpected text after the time zone offset."),
            ("2027-1-31T00:00:00Z", "the month needs 2 digits."),
            ("27-01-31T00:00:00Z", "the year needs 4 digits."),
            ("2027-01-31T00:00:00+0100", "expected ':' after the offset hour."),
        ])
    func invalid(text: String, message: String) {
        #expect(throws: RFC3339Time.ParseError.self) { try RFC3339Time.date(from: text) }
        do {
            _ = try RFC3339Time.date(from: text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("Every day of 1900–2100 against Foundation's calendar: valid days parse to its date, the next one is refused")
    func calendarOracle() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for year in 1900...2100 {
            for month in 1...12 {
                let days = calendar.range(
                    of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: month))!)!.count
                let monthText = month < 10 ? "0\(month)" : "\(month)"
                for day in [1, days] {
                    let dayText = day < 10 ? "0\(day)" : "\(day)"
                    let expected = calendar.date(from: DateComponents(year: year, month: month, day: day))!
                    #expect(try RFC3339Time.date(from: "\(year)-\(monthText)-\(dayText)T00:00:00Z") == expected)
                }
                #expect(throws: RFC3339Time.ParseError.self) {
                    try RFC3339Time.date(from: "\(year)-\(monthText)-\(days + 1)T00:00:00Z")
                }
            }
        }
    }

    @Test(
        "Writing and reading back is exact to the millisecond, over 200,000 times (no drift, unlike ISO8601FormatStyle)"
    )
    func roundTrip() throws {
        var random = SystemRandomNumberGenerator()
        for index in 0..<200_000 {
            let milliseconds =
                index < 100_000
                ? 1_767_225_600_000 + index : Int.random(in: -2_208_988_800_000...4_102_444_800_000, using: &random)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = RFC3339Time.string(from: date)
            let back = try RFC3339Time.date(from: text)
            #expect(back == RFC3339Time.millisecondPrecision(date))
            #expect(RFC3339Time.string(from: back) == text)
            if milliseconds % 1000 != 0 {
                let fraction = abs(milliseconds % 1000)
                #expect(
                    text.hasSuffix(".\(String(repeating: "0", count: 3 - String(fraction).count))\(fraction)Z")
                        || milliseconds < 0)
            }
            if index % 10_000 != 0 { continue }
            // Against Foundation's own calendar for the whole-second part.
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: back)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!,
                parts.minute!, parts.second!)
            #expect(text.hasPrefix(expected), "\(text) vs \(expected)")
        }
    }

    @Test("Known texts: RFC 3339 output in UTC")
    func knownTexts() {
        #expect(RFC3339Time.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339Time.string(from: Date(timeIntervalSince1970: 951_868_799.5)) == "2000-02-29T23:59:59.500Z")
        #expect(RFC3339Time.string(from: Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339Time.string(from: Date(timeIntervalSince1970: 1_767_225_600.123)) == "2026-01-01T00:00:00.123Z")
    }
}
