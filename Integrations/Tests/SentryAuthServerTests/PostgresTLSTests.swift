import Foundation
import IntegrationTestSupport
import SentryAuth
import SentryAuthPostgres
import Testing

@Suite("PostgreSQL over TLS with a SCRAM password, as a managed database is run")
struct PostgresTLSTests {
    static let password = "scram-Secret-42"

    @Test(
        "verify-full and verify-ca against the right CA work; a wrong CA, a certificate that does not name the host, plaintext and a wrong password are start-up errors"
    )
    func tlsOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try TestCertificates(in: directory)
        let postgres = try PostgresTestServer()
        try postgres.requireTLS(certificates: certificates, password: Self.password)
        func url(host: String = "localhost", password: String = Self.password, _ query: String) -> String {
            "postgres://sentry:\(password)@\(host):\(postgres.port)/sentry?\(query)"
        }
        let verified = url("sslmode=verify-full&sslrootcert=\(certificates.authority)")

        // The right CA and the certificate's own name: migrate, keys and the server all work.
        let migrated = try server("migrate", "--postgres", verified)
        #expect(migrated.status == 0 && migrated.output.hasPrefix("schema: applied version 1"), "\(migrated.output)")
        #expect(migrated.output.contains("sslmode=verify-full") && !migrated.output.contains(Self.password))
        let created = try server(
            "keys", "create", "--postgres", verified, "--merchant", "m_tls", "--scopes", "customer:read")
        #expect(created.status == 0, "\(created.output)")
        let key = try printedKey(created.output)
        let instance = try ServerProcess(["--postgres", verified])
        let client = LiveClient(port: instance.port)
        let answer = try await client.send("GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")])
        #expect(answer.status == 200)
        // The change feed listens over TLS too: a revocation reaches the running server within a second.
        let id = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("id:") })
            .dropFirst("id:".count).trimmingCharacters(in: .whitespaces)
        let start = ContinuousClock.now
        #expect(try server("keys", "revoke", id, "--postgres", verified).status == 0)
        while try await client.send("GET", "/public/api/v1/customers", [("Authorization", "Bearer \(key)")]).status
            != 401
        {
            #expect(ContinuousClock.now - start < .seconds(5))
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        try await client.shutdown()
        #expect(try await instance.stop() == 0)

        // verify-ca checks the chain, not the name: 127.0.0.1 is not in the certificate, and passes.
        let byAddress = try server(
            "keys", "list", "--postgres",
            url(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(certificates.authority)"))
        #expect(byAddress.status == 0 && byAddress.output.contains("m_tls"), "\(byAddress.output)")
        // require without a root file encrypts without checking (libpq's rule).
        let required = try server("keys", "list", "--postgres", url(host: "127.0.0.1", "sslmode=require"))
        #expect(required.status == 0 && required.output.contains("m_tls"), "\(required.output)")

        // Refused, each with exit 3 and a sentence that says why, never the password.
        let refusals: [(String, [String])] = [
            (url("sslmode=verify-full&sslrootcert=\(certificates.otherAuthority)"), ["TLS", "certificate"]),
            (url(host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(certificates.authority)"), ["TLS", "host"]),
            (
                url(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(certificates.otherAuthority)"),
                ["TLS", "certificate"]
            ),
            (url(host: "127.0.0.1", "sslmode=disable"), ["no encryption"]),
            (
                url(host: "127.0.0.1", password: "wrong-password-77", "sslmode=require"),
                ["password authentication failed"]
            ),
        ]
        for (location, expected) in refusals {
            let listed = try server("keys", "list", "--postgres", location)
            #expect(listed.status == 3, "\(listed.output)")
            for word in expected { #expect(listed.output.contains(word), "\(word): \(listed.output)") }
            #expect(!listed.output.contains(Self.password) && !listed.output.contains("wrong-password-77"))
        }
        // The server does not start with a certificate that does not verify: no fall back, exit 3.
        let refused = try runCommand(
            try serverExecutable(),
            ["--postgres", url("sslmode=verify-full&sslrootcert=\(certificates.otherAuthority)"), "--port", "0"])
        #expect(refused.status == 3 && refused.output.contains("TLS"), "\(refused.output)")
        #expect(!refused.output.contains(Self.password))
        // A root file that is not there is bad usage at once, before any connection.
        let missing = try server(
            "migrate", "--postgres", url("sslmode=verify-full&sslrootcert=\(directory.path)/absent.pem"))
        #expect(missing.status == 2 && missing.output.contains("sslrootcert"), "\(missing.output)")
    }
}
