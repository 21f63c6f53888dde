import Foundation
import Testing

@testable import SentryAuth

#if canImport(Glibc)
    import Glibc
#endif

/// The file store under several processes: the built `sentry-auth` binary as the writer.
@Suite("File key store across processes", .serialized)
struct FileKeyStoreProcessTests {
    /// Starts `script` under bash. Foundation starts every child as the leader of its own process
    /// group, so `kill(-pid, …)` reaches bash and whatever it is running.
    static func startGroup(_ script: String, environment: [String: String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    static func acknowledgedIDs(_ output: Data) -> Set<String> {
        Set(
            String(decoding: output, as: UTF8.self).split(separator: "\n")
                .filter { $0.hasPrefix("id:") }.map { $0.dropFirst(3).trimmingCharacters(in: .whitespaces) })
    }

    static let createLoop =
        #"for i in $(seq "$COUNT"); do "$TOOL" keys create --store "$STORE" --merchant "m_$WORKER" --scopes sales:read || exit 1; done"#

    @Test("Two processes writing at once are serialized: no key is lost")
    func twoWriters() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = directory.path + "/keys.json"
        let tool = try toolExecutable().path
        let workers = try (0..<2).map { worker in
            try Self.startGroup(
                Self.createLoop, environment: ["TOOL": tool, "STORE": store, "COUNT": "15", "WORKER": "\(worker)"])
        }
        var acknowledged = Set<String>()
        for (process, output) in workers {
            acknowledged.formUnion(Self.acknowledgedIDs(output.fileHandleForReading.readDataToEndOfFile()))
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        #expect(acknowledged.count == 30)
        let stored = Set(try FileKeyStore(path: store).allRecords().map(\.id.rawValue))
        #expect(stored == acknowledged)
    }

    @Test(
        "Crash safety: a writer killed with SIGKILL at random moments, 50 rounds; the file always parses, keeps every acknowledged key, and holds exactly one event per record"
    )
    func killedWriter() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = directory.path + "/keys.json"
        let tool = try toolExecutable().path
        var acknowledged = Set<String>()
        var random = SystemRandomNumberGenerator()
        for round in 0..<50 {
            let (process, output) = try Self.startGroup(
                Self.createLoop, environment: ["TOOL": tool, "STORE": store, "COUNT": "1000", "WORKER": "\(round)"])
            #expect(getpgid(process.processIdentifier) == process.processIdentifier)
            usleep(UInt32.random(in: 20_000...250_000, using: &random))
            kill(-process.processIdentifier, SIGKILL)
            acknowledged.formUnion(Self.acknowledgedIDs(output.fileHandleForReading.readDataToEndOfFile()))
            process.waitUntilExit()
            let file = FileKeyStore(path: store)
            let stored = Set(try file.allRecords().map(\.id.rawValue))
            #expect(acknowledged.isSubset(of: stored), "round \(round): lost \(acknowledged.subtracting(stored))")
            // No change without its event, no event without its change: exactly one "created" per record.
            let events = try file.allEvents()
            #expect(events.count == stored.count, "round \(round): \(events.count) events, \(stored.count) records")
            #expect(Set(events.map(\.keyID.rawValue)) == stored && events.allSatisfy { $0.kind == .created })
        }
        // The loop made real progress across rounds (fewer under sanitizers, whose binaries start slowly).
        #expect(acknowledged.count >= 10)
    }
}
