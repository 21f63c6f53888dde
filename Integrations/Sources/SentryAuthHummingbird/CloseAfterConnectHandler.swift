public import NIOCore
public import NIOHTTPTypes

/// Closes a connection once the answer to a `CONNECT` request is written.
///
/// SwiftNIO's HTTP decoder treats `CONNECT` as the start of a tunnel: it stops parsing the bytes
/// after it, and a response to `CONNECT` is sent without `Content-Length`. Left open, the
/// connection hangs: a request pipelined after the `CONNECT` is never answered and the client
/// cannot tell where the refusal ends. This handler ends the exchange the only way left, by closing
/// the connection after the response. Install it in Hummingbird's HTTP/1 pipeline:
///
/// ```swift
/// let server = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [CloseAfterConnectHandler()]))
/// ```
public final class CloseAfterConnectHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// Request parts, passed on.
    public typealias InboundIn = HTTPRequestPart
    /// Request parts.
    public typealias InboundOut = HTTPRequestPart
    /// Response parts, passed on.
    public typealias OutboundIn = HTTPResponsePart
    /// Response parts.
    public typealias OutboundOut = HTTPResponsePart

    private var connectSeen = false

    /// Creates the handler; one per connection.
    public init() {}

    /// Notes a `CONNECT` request and passes every part on.
    ///
    /// - Parameters:
    ///   - context: The handler's context.
    ///   - data: A request part.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), head.method == .connect {
            connectSeen = true
        }
        context.fireChannelRead(data)
    }

    /// Passes every response part on, and closes the connection after the end of a response to a
    /// `CONNECT` request.
    ///
    /// - Parameters:
    ///   - context: The handler's context.
    ///   - data: A response part.
    ///   - promise: Completed when the part is written.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data), connectSeen else {
            context.write(data, promise: promise)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.cascade(to: promise)
        context.writeAndFlush(data, promise: written)
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in context.value.close(promise: nil) }
    }
}
