import Foundation
import Hummingbird
import HummingbirdTesting
import IntegrationTestSupport
import SentryAuth
import SentryAuthHummingbird
import Testing

@Suite("Connection governor: head and idle timeouts, a cap that closes the idle first, over loopback")
struct ConnectionGovernorTests {
    static func application(_ world: SentryWorld, governor: ConnectionGovernor) -> some ApplicationProtocol {
        let router = Router(context: BasicSentryAuthRequestContext.self)
        router.add(middleware: SentryAuthMiddleware(gate: world.gate))
        router.get("/public/api/v1/sales") { _, _ in "handler sales" }
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [governor.handler()])))
    }

    static func request(_ world: SentryWorld) -> String {
        "GET /public/api/v1/sales HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(world.full.key.revealSecret())\r\n"
            + "Connection: close\r\n\r\n"
    }

    /// Polls `condition` every 20 ms until it holds or `limit` has passed.
    static func wait(atMost limit: Duration, until condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("At the cap, idle connections (silent, or half a head) are closed to make room: a new client is answered")
    func capClosesIdleFirst() async throws {
        let world = try await SentryWorld()
        let governor = ConnectionGovernor(headTimeout: .seconds(30), idleTimeout: .seconds(30), maximumConnections: 20)
        try await Self.application(world, governor: governor).test(.live) { client in
            let port = try #require(client.port)
            var idle: [RawHTTPConnection] = []
            func open(_ count: Int) throws {
                for _ in 0..<count {
                    let connection = try RawHTTPConnection(port: port, timeout: .seconds(2))
                    // Every other one sends half a head.
                    if idle.count % 2 == 0 { connection.send("GET /public/api/v1/sales HTTP/1.1\r\nHo") }
                    idle.append(connection)
                }
            }
            // The server registers connections on several event loops, so two opened close together
            // may be registered in either order. The first ten are registered (and so idle) before the
            // other thirty are opened: they are the oldest in the server's view, whatever the load.
            try open(10)
            try await Self.wait(atMost: .seconds(20)) { governor.openConnections >= 10 }
            try await Task.sleep(for: .milliseconds(20))
            try open(30)
            // The kernel has accepted all 40; the server takes them in its own time (a loaded machine
            // can take seconds): wait until it has seen them all, at most 20 s.
            try await Self.wait(atMost: .seconds(20)) { governor.evictedConnections >= 20 }
            #expect(governor.openConnections <= 20)
            #expect(governor.evictedConnections >= 20)
            // A client arriving now is answered, though idle connections fill the cap.
            let fresh = try RawHTTPConnection(port: port, timeout: .seconds(10))
            fresh.send(Self.request(world))
            let (text, _) = await fresh.readUntilClose()
            #expect(RawHTTPConnection.statuses(in: text) == [200], "\(text.prefix(200))")
            #expect(text.hasSuffix("handler sales"))
            // The oldest idle connections were the ones closed: all of the first ten, without an answer.
            for (index, connection) in idle.prefix(10).enumerated() {
                let (first, closed) = await connection.readUntilClose()
                #expect(closed && first.isEmpty, "connection \(index) of the ten oldest")
            }
            withExtendedLifetime(idle) {}
        }
    }

    @Test("A head sent a byte at a time is closed at the head timeout; a silent connection at the idle timeout")
    func timeouts() async throws {
        let world = try await SentryWorld()
        let governor = ConnectionGovernor(headTimeout: .seconds(1), idleTimeout: .seconds(3), maximumConnections: 100)
        try await Self.application(world, governor: governor).test(.live) { client in
            let port = try #require(client.port)
            let slow = try RawHTTPConnection(port: port, timeout: .milliseconds(300))
            let silent = try RawHTTPConnection(port: port, timeout: .seconds(12))
            let start = ContinuousClock.now
            var slowClosedAfter: Duration?
            for byte in "GET /public/api/v1/sales HTTP/1.1\r\nHost: xxxxxxxxxxxxxxxxxxxxxxxx\r\n" {
                slow.send(String(byte))
                let (_, closed) = await slow.readUntilClose()  // waits 300 ms, or sees the close
                if closed {
                    slowClosedAfter = ContinuousClock.now - start
                    break
                }
            }
            let slowAfter = try #require(slowClosedAfter, "the slow head was never closed")
            // Never before the timeout; after it by at most a loaded machine's delay.
            #expect(slowAfter >= .milliseconds(900) && slowAfter < .seconds(6), "\(slowAfter)")
            let (_, silentClosed) = await silent.readUntilClose()
            let silentAfter = ContinuousClock.now - start
            #expect(silentClosed && silentAfter >= .milliseconds(2_900) && silentAfter < .seconds(12), "\(silentAfter)")
            // A kept-alive connection is idle between requests: answered, then closed at the idle timeout.
            let kept = try RawHTTPConnection(port: port, timeout: .seconds(12))
            kept.send(Self.request(world).replacingOccurrences(of: "Connection: close\r\n", with: ""))
            let (answer, keptClosed) = await kept.readUntilClose()
            #expect(RawHTTPConnection.statuses(in: answer) == [200])
            #expect(keptClosed)
        }
    }
}
