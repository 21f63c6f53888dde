import NIOConcurrencyHelpers
public import NIOCore
public import NIOHTTPTypes

/// Connection hygiene for a Hummingbird server facing the internet: a time limit on reading a
/// request's head, a time limit on an idle keep-alive connection, and a cap on open connections
/// that closes the longest-idle connection to make room, so new clients keep being answered.
///
/// Hummingbird's own `idleTimeout` has one value for both kinds of waiting and its
/// `MaximumAvailableConnections` stops accepting at the cap (new clients then wait for idle ones to
/// leave). Install one handler per connection, made by the governor, in the HTTP/1 pipeline:
///
/// ```swift
/// let governor = ConnectionGovernor()   // 10 s to read a head, 60 s idle, 200 connections
/// let server = HTTPServerBuilder.http1(
///     configuration: .init(additionalChannelHandlers: [governor.handler(), CloseAfterConnectHandler()]))
/// ```
///
/// - **Head.** Once the first byte of a request arrives, its head (request line and headers) must be
///   complete within ``headTimeout``; a client that sends a header byte a second is closed then.
/// - **Idle.** A connection with no request in progress (a new one, or one whose response has been
///   written) is closed after ``idleTimeout`` without a byte.
/// - **Cap.** At most ``maximumConnections`` are open. A connection opened at the cap closes the
///   connection idle the longest (no request in progress; a half-sent head counts as idle); if every
///   connection is busy, the new one is closed. Keep the cap below the process's descriptor limit
///   (minus what the key store, Redis and logs need), so accepting never fails for lack of one.
public final class ConnectionGovernor: Sendable {
    /// How long a request's head may take once its first byte arrived.
    public let headTimeout: Duration
    /// How long a connection with no request in progress stays open without a byte.
    public let idleTimeout: Duration
    /// The most connections open at once.
    public let maximumConnections: Int

    private struct Connection {
        let channel: any Channel
        /// When the connection last had no request in progress; `nil` while one is.
        var idleSince: NIODeadline?
    }

    private struct Table {
        var connections: [ObjectIdentifier: Connection] = [:]
        var evicted = 0
    }

    private let table = NIOLockedValueBox(Table())

