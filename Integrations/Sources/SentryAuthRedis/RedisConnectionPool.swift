import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SentryAuthEngineSupport

/// A few pipelined connections to one Redis server: a small client, enough for the rate-limit
/// store, kept behind it so that a maintained Redis client can replace it.
///
/// Commands go round-robin over the connections; each connection pipelines what it is given (see
/// ``RedisConnectionHandler``). A connection is made on first use and again after it closes (a
/// command past its deadline closes it, failing every command waiting on it). After a failed
/// attempt a slot waits — jittered backoff from ``RedisConfiguration/reconnectDelay``, doubling up to
/// ``RedisConfiguration/maximumReconnectDelay`` — and gets no commands meanwhile while another slot
/// can take them; when every slot waits, commands fail at once, so a server that is down costs
/// callers no connect timeouts.
final class RedisConnectionPool: Sendable {
    let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private typealias Slot = ConnectionSlot<any Channel, EventLoopFuture<any Channel>>
    private let slots: [NIOLockedValueBox<Slot>]
    private let next = NIOLockedValueBox(0)
    /// The TLS context, made once (`nil` without TLS), or why it cannot be made.
    private let tls: Result<NIOSSLContext, RedisError>?

    init(configuration: RedisConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
        self.tls = configuration.usesTLS ? Self.makeTLSContext(configuration) : nil
        self.slots = (0..<configuration.connectionCount).map { _ in NIOLockedValueBox(Slot()) }
    }

    /// Sends a command and waits for its reply. An error reply is thrown as ``RedisError/server(_:)``.
    func send(_ command: RESPCommand) async throws -> RESPValue {
        let start = next.withLockedValue { value in
            defer { value = (value + 1) % slots.count }
            return value
        }
        // A slot waiting to reconnect gets no commands while another can take them.
        let index =
            (0..<slots.count).lazy.map { (start + $0) % self.slots.count }.first { !self.isBackingOff($0) } ?? start
        // An open connection is taken as it is: awaiting a future that is already complete would
        // still hop to the channel's event loop and back.
        let channel: any Channel
        if let open = openChannel(at: index) {
            channel = open
        } else {
            channel = try await self.channel(at: index).get()
        }
        let reply = try await Self.send(command, on: channel, timeout: configuration.commandTimeout).get()
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// The slot's connection if it is open, without a future.
    private func openChannel(at index: Int) -> (any Channel)? {
        slots[index].withLockedValue { slot in
            if case .connected(let channel) = slot.state, channel.isActive { return channel }
            return nil
        }
    }

    /// Sends `ASKING` and then the command on one connection, nothing between them (what a Redis
    /// Cluster's `ASK` redirection asks for: the flag holds for the connection's next command only).
    /// An error reply to either is thrown as ``RedisError/server(_:)``.
    func sendAsking(_ command: RESPCommand) async throws -> RESPValue {
        let channel = try await channel(at: next.withLockedValue { $0 }).get()
        let timeout = configuration.commandTimeout
        // On the channel's event loop the two writes go into the pipeline one after the other.
        let replies = try await channel.eventLoop.flatSubmit {
            let asking = Self.send(RESPCommand("ASKING"), on: channel, timeout: timeout)
            let reply = Self.send(command, on: channel, timeout: timeout)
            return asking.and(reply)
        }.get()
        for reply in [replies.0, replies.1] {
            if case .error(let message) = reply { throw RedisError.server(message) }
        }
        return replies.1
    }

    /// Writes a command to a connection; the reply (error replies included) or the failure.
    private static func send(_ command: RESPCommand, on channel: any Channel, timeout: Duration)
        -> EventLoopFuture<RESPValue>
    {
        var buffer = channel.allocator.buffer(capacity: 64)
        command.write(to: &buffer)
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        // A write that fails before the handler queued the command (the channel closed meanwhile)
        // fails the command; completing a promise twice is ignored, so a later failure is harmless.
        channel.writeAndFlush(RedisRequest(command: buffer, promise: promise, deadline: deadline))
            .whenFailure { promise.fail(RedisConnectionHandler.redisError(for: $0)) }
        return promise.futureResult
    }

    /// Whether the slot failed to connect and waits before trying again.
    private func isBackingOff(_ index: Int) -> Bool {
        slots[index].withLockedValue { $0.isBackingOff(at: .now()) }
    }

    /// Closes every connection; later commands fail.
    func shutdown() async {
        let held = slots.map { slot in slot.withLockedValue { $0.shutDown() } }
        for (connection, attempt) in held {
            if let connection { try? await connection.close() }
            if let attempt { try? await attempt.get().close() }
        }
    }

    /// The slot's connection: the open one, the one being made, or a new attempt.
    private func channel(at index: Int) -> EventLoopFuture<any Channel> {
        let eventLoop = group.next()
        var started: EventLoopFuture<any Channel>?
        let action = slots[index].withLockedValue { slot in
            slot.commandArrived(at: .now(), isUsable: { $0.isActive }) {
                let attempt = connect(on: eventLoop)
                started = attempt
                return attempt
            }
        }
        // Outside the lock: a future that is already complete runs this callback at once, here.
        started?.whenComplete { [slots, configuration] result in
            slots[index].withLockedValue { slot in
                switch result {
                case .success(let channel): slot.attemptSucceeded(channel)
                case .failure: slot.attemptFailed(at: .now()) { Self.delay(after: $0, configuration: configuration) }
                }
            }
        }
        switch action {
        case .send(let channel): return channel.eventLoop.makeSucceededFuture(channel)
        case .await(let attempt): return attempt
        case .fail(let reason): return eventLoop.makeFailedFuture(RedisError.unavailable(reason))
        }
    }

    private static func delay(after failures: Int, configuration: RedisConfiguration) -> TimeAmount {
        TimeAmount(
            Backoff(initial: configuration.reconnectDelay, maximum: configuration.maximumReconnectDelay)
                .delay(afterFailures: failures))
    }

    /// The client TLS context: full verification (chain and host name) against the configured CA
    /// file or the system's trust store.
    private static func makeTLSContext(_ configuration: RedisConfiguration) -> Result<NIOSSLContext, RedisError> {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let path = configuration.certificateAuthorityPath {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
                return .failure(.tls("the CA file \(path) cannot be read as PEM certificates"))
            }
            tls.trustRoots = .certificates(certificates)
        }
        do {
            return .success(try NIOSSLContext(configuration: tls))
        } catch {
            return .failure(.tls("the TLS configuration cannot be used (\(error))"))
        }
    }

