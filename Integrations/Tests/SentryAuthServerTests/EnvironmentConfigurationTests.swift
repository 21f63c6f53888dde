import Foundation
import IntegrationTestSupport
import SentryAuth
import Testing

/// Runs `sentry-auth-server ARGUMENTS` to completion with `variables` set in its environment.
func server(environment variables: [String: String], _ arguments: String...) throws -> (status: Int32, output: String) {
    try runCommand("/usr/bin/env", variables.map { "\($0.key)=\($0.value)" } + [try serverExecutable()] + arguments)
}

@Suite("sentry-auth-server configured from the environment")
struct EnvironmentConfigurationTests {
    static let postgresVariable = "SENTRY_AUTH_POSTGRES_URL"
    static let redisVariable = "SENTRY_AUTH_REDIS_URL"
    /// A password that must never be printed back.
    static let secret = "hunter2-do-not-print"

    @Test("migrate, keys and the server take PostgreSQL and Redis from the environment; the flags win")
    func environment() async throws {
        let postgres = try PostgresTestServer.shared()
        let redis = try RedisTestServer()
        let database = try postgres.createDatabase()
        let both = [Self.postgresVariable: database, Self.redisVariable: redis.url]

        let migrated = try server(environment: both, "migrate")
        #expect(migrated.status == 0 && migrated.output.hasPrefix("schema: applied version 1"), "\(migrated.output)")
        let created = try server(
            environment: both, "keys", "create", "--merchant", "m_env", "--scopes", "customer:read", "--limit", "2/60")
        #expect(created.status == 0, "\(created.output)")
        let key = try printedKey(created.output)

        // The server: keys from PostgreSQL and the shared limit in Redis, both named only in the environment.
        let fromEnvironment = try ServerProcess([], environment: both)
        let client = LiveClient(port: fromEnvironment.port)
        var statuses: [Int] = []
        for _ in 0..<3 {
            statuses.append(
                try await client.send("GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")]).status)
        }
        #expect(statuses == [200, 200, 429])
        #expect(Int(try redis.cli("DBSIZE").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0)
        try await client.shutdown()
        #expect(try await fromEnvironment.stop() == 0)

        // The flags win over a variable that names nothing reachable.
        let unreachable = "postgres://sentry:\(Self.secret)@127.0.0.1:1/nothing"
        let flagged = try ServerProcess(["--postgres", database], environment: [Self.postgresVariable: unreachable])
        let flaggedClient = LiveClient(port: flagged.port)
        let answer = try await flaggedClient.send(
            "GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")])
        // Found through the flag's database; no --redis and no variable for it here: a window of its own.
        #expect(answer.status == 200)
        try await flaggedClient.shutdown()
        #expect(try await flagged.stop() == 0)
        let listed = try server(
            environment: [Self.postgresVariable: unreachable], "keys", "list", "--postgres", database)
        #expect(listed.status == 0 && listed.output.contains("m_env"), "\(listed.output)")
    }

    @Test("A malformed URL in the environment is bad usage naming the variable, never printing its password")
    func malformed() throws {
        let malformed = "postgres://sentry:\(Self.secret)@127.0.0.1:notaport/x"
        for arguments in [[String](), ["migrate"], ["keys", "list"]] {
            let (status, output) = try runCommand(
                "/usr/bin/env", ["\(Self.postgresVariable)=\(malformed)", try serverExecutable()] + arguments)
            #expect(status == 2, "\(arguments): \(output)")
            #expect(output.contains(Self.postgresVariable), "\(arguments): \(output)")
            #expect(!output.contains(Self.secret), "\(arguments): \(output)")
        }
        let redis = try runCommand(
            "/usr/bin/env",
            [
                "\(Self.redisVariable)=redis://default:\(Self.secret)@127.0.0.1:notaport", try serverExecutable(),
                "--store",
                "/nonexistent/keys.json",
            ])
        #expect(redis.status == 2 && redis.output.contains(Self.redisVariable), "\(redis.output)")
        #expect(!redis.output.contains(Self.secret))
        // Neither the flag nor the variable: the message says both ways.
        let missing = try runCommand(
            "/usr/bin/env", ["-u", Self.postgresVariable, try serverExecutable(), "keys", "list"])
        #expect(missing.status == 2 && missing.output.contains(Self.postgresVariable), "\(missing.output)")
    }
}
