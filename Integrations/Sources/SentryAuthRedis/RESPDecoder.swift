import NIOCore

/// Decodes RESP2 replies from a byte stream. A reply split across reads waits for the rest; a
/// malformed or oversized one is a ``RedisError`` that closes the connection (replies on it could no
/// longer be matched to their commands).
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    /// The largest bulk string accepted: this client reads small replies only.
    static let maximumBulkLength = 16 << 20
    /// The largest array accepted, and the deepest nesting.
    static let maximumArrayCount = 1 << 20
    static let maximumDepth = 8
    /// The longest line (a simple string, an error, a length) accepted.
    static let maximumLineLength = 64 * 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var view = buffer
        guard let value = try Self.parse(&view, depth: 0) else { return .needMoreData }
        buffer = view
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    /// Parses one value from the front of `buffer`, moving past it; `nil`, moving nothing that
    /// matters (the caller discards the copy), when the value is not complete yet.
    static func parse(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard depth <= maximumDepth else { throw RedisError.protocolViolation("nesting too deep") }
        guard let type: UInt8 = buffer.readInteger(), let line = try readLine(&buffer) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simpleString(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"): return .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"): return .integer(try number(line))
        case UInt8(ascii: "$"):
            let length = try number(line)
            if length == -1 { return .bulkString(nil) }
            guard (0...Int64(maximumBulkLength)).contains(length) else {
                throw RedisError.protocolViolation("bulk string length \(length)")
            }
            guard buffer.readableBytes >= Int(length) + 2, let bytes = buffer.readBytes(length: Int(length)) else {
                return nil
            }
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                throw RedisError.protocolViolation("bulk string not ended by CRLF")
            }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            let count = try number(line)
            if count == -1 { return .array(nil) }
            guard (0...Int64(maximumArrayCount)).contains(count) else {
                throw RedisError.protocolViolation("array length \(count)")
            }
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(min(count, 1024)))
            for _ in 0..<count {
                guard let element = try parse(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw RedisError.protocolViolation("unknown type byte \(type)")
        }
    }

    /// The bytes up to the next CRLF, moving past it; `nil` if there is no CRLF yet.
    private static func readLine(_ buffer: inout ByteBuffer) throws -> [UInt8]? {
        let view = buffer.readableBytesView
        guard let carriageReturn = view.firstIndex(of: 0x0D) else {
            guard view.count <= maximumLineLength else { throw RedisError.protocolViolation("line too long") }
            return nil
        }
        guard carriageReturn + 1 < view.endIndex else { return nil }
        guard view[carriageReturn + 1] == 0x0A else { throw RedisError.protocolViolation("CR without LF") }
        let line = Array(view[view.startIndex..<carriageReturn])
        buffer.moveReaderIndex(forwardBy: line.count + 2)
        return line
    }

    private static func number(_ line: [UInt8]) throws -> Int64 {
        guard line.count <= 20, let value = Int64(String(decoding: line, as: UTF8.self)) else {
            throw RedisError.protocolViolation("not a number")
        }
        return value
    }
}
