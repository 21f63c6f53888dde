import NIOCore
import SentryAuth
import SentryAuthNIO
import Testing

@Suite("IP addresses from NIO socket addresses")
struct IPAddressSocketAddressTests {
    @Test(
        "The bytes of a socket address give the same address as its text",
        arguments: [
            "127.0.0.1", "203.0.113.9", "0.0.0.0", "255.255.255.255", "10.1.2.3", "::1", "::", "2001:db8::7",
            "fe80::1:2:3:4", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:203.0.113.9",
        ])
    func bytes(text: String) throws {
        let socket = try SocketAddress(ipAddress: text, port: 443)
        let address = try #require(IPAddress(socketAddress: socket))
        #expect(address == (try IPAddress(text)))
        #expect(address.description == (try IPAddress(text)).description)
    }

    @Test("An IPv4-mapped peer matches an IPv4 allowlist, as the gate's rule says")
    func mapped() throws {
        let address = try #require(
            IPAddress(socketAddress: try SocketAddress(ipAddress: "::ffff:203.0.113.9", port: 1)))
        #expect(try IPAllowlist(parsing: ["203.0.113.0/24"]).contains(address))
    }

    @Test("A Unix domain socket has no IP address")
    func unixSocket() throws {
        #expect(IPAddress(socketAddress: try SocketAddress(unixDomainSocketPath: "/tmp/sentry.sock")) == nil)
    }
}
