import Foundation
import IntegrationTestSupport
import SentryAuth
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `sentry-auth-server` executable, started as a process on a free loopback port.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipe are touched only by the test that owns the server.
    let process = Process()
    let port: Int
    private let output = Pipe()

    /// Starts the server; with `descriptorLimit`, under that `ulimit -n`; with `environment`, those
    /// variables added to the test's own.
    init(_ arguments: [String], descriptorLimit: Int? = nil, environment: [String: String] = [:]) throws {
        let testBinary = URL(
            fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let executable = testBinary.deletingLastPathComponent().appendingPathComponent("sentry-auth-server")
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "built next to the tests")
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", executable.path] + arguments + [
                    "--port", "0",
                ]
        } else {
            process.executableURL = executable
            process.arguments = arguments + ["--port", "0"]
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        // A line says "listening on 127.0.0.1:PORT" (another may say where metrics are); give up after 30 s.
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        func listeningLine() -> Substring? {
            text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first {
                $0.hasPrefix("listening on ")
            }
        }
        while listeningLine() == nil, Date() < deadline, process.isRunning {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let line = listeningLine(),
            let port = line.split(separator: ":").last.flatMap({ Int($0) })
        else {
            process.terminate()
            throw ServerError(message: "the server did not start: \(text)")
        }
        self.port = port
    }

    /// Sends SIGTERM and waits for the exit status (at most 30 s).
    func stop() async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.interrupt()
            throw ServerError(message: "the server did not stop within 30 s of SIGTERM")
        }
        return process.terminationStatus
    }

    struct ServerError: Error { let message: String }
}

@Suite("sentry-auth-server, as a process")
struct ReferenceServerTests {
    @Test("Serves the Sentry routes behind the gate, scoped to the key's merchant; stops cleanly on SIGTERM")
    func servesAndStops() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-server-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storePath = directory.appendingPathComponent("keys.json").path
        let manager = KeyManager(store: FileKeyStore(path: storePath))
        let key = try await manager.create(for: MerchantID("merchant_7")!, name: "web", scopes: [.customerRead])

        let server = try ServerProcess(["--store", storePath])
        let client = LiveClient(port: server.port)
        let bearer = ("Authorization", "Bearer \(key.key.revealSecret())")
        let allowed = try await client.send("GET", "/public/api/v1/customers/cus_9?expand=invoices", [bearer])
        #expect(allowed.status == 200)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(allowed.body.utf8)) as? [String: Any])
        #expect(answer["merchant_id"] as? String == "merchant_7")
        #expect(answer["key_id"] as? String == key.record.id.rawValue)
        #expect(answer["endpoint"] as? String == "GET /public/api/v1/customers/{id}")
        #expect(answer["parameters"] as? [String: String] == ["id": "cus_9"])
        #expect(allowed.header("X-RateLimit-Remaining") == "59")

        let missing = try await client.send("GET", "/public/api/v1/customers")
        #expect(missing.status == 401)
        #expect(try missing.json == ["error": "UNAUTHORIZED", "message": "Missing API key."])
        let scope = try await client.send("POST", "/public/api/v1/customers", [bearer])
        #expect(scope.status == 403)
        #expect(try scope.json["error"] == "INSUFFICIENT_SCOPE")
        let noRoute = try await client.send("GET", "/public/api/v1/refunds", [bearer])
        #expect(noRoute.status == 404)
        #expect(try noRoute.json["error"] == "NOT_FOUND")

