import SentryAuthEngineSupport
import Testing

@Suite("ConnectionURL: one parser for PostgreSQL and Redis URLs")
struct ConnectionURLTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let text: String
        let user: String?
        let password: String?
        let host: String
        let port: Int?
        let path: String?
        var testDescription: String { text }
    }

    static let vectors: [Vector] = [
        Vector(
            text: "postgres://sentry@db/sentry", user: "sentry", password: nil, host: "db", port: nil, path: "sentry"),
        Vector(
            text: "postgresql://u%40corp:p%3Aw%2Fd%25@127.0.0.1:6543/my%20db", user: "u@corp", password: "p:w/d%",
            host: "127.0.0.1", port: 6543, path: "my db"),
        // A raw `@` in the password: the credentials end at the last `@`.
        Vector(text: "redis://:a@b@[::1]:6380/2", user: "", password: "a@b", host: "::1", port: 6380, path: "2"),
        Vector(text: "redis://host", user: nil, password: nil, host: "host", port: nil, path: nil),
        Vector(text: "REDIS://h:1/", user: nil, password: nil, host: "h", port: 1, path: ""),
        Vector(text: "redis://u:?x@h:65535", user: "u", password: "?x", host: "h", port: 65_535, path: nil),
        Vector(text: "postgres://caf%C3%A9@h/d", user: "café", password: nil, host: "h", port: nil, path: "d"),
    ]

    @Test("Parts are split and percent-decoded", arguments: vectors)
    func parses(_ vector: Vector) throws {
        let url = try ConnectionURL(vector.text, schemes: ["postgres", "postgresql", "redis"])
        #expect(url.user == vector.user)
        #expect(url.password == vector.password)
        #expect(url.host == vector.host)
        #expect(url.port == vector.port)
        #expect(url.path == vector.path)
    }

    @Test(
        "Malformed URLs are refused with a sentence that never quotes the password",
        arguments: [
            ("http://u:hunter2@h/d", "must start with"),
            ("postgres://u:hunter2@h:0/d", "the port"),
            ("postgres://u:hunter2@h:99999/d", "the port"),
            ("postgres://u:hunter2@h:+5/d", "the port"),
            ("postgres://u:hunter2@h/d?sslmode", "NAME=VALUE"),
            ("postgres://u:hunter2@h/d?=x", "NAME=VALUE"),
            ("postgres://u:hunter2@h/d?a=1&a=2", "given twice"),
            ("postgres://u:hunter2@h/d?a=%zz", "the parameter a has a %"),
            ("postgres://u:hunter2@h/d#x", "a fragment"),
            ("postgres://u:hunter2%zz@h/d", "the password has a %"),
            ("postgres://u:hunter2%4@h/d", "the password has a %"),
            ("postgres://u:hunter2%FF@h/d", "the password is not UTF-8"),
            ("postgres://u%zz:hunter2@h/d", "the user has a %"),
            ("postgres://u:hunter2@[::1/d", "closing ]"),
            ("postgres://u:hunter2@[::1]x/d", "expected :PORT"),
            ("postgres://u:hunter2@::1/d", "in brackets"),
            ("postgres://u:hunter2@/d", "the host is missing"),
            ("postgres://u:hunter2@h%41/d", "a character"),
            ("postgres://u:hunter2@h o/d", "a character"),
        ])
    func refuses(_ text: String, _ expected: String) {
        do {
            _ = try ConnectionURL(text, schemes: ["postgres", "redis"])
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("hunter2"))
        }
    }

    @Test("Query parameters are read, percent-decoded, after the path; a ? in the password is not a query")
    func query() throws {
        let url = try ConnectionURL(
            "postgres://u:pa?ss@h:5/d?sslmode=verify-full&sslrootcert=/etc/ssl/a%26b.pem&empty=", schemes: ["postgres"])
        #expect(url.password == "pa?ss" && url.host == "h" && url.port == 5 && url.path == "d")
        #expect(url.query == ["sslmode": "verify-full", "sslrootcert": "/etc/ssl/a&b.pem", "empty": ""])
        #expect(try ConnectionURL("redis://h", schemes: ["redis"]).query.isEmpty)
        #expect(try ConnectionURL("redis://h?x=1", schemes: ["redis"]).query == ["x": "1"])
    }
}
