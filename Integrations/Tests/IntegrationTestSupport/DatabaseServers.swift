import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a test server could not be started: always a test failure, never a skip.
public struct TestServerError: Error, CustomStringConvertible {
    /// What went wrong, and how to fix it.
    public let description: String

    /// Creates an error.
    ///
    /// - Parameter description: What went wrong.
    public init(description: String) { self.description = description }
}

/// Starts a program with `posix_spawn`, its output appended to `outputPath`, with no signal blocked
/// (a Dispatch worker thread blocks most of them, and a child inherits its mask) and default
/// dispositions. Foundation's `Process` was seen to hang in `waitUntilExit` after `pg_ctl start`.
func spawnProgram(_ path: String, _ arguments: [String], outputPath: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigfillset(&defaults)
    sigdelset(&defaults, SIGKILL)
    sigdelset(&defaults, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard status == 0 else { throw TestServerError(description: "cannot start \(path): error \(status)") }
    return pid
}

/// Waits for a child to exit; its exit status, or 128 + the signal.
func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Runs a program to completion; its output, if it fails, is in the error.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
    let (status, text) = try runCommand(path, arguments)
    if status != 0 && !allowFailure {
        throw TestServerError(description: "\(path) \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
    }
    return text
}

/// Runs a program to completion.
///
/// - Parameters:
///   - path: The executable.
///   - arguments: Its arguments.
/// - Returns: Its exit status and what it wrote to standard output and error, interleaved.
public func runCommand(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-run-\(UUID())").path
    defer { unlink(outputPath) }
    let status = waitForExit(try spawnProgram(path, arguments, outputPath: outputPath))
    return (status, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
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
    private var pid: pid_t?

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://127.0.0.1:\(port)" }

    private let extraArguments: [String]
    /// What `redis-cli` needs to reach the server: TLS and the CA, for a TLS-only server.
    public let cliArguments: [String]

    /// Starts a server.
    ///
    /// - Parameters:
    ///   - tls: With certificates, the server speaks TLS only (`--tls-port`, no plaintext port), with
    ///     the certificate for `localhost`; clients need no certificate of their own.
    ///   - extraArguments: Options beside the defaults, such as `--cluster-enabled yes`.
    public init(tls: TestCertificates? = nil, extraArguments: [String] = []) throws {
        let port = try freeLoopbackPort()
        self.port = port
        self.cliArguments = tls.map { ["--tls", "--cacert", $0.authority] } ?? []
        self.extraArguments =
            (tls.map {
                [
                    "--port", "0", "--tls-port", String(port), "--tls-cert-file", $0.serverCertificate,
                    "--tls-key-file", $0.serverKey, "--tls-ca-cert-file", $0.authority, "--tls-auth-clients", "no",
                ]
            } ?? []) + extraArguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-redis-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        if let pid {
            kill(pid, SIGKILL)
            _ = waitForExit(pid)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server (again), waiting until it accepts connections (at most 10 s).
    public func start() throws {
        let binary = "/usr/bin/redis-server"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestServerError(description: "redis-server is not installed: apt-get install -y redis-server")
        }
        let pid = try spawnProgram(
            binary,
            [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--enable-debug-command", "local", "--dir", directory.path,
            ] + extraArguments, outputPath: directory.appendingPathComponent("redis.log").path)
        self.pid = pid
        let deadline = Date().addingTimeInterval(10)
        while !isAccepting(port: port) {
            var status: Int32 = 0
            guard Date() < deadline, waitpid(pid, &status, WNOHANG) == 0 else {
                self.pid = nil
                throw TestServerError(description: "redis-server did not start on port \(port)")
            }
            usleep(20_000)
        }
    }

    /// Stops the server (SIGTERM: it exits at once, saving nothing) and waits for it to exit.
    public func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        _ = waitForExit(pid)
        self.pid = nil
    }

    /// Kills the server (SIGKILL: a crash, nothing flushed) and waits for it to exit.
    public func crash() {
        guard let pid else { return }
        kill(pid, SIGKILL)
        _ = waitForExit(pid)
        self.pid = nil
    }

    /// Runs `redis-cli` against the server.
    ///
    /// - Parameter arguments: The command.
    /// - Returns: What it printed.
    @discardableResult
    public func cli(_ arguments: String...) throws -> String {
        try runProgram("/usr/bin/redis-cli", cliArguments + ["-h", "127.0.0.1", "-p", String(port)] + arguments)
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

    deinit { discard() }

    /// Stops the server at once and deletes its directory.
    private func discard() {
        _ = try? run("pg_ctl", ["-D", dataPath, "-m", "immediate", "stop"], allowFailure: true)
        try? FileManager.default.removeItem(at: directory)
    }

    private var dataPath: String { directory.appendingPathComponent("data").path }

    /// Server options beside the defaults (TLS, once ``requireTLS(certificates:password:)`` ran).
    private var extraOptions = ""

    /// Starts the server (again) and waits until it accepts connections.
    public func start() throws {
        try run(
            "pg_ctl",
            [
                "-D", dataPath, "-w", "-t", "30", "-l", directory.appendingPathComponent("postgres.log").path,
                "-o",
                "-c listen_addresses=127.0.0.1 -c port=\(port) -c unix_socket_directories=\(directory.path)"
                    + " -c fsync=off -c max_connections=200" + extraOptions,
                "start",
            ])
    }

    /// Restarts the server as a managed one is run: TLS on (`ssl=on` with the certificates' server
    /// certificate and key) and every TCP connection required to use TLS and a SCRAM-SHA-256 password
    /// (`hostssl … scram-sha-256` only in `pg_hba.conf`). ``psql(_:database:)`` no longer works after.
    ///
    /// - Parameters:
    ///   - certificates: The throwaway certificates; the server presents `serverCertificate`.
    ///   - password: The password of the user `sentry`.
    public func requireTLS(certificates: TestCertificates, password: String) throws {
        try psql("SET password_encryption = 'scram-sha-256'; ALTER USER sentry PASSWORD '\(password)'")
        let certificate = "\(dataPath)/server.pem"
        let key = "\(dataPath)/server.key"
        try FileManager.default.copyItem(atPath: certificates.serverCertificate, toPath: certificate)
        try FileManager.default.copyItem(atPath: certificates.serverKey, toPath: key)
        if getuid() == 0 { try runProgram("/usr/bin/chown", ["postgres:postgres", certificate, key]) }
        try runProgram("/usr/bin/chmod", ["600", key])
        try """
        local all all trust
        hostssl all all 127.0.0.1/32 scram-sha-256
        hostssl all all ::1/128 scram-sha-256
        """.write(toFile: "\(dataPath)/pg_hba.conf", atomically: false, encoding: .utf8)
        extraOptions = " -c ssl=on -c ssl_cert_file=\(certificate) -c ssl_key_file=\(key)"
        try stop()
        try start()
    }

    /// Stops the server (fast shutdown: connections are closed) and waits.
    public func stop() throws {
        try run("pg_ctl", ["-D", dataPath, "-m", "fast", "-w", "stop"])
    }

    /// Stops the postmaster and every backend with SIGSTOP: a hung host or a silent partition.
    /// Connections stay open and nothing answers on them; new connections are accepted by the kernel
    /// and never served.
    ///
    /// - Returns: How many processes were stopped.
    @discardableResult
    public func freeze() throws -> Int {
        let processes = try serverProcesses()
        for pid in processes { kill(pid, SIGSTOP) }
        return processes.count
    }

    /// Resumes what ``freeze()`` stopped (SIGCONT).
    public func thaw() throws {
        for pid in try serverProcesses().reversed() { kill(pid, SIGCONT) }
    }

    /// The postmaster (from `postmaster.pid`), then its children.
    private func serverProcesses() throws -> [pid_t] {
        let lines = try String(contentsOfFile: "\(dataPath)/postmaster.pid", encoding: .utf8).split(separator: "\n")
        guard let first = lines.first, let postmaster = pid_t(first) else {
            throw TestServerError(description: "postmaster.pid names no process")
        }
        var children: [pid_t] = []
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // `pid (comm) state ppid …`: the command may hold spaces, so read after its `)`.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { children.append(pid) }
        }
        return [postmaster] + children
    }

    /// Terminates the backends listening for notifications (`pg_terminate_backend`): what an
    /// administrator, a connection limit or a failover does to a change feed.
    ///
    /// - Returns: How many were terminated.
    @discardableResult
    public func terminateListeners() throws -> Int {
        let output = try psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Creates an empty database, so that each test has its own.
    ///
    /// - Returns: Its URL.
    public func createDatabase() throws -> String {
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try psql("CREATE DATABASE \(name)")
        return "postgres://sentry@127.0.0.1:\(port)/\(name)"
    }

    /// Runs SQL through `psql`, as a person typing it would.
    ///
    /// - Parameters:
    ///   - sql: The statements.
    ///   - database: The database; `sentry` by default.
    /// - Returns: What psql printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "sentry") throws -> String {
        try runProgram(
            "/usr/bin/psql",
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "sentry", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc",
                sql,
            ])
    }

    /// The server every test of a process shares (each in its own database), started on first use.
    public static func shared() throws -> PostgresTestServer {
        try sharedServer.get()
    }

    /// Static, so never deinitialized: it is discarded when the test process exits normally.
    private static let sharedServer = Result {
        let server = try PostgresTestServer()
        discardedAtExit.withLock { $0 = server }
        atexit { PostgresTestServer.discardedAtExit.withLock { $0?.discard() } }
        return server
    }

    private static let discardedAtExit = Mutex<PostgresTestServer?>(nil)

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

/// Throwaway certificates made with openssl (Debian's package) for one test: a CA, a server
/// certificate it signed for the name `localhost` only (no IP address in it), and a second CA that
/// signed nothing.
public struct TestCertificates: Sendable {
    /// The CA that signed the server certificate (PEM).
    public let authority: String
    /// Another CA, which did not (PEM).
    public let otherAuthority: String
    /// The server's certificate (PEM), for `DNS:localhost`.
    public let serverCertificate: String
    /// The server's private key (PEM).
    public let serverKey: String

    /// Makes them in `directory`.
    public init(in directory: URL) throws {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else {
            throw TestServerError(description: "openssl is not installed: apt-get install -y openssl")
        }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        for name in ["ca", "other-ca"] {
            try runProgram(
                openssl,
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "2",
                    "-subj", "/CN=SentryAuth test \(name)",
                ])
        }
        try runProgram(
            openssl,
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost",
            ])
        try "subjectAltName=DNS:localhost\n".write(toFile: path("server.ext"), atomically: false, encoding: .utf8)
        try runProgram(
            openssl,
            [
                "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                "-CAcreateserial", "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext"),
            ])
        authority = path("ca.pem")
        otherAuthority = path("other-ca.pem")
        serverCertificate = path("server.pem")
        serverKey = path("server.key")
    }
}