        // The published contract, served without a key: every route of the policy, its scopes, every answer.
        let document = try await client.send("GET", "/openapi.json")
        #expect(document.status == 200 && document.header("Content-Type") == "application/json")
        let openAPI = try #require(try JSONSerialization.jsonObject(with: Data(document.body.utf8)) as? [String: Any])
        #expect(openAPI["openapi"] as? String == "3.1.0")
        let paths = try #require(openAPI["paths"] as? [String: [String: Any]])
        var operations = 0
        for route in EndpointPolicy.sentry.routes {
            for method in route.methods {
                let operation = try #require(paths[route.template]?[method.rawValue.lowercased()] as? [String: Any])
                let security = try #require(operation["security"] as? [[String: [String]]])
                #expect(security == [["bearer": route.requiredScopes.scopes.map(\.name)]])
                let responses = try #require(operation["responses"] as? [String: Any])
                #expect(Set(responses.keys) == ["200", "401", "403", "404", "429", "503"])
                // An allowed answer may warn that its key stops working soon: declared, not required.
                let allowed = try #require(responses["200"] as? [String: Any])
                let declared = try #require(allowed["headers"] as? [String: Any])
                #expect(["Deprecation", "Sunset", "Link", "X-RateLimit-Limit"].allSatisfy { declared[$0] != nil })
                operations += 1
            }
        }
        #expect(operations == 21 && paths.values.map(\.count).reduce(0, +) == 21)
        let components = try #require(openAPI["components"] as? [String: Any])
        let headers = try #require(components["headers"] as? [String: [String: Any]])
        #expect(
            headers["Sunset"]?["required"] as? Bool == false && headers["Deprecation"]?["required"] as? Bool == false)
        #expect(headers["X-RateLimit-Limit"]?["required"] as? Bool == true)

        // A revocation written to the store by another process is seen at the next request.
        try await manager.revoke(key.record.id)
        #expect(try await client.send("GET", "/public/api/v1/customers", [bearer]).status == 401)

        try await client.shutdown()
        #expect(try await server.stop() == 0)
        // The graceful shutdown wrote the key's last use (to the minute) to the store.
        let record = try #require(try await FileKeyStore(path: storePath).record(withID: key.record.id))
        let lastUsed = try #require(record.lastUsedAt)
        #expect(
            abs(lastUsed.timeIntervalSinceNow) < 180
                && lastUsed.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0)
    }

    @Test("Bad usage exits 2 with a message; a corrupted store exits 3")
    func badUsage() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-server-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let corrupted = directory.appendingPathComponent("keys.json").path
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: corrupted))
        for (arguments, status) in [
            ([] as [String], Int32(2)), (["--store", ""], 2), (["--store", "x", "--port", "70000"], 2),
            (["--store", "x", "--trusted-proxy", "10.0.0.1/8"], 2), (["--store", corrupted], 3),
        ] {
            let process = Process()
            let testBinary = URL(
                fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            process.executableURL = testBinary.deletingLastPathComponent().appendingPathComponent("sentry-auth-server")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == status, "\(arguments)")
        }
    }

    @Test("A key typed in any argument of sentry-auth-server is refused (exit 2) and never printed back")
    func keyInArguments() throws {
        let testBinary = URL(
            fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let server = testBinary.deletingLastPathComponent().appendingPathComponent("sentry-auth-server").path
        let key = APIKey.generate().revealSecret()
        let vectors: [[String]] = [
            [key], ["--store", "/tmp/x.json", key], ["--store", "/tmp/x.json", "--policy", key], ["--store", key],
            ["--store", "/tmp/x.json", "--redis", "redis://:\(key)@127.0.0.1:1"], ["--\(key)"],
            ["--postgres", "postgres://sentry:\(key)@127.0.0.1:1/sentry"],
            ["keys", "revoke", key, "--postgres", "postgres://sentry@127.0.0.1:1/sentry"],
            [
                "keys", "create", "--postgres", "postgres://sentry@127.0.0.1:1/sentry", "--merchant", "m", "--scopes",
                "sales:read", "--name", key,
            ],
            ["migrate", "--postgres", key],
        ]
        // Passwords in URLs are never printed back either, whatever is wrong with the URL.
        for arguments in [
            ["--postgres", "postgres://sentry:Pa55-w0rd-xyz@127.0.0.1:99999/sentry"],
            ["--store", "/tmp/x.json", "--redis", "redis://:Pa55-w0rd-xyz@127.0.0.1:99999"],
            ["--store", "/tmp/x.json", "--redis", "redis://user:Pa55-w0rd-xyz@127.0.0.1:6379/notanumber"],
            ["migrate", "--postgres", "postgres://sentry:Pa55-w0rd-xyz@127.0.0.1:99999/sentry"],
        ] {
            let run = try runCommand(server, arguments)
            #expect(run.status == 2, "\(arguments.map { $0.replacingOccurrences(of: "Pa55-w0rd-xyz", with: "***") })")
            #expect(!run.output.contains("Pa55-w0rd-xyz"))
        }
        for arguments in vectors {
            let run = try runCommand(server, arguments)
            #expect(run.status == 2, "\(arguments.map { $0.replacingOccurrences(of: key, with: "KEY") })")
            #expect(!run.output.contains(key.dropFirst(5).prefix(16)))
            #expect(run.output.contains("API key") || run.output.contains("error:"))
        }
    }
}
