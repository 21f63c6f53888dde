import NIOCore
import Testing

@testable import SentryAuthRedis

@Suite("RESP2 decoding")
struct RESPDecoderTests {
    /// Parses `text` whole, then fed one byte at a time: both must give `expected`.
    func expectParses(_ text: String, _ expected: RESPValue) throws {
        var whole = ByteBuffer(string: text)
        #expect(try RESPDecoder.parse(&whole, depth: 0) == expected)
        #expect(whole.readableBytes == 0)
        // Every strict prefix is incomplete, never a value and never an error.
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            var prefix = ByteBuffer(bytes: bytes[..<end])
            #expect(try RESPDecoder.parse(&prefix, depth: 0) == nil, "prefix of \(end) bytes")
        }
    }

    @Test("Every reply type, nested and nil, whole and split at every byte")
    func values() throws {
        try expectParses("+OK\r\n", .simpleString("OK"))
        try expectParses("-NOSCRIPT No matching script\r\n", .error("NOSCRIPT No matching script"))
        try expectParses(":-42\r\n", .integer(-42))
        try expectParses(":9223372036854775807\r\n", .integer(.max))
        try expectParses("$5\r\nhe\r\no\r\n", .bulkString(Array("he\r\no".utf8)))
        try expectParses("$0\r\n\r\n", .bulkString([]))
        try expectParses("$-1\r\n", .bulkString(nil))
        try expectParses("*-1\r\n", .array(nil))
        try expectParses("*0\r\n", .array([]))
        try expectParses(
            "*3\r\n:1\r\n:59\r\n*2\r\n$3\r\nabc\r\n+x\r\n",
            .array([.integer(1), .integer(59), .array([.bulkString(Array("abc".utf8)), .simpleString("x")])]))
    }

    @Test("Two replies in one read come out as two values, in order")
    func pipelined() throws {
        var buffer = ByteBuffer(string: ":1\r\n+OK\r\n$-1\r\n")
        #expect(try RESPDecoder.parse(&buffer, depth: 0) == .integer(1))
        #expect(try RESPDecoder.parse(&buffer, depth: 0) == .simpleString("OK"))
        #expect(try RESPDecoder.parse(&buffer, depth: 0) == .bulkString(nil))
        #expect(try RESPDecoder.parse(&buffer, depth: 0) == nil)
    }

    /// Each malformed reply, named so that a failure reads well (one of them is 70,000 bytes long).
    static let malformedReplies: [String: String] = [
        "unknown type": "?1\r\n", "integer with a letter": ":12a\r\n",
        "integer overflow": ":99999999999999999999999\r\n", "bulk length -2": "$-2\r\n",
        "bulk string without CRLF": "$3\r\nabcXY", "array length -5": "*-5\r\n",
        "bulk string of 100 GB": "$99999999999\r\n", "array of 2,000,000": "*2000000\r\n",
        "CR without LF": "+OK\rX", "nested 20 deep": String(repeating: "*1\r\n", count: 20) + ":1\r\n",
        "line of 70,000 bytes": "+" + String(repeating: "a", count: 70_000),
    ]

    @Test("Malformed replies are errors, not crashes or hangs", arguments: malformedReplies.keys.sorted())
    func malformed(_ name: String) throws {
        var buffer = ByteBuffer(string: try #require(Self.malformedReplies[name]))
        #expect(throws: RedisError.self) { try RESPDecoder.parse(&buffer, depth: 0) }
    }

    @Test("A command is written as an array of bulk strings, counted in bytes")
    func commandEncoding() {
        var buffer = ByteBuffer()
        RESPCommand("SET", "k", "é").write(to: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n")
    }
}
