import Foundation
import Testing

@testable import SentryAuth

/// Differential test against Python's `ipaddress` (Resources/ip_oracle.py), over random addresses,
/// near-miss mutations of them, prefixes and containment questions, both families.
///
/// Deliberate, documented differences, which the generator or comparison accounts for:
/// - Python formats IPv4-mapped addresses as hex (`::ffff:102:304`); both are compared as bytes.
/// - Python accepts a prefix length with leading zeros (`/024`); we refuse it.
/// - Python lets a zoned address match a prefix; a zoned address never matches here.
/// - Python accepts zones of any length; ours are 1 to 15 printable ASCII bytes.
@Suite("IP differential against Python ipaddress")
struct IPDifferentialTests {
    struct Generator {
        var random: SplitMix64

        mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

        mutating func ipv4() -> String {
            var fields = (0..<4).map { _ in String(below(4) == 0 ? below(10) : below(256)) }
            if chance(8) { fields[below(4)] = "0" + fields[below(4)] }  // leading zero
            if chance(4) { fields[below(4)] = String(256 + below(800)) }  // too large
            if chance(4) { fields.removeLast() }  // 127.1-style
            if chance(3) { fields.append(String(below(256))) }
            if chance(2) { fields[below(fields.count)] = "" }
            return fields.joined(separator: ".")
        }

        mutating func ipv6() -> String {
            var groups = (0..<8).map { _ in chance(40) ? 0 : below(65536) }
            if chance(30) { for index in below(4)..<(4 + below(4)) { groups[index] = 0 } }
            var texts = groups.map { group -> String in
                var text = String(group, radix: 16)
                if chance(10) { text = String(repeating: "0", count: 4 - text.count) + text }
                return chance(20) ? text.uppercased() : text
            }
            if chance(3) { texts[below(8)] = "1" + String(repeating: "0", count: 4) }  // five digits
            if chance(15) {
                // Embedded IPv4 tail, usually as an IPv4-mapped address.
                texts.removeLast(2)
                if chance(70) { texts = ["0", "0", "0", "0", "0", "ffff"] }
                texts.append(ipv4())
            }
            var text = texts.joined(separator: ":")
            if chance(60) {
                // Compress a run of groups with "::" (sometimes a wrong one).
                let start = below(texts.count)
                let length = below(texts.count - start + 1)
                let kept = Array(texts[..<start]) + ["\u{1}"] + Array(texts[(start + length)...])
                text = kept.joined(separator: ":").replacingOccurrences(of: ":\u{1}:", with: "::")
                    .replacingOccurrences(of: "\u{1}:", with: "::").replacingOccurrences(of: ":\u{1}", with: "::")
                    .replacingOccurrences(of: "\u{1}", with: "::")
            }
            if chance(3) { text += "::1" }  // likely a second ::
            if chance(3) { texts.append("1"); text = texts.joined(separator: ":") }  // nine groups
            if chance(5) { text += "%" + ["eth0", "en1", "lo", "wlan0", "1"][below(5)] }
            return text
        }

        mutating func address() -> String { chance(50) ? ipv4() : ipv6() }

        mutating func validAddress() -> IPAddress {
            chance(50)
                ? IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
                : IPAddress(
                    ipv6: chance(50)
                        ? UInt128(random.next()) << 64 | UInt128(random.next()) : UInt128(random.next() % 65536) << 112)
        }

        mutating func prefix() -> String {
            let base = validAddress()
            let width = base.family.bitCount
            let length = below(width + 2)
            if chance(70), length <= width, let masked = try? IPPrefix(masking: base, toLength: length) {
                return masked.description
            }
            return "\(base)/\(length)"  // host bits likely set, or length out of range
        }
    }

    static func runOracle(_ requests: [String]) throws -> [Substring] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestResources.directory.appendingPathComponent("ip_oracle.py").path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread {
            input.fileHandleForWriting.write(Data((requests.joined(separator: "\n") + "\n").utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
    }

    static func bytesHex(_ address: IPAddress) -> String {
        let count = address.family == .v4 ? 4 : 16
        return (0..<count).map {
            String(format: "%02x", UInt8(truncatingIfNeeded: address.value >> (8 * (count - 1 - $0))))
        }
        .joined()
    }

    @Test("120,000 random addresses, prefixes and containment questions agree with Python")
    func differential() throws {
        var generator = Generator(random: SplitMix64(seed: 0x5EED))
        var requests: [String] = []
        for _ in 0..<50_000 { requests.append("A " + generator.address()) }
        for _ in 0..<40_000 { requests.append("P " + generator.prefix()) }
        for _ in 0..<30_000 {
            let base = generator.validAddress()
            let prefix = try IPPrefix(masking: base, toLength: generator.below(base.family.bitCount + 1))
            let bits = prefix.network.family.bitCount
            let inside = IPAddress(
                family: prefix.network.family,
                value: prefix.network.value ^ (UInt128(generator.random.next()) >> (128 - min(bits, 64)))
                    >> generator.below(8))
            let address = generator.chance(50) ? inside : generator.validAddress()
            requests.append("C \(prefix) \(address)")
        }
        let answers = try Self.runOracle(requests)
        try #require(answers.count == requests.count)
        var accepted = 0
        var mismatches: [String] = []
        for (request, answer) in zip(requests, answers) {
            let text = String(request.dropFirst(2))
            let ours: String
            switch request.first {
            case "A":
                if let address = try? IPAddress(text) {
                    ours = "ok \(address.family == .v4 ? 4 : 6) \(Self.bytesHex(address)) \(address.zone ?? "-")"
                    accepted += 1
                } else {
                    ours = "err"
                }
            case "P":
                if let prefix = try? IPPrefix(text) {
                    ours =
                        "ok \(prefix.network.family == .v4 ? 4 : 6) \(Self.bytesHex(prefix.network)) \(prefix.length)"
                } else {
                    ours = "err"
                }
            default:
                let parts = text.split(separator: " ")
                ours = try IPPrefix(parts[0]).contains(try IPAddress(parts[1])) ? "1" : "0"
            }
            if ours != answer { mismatches.append("\(request) → ours \(ours), Python \(answer)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(10))")
        // The generator exercises both answers.
        #expect(accepted > 15_000 && accepted < 45_000)
        #expect(answers[90_000...].filter { $0 == "1" }.count > 5_000)
    }
}
