public import NIOCore
public import SentryAuth

extension IPAddress {
    /// The address of a NIO socket address, read from its bytes (no text round trip).
    ///
    /// ```swift
    /// let peer = context.remoteAddress.flatMap(IPAddress.init(socketAddress:))   // Hummingbird
    /// let peer = request.remoteAddress.flatMap(IPAddress.init(socketAddress:))   // Vapor
    /// ```
    ///
    /// - Parameter socketAddress: An IPv4 or IPv6 socket address; the port is dropped.
    /// - Returns: `nil` for a Unix domain socket, which has no IP address.
    public init?(socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let address):
            self.init(ipv4: UInt32(bigEndian: address.address.sin_addr.s_addr))
        case .v6(let address):
            var value: UInt128 = 0
            withUnsafeBytes(of: address.address.sin6_addr) { bytes in
                for byte in bytes { value = value << 8 | UInt128(byte) }
            }
            self.init(ipv6: value)
        case .unixDomainSocket:
            return nil
        }
    }
}