    /// Connects (over TLS when configured), then authenticates and selects the database if the
    /// configuration says so.
    private func connect(on eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
        let configuration = self.configuration
        let tlsContext: NIOSSLContext?
        switch tls {
        case nil: tlsContext = nil
        case .success(let context)?: tlsContext = context
        case .failure(let error)?: return eventLoop.makeFailedFuture(error)
        }
        // SNI and host name verification take a name; for an address, NIOSSL checks the
        // certificate's IP addresses against the peer's.
        let isAddress = (try? SocketAddress(ipAddress: configuration.host, port: 0)) != nil
        // Completed by the connection's TLSHandshakeHandler; no command is sent before it.
        let handshake = eventLoop.makePromise(of: Void.self)
        if tlsContext == nil { handshake.succeed() }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(
                                context: tlsContext, serverHostname: isAddress ? nil : configuration.host))
                        try channel.pipeline.syncOperations.addHandler(
                            TLSHandshakeHandler(promise: handshake, timeout: TimeAmount(configuration.connectTimeout)))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RedisConnectionHandler())
                }
            }
        let authenticate = configuration.password.map { password in
            configuration.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password)
        }
        let select = configuration.database == 0 ? nil : RESPCommand("SELECT", String(configuration.database))
        let setup = [authenticate, select].compactMap { $0 }
        return bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapError { error in
                let failure = RedisError.unavailable(String(describing: error))
                handshake.fail(failure)
                return eventLoop.makeFailedFuture(failure)
            }
            .flatMap { channel in
                var future = handshake.futureResult
                for command in setup {
                    future = future.flatMap {
                        Self.send(command, on: channel, timeout: configuration.connectTimeout).flatMapThrowing {
                            reply in
                            if case .error(let message) = reply { throw RedisError.authentication(message) }
                        }
                    }
                }
                return future.map { channel }.flatMapError { error in
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
    }
}
