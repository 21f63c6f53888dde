import Foundation
import IntegrationTestSupport
import SentryAuth
import Testing

@Suite("sentry-auth-server under hostile clients, as a process")
struct HostileClientTests {
    @Test("300 idle connections against a 256-descriptor limit: a valid key answered within 15 s; a slow head closed")
    func idleConnectionsAndSlowHeads() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-hostile-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storePath = directory.appendingPathComponent("keys.json").path
        let key = try await KeyManager(store: FileKeyStore(path: storePath)).create(
            for: MerchantID("merchant_7")!, name: "web", scopes: [.salesRead])
        // Defaults but the head timeout, so the slow client is seen within the test.
        let server = try ServerProcess(["--store", storePath, "--head-timeout", "3"], descriptorLimit: 256)
        var idle: [RawHTTPConnection] = []
        for index in 0..<300 {
            guard let connection = try? RawHTTPConnection(port: server.port, timeout: .seconds(1)) else { continue }
            if index % 3 == 0 { connection.send("GET /public/api/v1/sales HTTP/1.1\r\n") }  // a head never finished
            idle.append(connection)
        }
        #expect(idle.count == 300, "every connection was accepted: the cap closes idle ones before descriptors run out")
        let start = ContinuousClock.now
        let valid = try RawHTTPConnection(port: server.port, timeout: .seconds(15))
        valid.send(
            "GET /public/api/v1/sales HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key.key.revealSecret())\r\n"
                + "Connection: close\r\n\r\n")
        let (answer, _) = await valid.readUntilClose()
        let answeredAfter = ContinuousClock.now - start
        #expect(RawHTTPConnection.statuses(in: answer) == [200], "\(answer.prefix(120))")
        #expect(answeredAfter < .seconds(15), "\(answeredAfter)")
        // A client that sends a header byte a second is closed at the head timeout (3 s here; 10 s by default).
        let slow = try RawHTTPConnection(port: server.port, timeout: .seconds(1))
        let slowStart = ContinuousClock.now
        var closedAfter: Duration?
        for byte in "GET /public/api/v1/sales HTTP/1.1\r\nHost: " + String(repeating: "x", count: 40) {
            slow.send(String(byte))
            if await slow.readUntilClose().closed {
                closedAfter = ContinuousClock.now - slowStart
                break
            }
        }
        let slowAfter = try #require(closedAfter, "the slow head was never closed")
        #expect(slowAfter < .seconds(30), "\(slowAfter)")
        withExtendedLifetime(idle) {}
        #expect(try await server.stop() == 0)
    }
}
