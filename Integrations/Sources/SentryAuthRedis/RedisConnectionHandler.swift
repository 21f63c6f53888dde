import NIOCore
import NIOSSL

/// One command on its way: its encoding, the promise for its reply and when it times out.
struct RedisRequest {
    let command: ByteBuffer
    let promise: EventLoopPromise<RESPValue>
    let deadline: NIODeadline
}

/// Pipelines commands on one connection: replies come back in the order commands were written, so
/// each reply completes the oldest pending promise.
///
/// Flushes are coalesced: every command written in one event-loop tick goes out in one `write`
/// system call. A command not answered by its deadline fails with ``RedisError/timeout`` and closes
/// the connection, failing every other pending command with it: after a lost reply, the order that
/// matches replies to commands can no longer be trusted.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<RedisRequest>(initialCapacity: 64)
    private var flushScheduled = false
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(RedisError.connectionClosed)
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending.append(request)
        context.write(wrapOutboundOut(request.command), promise: promise)
        if timer == nil { armTimer(context: context) }
    }

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let request = pending.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            failAll(RedisError.protocolViolation("an unexpected reply"))
            context.close(promise: nil)
            return
        }
        request.promise.succeed(value)
        if pending.isEmpty {
            timer?.cancel()
            timer = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(Self.redisError(for: error))
        context.close(promise: nil)
    }

    /// What a failure of the channel (a write, the TLS handshake) means for a command: a TLS failure
    /// in words — a certificate that did not verify or does not name the host says so — and any
    /// other failure as a closed connection.
    static func redisError(for error: any Error) -> RedisError {
        switch error {
        case let error as RedisError:
            return error
        case NIOSSLError.unableToValidateCertificate:
            return .tls("the server's certificate does not name the host (\(error))")
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return .tls("the server's certificate does not name the host (\(error))")
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return .tls("the server's certificate does not verify against the CA (\(text))")
            }
            return .tls(text)
        default:
            return .connectionClosed
        }
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard let first = pending.first else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: first.deadline) {
            let handler = loopBound.value
            handler.timer = nil
            guard let context = handler.context, let oldest = handler.pending.first else { return }
            if oldest.deadline <= .now() {
                handler.failAll(RedisError.timeout)
                context.close(promise: nil)
            } else {
                handler.armTimer(context: context)
            }
        }
    }

    private func failAll(_ error: any Error) {
        timer?.cancel()
        timer = nil
        while let request = pending.popFirst() {
            request.promise.fail(error)
        }
    }
}
