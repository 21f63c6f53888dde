import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a test server could not be started: always a test failure, never a skip.
public struct TestServerError: Error, CustomStringConvertible {
    /// What went wrong, and how to fix it.
    public let description: String
}

/// Runs a program to completion; its output, if it fails, is in the error.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    if process.terminationStatus != 0 && !allowFailure {
        throw TestServerError(description: "\(path) \(arguments.joined(separator: " ")) failed: \(text)")
    }
    return text
}

/// A free TCP port on 127.0.0.1 (the kernel's choice; free when this returns).
public func freeLoopbackPort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw TestServerError(description: "socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
        }
    }
    guard bound else { throw TestServerError(description: "bind() to 127.0.0.1:0 failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func isAccepting(port: Int) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return false }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// A Redis 7 server from Debian's `redis-server` package, on 127.0.0.1 and a free port, with no
/// persistence, in its own temporary directory. It can be stopped and started again on the same port.
public final class RedisTestServer: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `start`/`stop`, called by the test that owns the server.
    /// The server's port.
    public let port: Int
    private let directory: URL
    private var process: Process?

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts a server.
    public init() throws {
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-redis-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        if let process {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server (again), waiting until it accepts connections (at most 10 s).
    public func start() throws {
        let binary = "/usr/bin/redis-server"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestServerError(description: "redis-server is not installed: apt-get install -y redis-server")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--enable-debug-command", "local", "--dir",
            directory.path, "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while !isAccepting(port: port) {
            guard Date() < deadline, process.isRunning else {
                throw TestServerError(description: "redis-server did not start on port \(port)")
            }
            usleep(20_000)
        }
    }

    /// Stops the server and waits for it to exit. With `SHUTDOWN NOSAVE`, not a signal: a process
    /// started from a Dispatch worker thread inherits its blocked signals, SIGTERM among them.
    public func stop() {
        guard let process else { return }
        _ = try? cli("SHUTDOWN", "NOSAVE")
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
    }

    /// Runs `redis-cli` against the server.
    ///
    /// - Parameter arguments: The command.
    /// - Returns: What it printed.
    @discardableResult
    public func cli(_ arguments: String...) throws -> String {
        try runProgram("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(port)] + arguments)
    }
}

/// A PostgreSQL 15 server from Debian's packages, on 127.0.0.1 and a free port, in a temporary data
/// directory, with trust authentication for the user `sentry` and a database `sentry`. `initdb`
/// refuses to run as root, so as root it runs as the `postgres` user. It can be stopped and started
/// again on the same port.
public final class PostgresTestServer: @unchecked Sendable {
    /// The server's port.
    public let port: Int
    private let directory: URL
    private static let binaries = "/usr/lib/postgresql/15/bin"

    /// `postgres://sentry@127.0.0.1:PORT/sentry`.
    public var url: String { "postgres://sentry@127.0.0.1:\(port)/sentry" }

    /// Creates a cluster and starts it.
    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: "\(Self.binaries)/initdb") else {
            throw TestServerError(description: "PostgreSQL 15 is not installed: apt-get install -y postgresql")
        }
        port = try freeLoopbackPort()
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("sentry-postgres-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try runProgram("/usr/bin/chown", ["postgres:postgres", directory.path])
        }
        try run("initdb", ["-D", dataPath, "-U", "sentry", "-A", "trust", "--no-sync", "-E", "UTF8"])
        try start()
        try run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "sentry", "sentry"])
    }

    deinit {
        _ = try? run("pg_ctl", ["-D", dataPath, "-m", "immediate", "stop"], allowFailure: true)
        try? FileManager.default.removeItem(at: directory)
    }

    private var dataPath: String { directory.appendingPathComponent("data").path }

    /// Starts the server (again) and waits until it accepts connections.
    public func start() throws {
        try run(
            "pg_ctl",
            [
                "-D", dataPath, "-w", "-t", "30", "-l", directory.appendingPathComponent("postgres.log").path,
                "-o",
                "-c listen_addresses=127.0.0.1 -c port=\(port) -c unix_socket_directories=\(directory.path)"
                    + " -c fsync=off -c max_connections=200",
                "start",
            ])
    }

    /// Stops the server (fast shutdown: connections are closed) and waits.
    public func stop() throws {
        try run("pg_ctl", ["-D", dataPath, "-m", "fast", "-w", "stop"])
    }

    /// Runs SQL through `psql`, as a person typing it would.
    ///
    /// - Parameter sql: The statements.
    /// - Returns: What psql printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String) throws -> String {
        try runProgram(
            "/usr/bin/psql",
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "sentry", "-d", "sentry", "-v", "ON_ERROR_STOP=1", "-Atc",
                sql,
            ])
    }

    @discardableResult
    private func run(_ program: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
        if getuid() == 0 {
            return try runProgram(
                "/usr/sbin/runuser", ["-u", "postgres", "--", "\(Self.binaries)/\(program)"] + arguments,
                allowFailure: allowFailure)
        }
        return try runProgram("\(Self.binaries)/\(program)", arguments, allowFailure: allowFailure)
    }
}