    /// Creates a governor; share it by every connection of a server.
    ///
    /// - Parameters:
    ///   - headTimeout: How long a head may take once it started; 10 s by default.
    ///   - idleTimeout: How long a connection may idle; 60 s by default.
    ///   - maximumConnections: The most connections open at once (at least 1); 200 by default.
    public init(
        headTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60), maximumConnections: Int = 200
    ) {
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
        self.maximumConnections = max(1, maximumConnections)
    }

    /// The number of open connections.
    public var openConnections: Int { table.withLockedValue { $0.connections.count } }

    /// How many idle connections were closed to make room for new ones, since the governor was made.
    public var evictedConnections: Int { table.withLockedValue { $0.evicted } }

    /// A handler for one new connection.
    ///
    /// - Returns: The handler, to add to the connection's HTTP/1 pipeline (after the HTTP codec).
    public func handler() -> Handler { Handler(governor: self) }

    /// Registers a connection; closes the longest-idle one (or this one) when over the cap.
    fileprivate func opened(_ channel: any Channel, at now: NIODeadline) {
        let victim: (any Channel)? = table.withLockedValue { table in
            table.connections[ObjectIdentifier(channel)] = Connection(channel: channel, idleSince: now)
            guard table.connections.count > maximumConnections else { return nil }
            let idle = table.connections.values.filter { $0.idleSince != nil && $0.channel !== channel }
            guard let oldest = idle.min(by: { $0.idleSince! < $1.idleSince! }) else {
                table.connections[ObjectIdentifier(channel)] = nil
                return channel  // every other connection is busy: this one cannot be served
            }
            table.connections[ObjectIdentifier(oldest.channel)] = nil
            table.evicted += 1
            return oldest.channel
        }
        victim?.close(promise: nil)
    }

    fileprivate func setIdle(_ channel: any Channel, since: NIODeadline?) {
        table.withLockedValue { table in
            table.connections[ObjectIdentifier(channel)]?.idleSince = since
        }
    }

    fileprivate func closed(_ channel: any Channel) {
        table.withLockedValue { table in _ = table.connections.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The per-connection half of a ``ConnectionGovernor``: it watches the request parts and, through
    /// a byte watcher it puts first in the pipeline, the first byte of each request.
    public final class Handler: ChannelDuplexHandler, RemovableChannelHandler {
        /// Request parts, passed on.
        public typealias InboundIn = HTTPRequestPart
        /// Request parts.
        public typealias InboundOut = HTTPRequestPart
        /// Response parts, passed on.
        public typealias OutboundIn = HTTPResponsePart
        /// Response parts.
        public typealias OutboundOut = HTTPResponsePart

        private enum State {
            /// No request in progress, no byte of the next one yet.
            case idle(since: NIODeadline)
            /// Bytes of a head have arrived, not the whole head.
            case readingHead(since: NIODeadline)
            /// A request is being answered.
            case busy
        }

        private let governor: ConnectionGovernor
        private var state = State.idle(since: .now())
        private var timer: Scheduled<Void>?
        private var registered = false

        init(governor: ConnectionGovernor) {
            self.governor = governor
        }

        /// Registers the connection, starts its idle timer and puts the byte watcher first.
        ///
        /// - Parameter context: The handler's context.
        public func handlerAdded(context: ChannelHandlerContext) {
            try? context.pipeline.syncOperations.addHandler(
                ByteWatcher(owner: self, loop: context.eventLoop), position: .first)
            if context.channel.isActive { start(context) }
        }

        /// Registers the connection when it becomes active.
        ///
        /// - Parameter context: The handler's context.
        public func channelActive(context: ChannelHandlerContext) {
            start(context)
            context.fireChannelActive()
        }

        /// Forgets the connection.
        ///
        /// - Parameter context: The handler's context.
        public func channelInactive(context: ChannelHandlerContext) {
            timer?.cancel()
            governor.closed(context.channel)
            context.fireChannelInactive()
        }

        /// Stops the timer.
        ///
        /// - Parameter context: The handler's context.
        public func handlerRemoved(context: ChannelHandlerContext) {
            timer?.cancel()
        }

        /// A complete head: the request is in progress.
        ///
        /// - Parameters:
        ///   - context: The handler's context.
        ///   - data: A request part.
        public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data) {
                state = .busy
                timer?.cancel()
                governor.setIdle(context.channel, since: nil)
            }
            context.fireChannelRead(data)
        }

        /// The end of a response: the connection is idle again.
        ///
        /// - Parameters:
        ///   - context: The handler's context.
        ///   - data: A response part.
        ///   - promise: Completed when the part is written.
        public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) {
                let now = NIODeadline.now()
                state = .idle(since: now)
                governor.setIdle(context.channel, since: now)
                schedule(context, at: now + TimeAmount(governor.idleTimeout))
            }
            context.write(data, promise: promise)
        }

        private func start(_ context: ChannelHandlerContext) {
            guard !registered else { return }
            registered = true
            let now = NIODeadline.now()
            state = .idle(since: now)
            governor.opened(context.channel, at: now)
            schedule(context, at: now + TimeAmount(governor.idleTimeout))
        }

        /// Bytes arrived: the first of a head starts its clock.
        fileprivate func bytesArrived(_ context: ChannelHandlerContext) {
            guard case .idle = state else { return }
            let now = NIODeadline.now()
            state = .readingHead(since: now)
            schedule(context, at: now + TimeAmount(governor.headTimeout))
        }

        private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
            timer?.cancel()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = bound.value
                switch handler.state {
                case .busy: break
                case .idle, .readingHead: context.close(promise: nil)
                }
            }
        }

        /// Put first in the pipeline: sees every read, before any decoding.
        final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
            typealias InboundIn = ByteBuffer
            typealias InboundOut = ByteBuffer

            private let owner: NIOLoopBound<Handler>
            private var ownerContext: ChannelHandlerContext?

            init(owner: Handler, loop: any EventLoop) {
                self.owner = NIOLoopBound(owner, eventLoop: loop)
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                if ownerContext == nil {
                    ownerContext = try? context.pipeline.syncOperations.context(handler: owner.value)
                }
                if let ownerContext { owner.value.bytesArrived(ownerContext) }
                context.fireChannelRead(data)
            }
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
