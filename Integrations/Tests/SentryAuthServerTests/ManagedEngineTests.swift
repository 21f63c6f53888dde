import Foundation
import IntegrationTestSupport
import SentryAuth
import Testing

/// Two `sentry-auth-server` instances on the engines a managed deployment has: a TLS-only PostgreSQL
/// with a SCRAM password and a TLS-only Redis with an ACL user; or a Redis Cluster.
@Suite("Two server instances on managed engines: TLS and passwords, or a Redis Cluster", .serialized)
struct ManagedEngineTests {
    static let databasePassword = "scram-Managed-11"
    static let redisPassword = "acl-Managed-12"

    @Test(
        "TLS-only PostgreSQL and Redis with passwords: keys made and revoked with the commands, the exact shared limit; a wrong Redis CA stops the server, naming TLS"
    )
    func tlsAndPasswords() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-managed-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try TestCertificates(in: directory)
        let postgres = try PostgresTestServer()
        try postgres.requireTLS(certificates: certificates, password: Self.databasePassword)
        let redis = try RedisTestServer(
            tls: certificates,
            extraArguments: [
                "--user", "default", "off", "--user", "sentry", "on", ">\(Self.redisPassword)", "~*", "&*", "+@all",
            ])
        let database =
            "postgres://sentry:\(Self.databasePassword)@localhost:\(postgres.port)/sentry?sslmode=verify-full&sslrootcert=\(certificates.authority)"
        let redisURL = "rediss://sentry:\(Self.redisPassword)@localhost:\(redis.port)"

        #expect(try server("migrate", "--postgres", database).status == 0)
        let created = try server(
            "keys", "create", "--postgres", database, "--merchant", "m_managed", "--scopes", "customer:read")
        #expect(created.status == 0, "\(created.output)")
        let key = try printedKey(created.output)
        let id = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("id:") })
            .dropFirst("id:".count).trimmingCharacters(in: .whitespaces)
        // The passwords come from the environment, as a twelve-factor service is run.
        let environment = ["SENTRY_AUTH_POSTGRES_URL": database, "SENTRY_AUTH_REDIS_URL": redisURL]
        let instances = try (0..<2).map { _ in
            try ServerProcess(
                ["--redis-ca-file", certificates.authority, "--no-failed-auth-limit"], environment: environment)
        }
        let clients = instances.map { LiveClient(port: $0.port) }
        let statuses = try await spread(150, key: key, over: clients)
        #expect(statuses.filter { $0 == 200 }.count == 60 && statuses.filter { $0 == 429 }.count == 90, "\(statuses)")
        #expect(try server("keys", "revoke", id, "--postgres", database).status == 0)
        let start = ContinuousClock.now
        for client in clients {
            while try await client.send("GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")])
                .status != 401
            {
                #expect(ContinuousClock.now - start < .seconds(5))
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        for client in clients { try await client.shutdown() }
        for instance in instances { #expect(try await instance.stop() == 0) }

        // A CA that did not sign Redis's certificate: exit 3 at start-up, naming TLS; no password shown.
        let refused = try runCommand(
            try serverExecutable(),
            [
                "--postgres", database, "--redis", redisURL, "--redis-ca-file", certificates.otherAuthority, "--port",
                "0",
            ])
        #expect(refused.status == 3, "\(refused.output)")
        #expect(refused.output.contains("TLS") && refused.output.contains("certificate"), "\(refused.output)")
        #expect(!refused.output.contains(Self.redisPassword) && !refused.output.contains(Self.databasePassword))
        // A wrong Redis password: exit 3, naming the credentials.
        let wrong = try runCommand(
            try serverExecutable(),
            [
                "--postgres", database, "--redis", "rediss://sentry:wrong-Pass-9@localhost:\(redis.port)",
                "--redis-ca-file", certificates.authority, "--port", "0",
            ])
        #expect(wrong.status == 3 && wrong.output.contains("credentials"), "\(wrong.output)")
        #expect(!wrong.output.contains("wrong-Pass-9"))
        // --redis-ca-file belongs with rediss://.
        let plain = try runCommand(
            try serverExecutable(),
            ["--postgres", database, "--redis", "redis://127.0.0.1:1", "--redis-ca-file", certificates.authority])
        #expect(plain.status == 2 && plain.output.contains("rediss://"), "\(plain.output)")
    }

    @Test(
        "A Redis Cluster: each instance given another node, exactly 60 of 150 per key for keys on every master, no 503")
    func cluster() async throws {
        let cluster = try RedisClusterTestServer()
        let postgres = try PostgresTestServer()
        let database = try postgres.createDatabase()
        #expect(try server("migrate", "--postgres", database).status == 0)
        var keys: [String] = []
        for index in 0..<6 {
            let created = try server(
                "keys", "create", "--postgres", database, "--merchant", "m_\(index)", "--scopes", "customer:read")
            #expect(created.status == 0, "\(created.output)")
            keys.append(try printedKey(created.output))
        }
        let instances = try [cluster.nodes[1], cluster.nodes[4]].map { node in
            try ServerProcess(["--postgres", database, "--redis", node.url, "--no-failed-auth-limit"])
        }
        let clients = instances.map { LiveClient(port: $0.port) }
        for key in keys {
            let statuses = try await spread(150, key: key, over: clients)
            #expect(statuses.filter { $0 == 200 }.count == 60 && statuses.filter { $0 == 429 }.count == 90)
        }
        var holding = 0
        for master in try cluster.masters() {
            if Int(try master.cli("DBSIZE").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0 { holding += 1 }
        }
        #expect(holding >= 2, "the six keys' windows are spread over the masters")
        for client in clients { try await client.shutdown() }
        for instance in instances { #expect(try await instance.stop() == 0) }
    }
}
