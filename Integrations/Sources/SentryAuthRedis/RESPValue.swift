import NIOCore

/// A value of the Redis serialization protocol, version 2 (RESP2): what a Redis server answers.
enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR message`: the server refused the command.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$3 abc`, or `$-1` (`nil`).
    case bulkString([UInt8]?)
    /// `*2 …`, or `*-1` (`nil`).
    case array([RESPValue]?)

    /// The integer, if the value is one.
    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text of a simple or bulk string.
    var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes?): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }
}

/// A command, written as an array of bulk strings, the only form Redis accepts from clients.
struct RESPCommand: Sendable, Hashable {
    /// The command and its arguments.
    let arguments: [String]

    init(_ arguments: String...) { self.arguments = arguments }

    init(arguments: [String]) { self.arguments = arguments }

    /// Appends the command's encoding to `buffer`: `*N\r\n` then `$LEN\r\nARG\r\n` per argument.
    func write(to buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.utf8.count))
            buffer.writeStaticString("\r\n")
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }
}
