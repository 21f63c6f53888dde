import NIOCore
import NIOTLS

/// Completes a promise when the TLS handshake of a new connection completes, and fails it with the
/// handshake's error in words (``RedisConnectionHandler/redisError(for:)``), when the connection
/// closes first, or when no handshake completes within the timeout (a server that does not speak
/// TLS answers a ClientHello with nothing). ``RedisConnectionPool`` sends no command before it: a
/// certificate that does not verify is then always reported as such, never as a closed connection.
final class TLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    /// Creates the handler, placed right after the TLS handler.
    ///
    /// - Parameters:
    ///   - promise: Completed once, with the handshake's outcome.
    ///   - timeout: How long the handshake may take.
    init(promise: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let promise = self.promise
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) {
            promise.fail(RedisError.tls("no TLS handshake in time: the server does not speak TLS, or it is stalled"))
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            timer?.cancel()
            promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        timer?.cancel()
        promise.fail(RedisConnectionHandler.redisError(for: error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        promise.fail(RedisError.connectionClosed)
        context.fireChannelInactive()
    }
}
