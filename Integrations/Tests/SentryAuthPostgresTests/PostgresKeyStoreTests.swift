import Foundation
import IntegrationTestSupport
import PostgresNIO
import SentryAuth
import SentryAuthPostgres
import SentryAuthTesting
import Testing

@Suite("PostgreSQL key store, against a real PostgreSQL 15")
struct PostgresKeyStoreTests {
    @Test("Migrating is idempotent, versioned, and refuses a schema newer than it knows")
    func migration() async throws {
        let fixture = try PostgresFixture()
        let appliedAgain = try await fixture.withStore { store in try await store.migrate() }
        #expect(appliedAgain == [])  // withStore migrated it already
        #expect(try fixture.psql("SELECT version FROM sentry_auth_schema ORDER BY version") == "1\n")
        #expect(
            try fixture.psql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'sentry_auth_keys_digest'")
                == "CREATE UNIQUE INDEX sentry_auth_keys_digest ON public.sentry_auth_keys USING btree (digest)\n")
        try fixture.psql("INSERT INTO sentry_auth_schema (version) VALUES (2)")
        await #expect(throws: PostgresKeyStoreError.schemaTooNew(found: 2, known: 1)) {
            try await fixture.withStore { _ in () }
        }
    }

    @Test("Every field round-trips exactly, by digest, identifier, merchant and in the listing")
    func roundTrip() async throws {
        let fixture = try PostgresFixture()
        let (record, key) = try fullRecord()
        let plain = KeyRecord(
            id: APIKeyID("key_" + String(repeating: "3", count: 24))!, merchantID: record.merchantID, name: "plain",
            scopes: [], createdAt: Date(timeIntervalSince1970: 1_700_000_000), displayHint: "sntr_…0000",
            digest: APIKey.generate().digest)
        try await fixture.withStore { store in
            try await store.insert(record)
            try await store.insert(plain)
            #expect(try await store.record(forDigest: key.digest) == record)
            #expect(try await store.record(withID: record.id) == record)
            #expect(try await store.records(forMerchant: record.merchantID) == [plain, record])  // by creation time
            #expect(try await store.allRecords() == [plain, record])
            #expect(try await store.record(forDigest: APIKey.generate().digest) == nil)
            #expect(try await store.records(forMerchant: MerchantID("nobody")!) == [])
        }
        // What SQL sees: real types, and never the key.
        #expect(
            try fixture.psql(
                "SELECT allowlist::text, rate_limit, rate_window_ms, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM sentry_auth_keys WHERE id = '\(record.id)'"
            ) == "{10.1.2.3/32,203.0.113.0/24,2001:db8::/48}|120|90500|2026-09-21 14:13:20.123\n")
        let everything = try fixture.psql("SELECT row_to_json(k)::text FROM sentry_auth_keys k")
        let secret = key.revealSecret()
        #expect(!everything.contains(secret) && !everything.contains(secret.dropFirst(5).prefix(20)))
    }

    @Test("A duplicate identifier or digest is refused, adding nothing (no event either)")
    func duplicates() async throws {
        let fixture = try PostgresFixture()
        let (record, _) = try fullRecord()
        let event = KeyEvent(
            time: Date(timeIntervalSince1970: 1_790_000_000), actor: "ops", keyID: record.id,
            merchantID: record.merchantID, kind: .created, scopesAfter: record.scopes.formatted)
        try await fixture.withStore { store in
            try await store.insert(record, event: event)
            let sameDigest = KeyRecord(
                id: APIKeyID("key_" + String(repeating: "9", count: 24))!, merchantID: record.merchantID, name: "x",
                scopes: [], createdAt: record.createdAt, displayHint: "h", digest: record.digest)
            let sameID = KeyRecord(
                id: record.id, merchantID: record.merchantID, name: "x", scopes: [], createdAt: record.createdAt,
                displayHint: "h", digest: APIKey.generate().digest)
            for duplicate in [sameDigest, sameID] {
                await #expect(throws: KeyStoreError.duplicateKey) { try await store.insert(duplicate, event: event) }
            }
            #expect(try await store.allRecords() == [record])
            #expect(try await store.events(forKey: record.id) == [event])
        }
    }

    @Test("Conditional replace racing from two connections: exactly one wins, every time")
    func replaceRace() async throws {
        let fixture = try PostgresFixture()
        let (record, _) = try fullRecord()
        try await fixture.withStore { first in
            try await fixture.withStore { second in
                try await first.insert(record)
                var current = record
                for round in 0..<25 {
                    let a = current.with(name: "round \(round)")
                    let b = current.with(lastUsedAt: Date(timeIntervalSince1970: 1_795_000_000 + Double(round) * 60))
                    let (wonA, wonB) = try await (
                        first.replace(current, with: a), second.replace(current, with: b)
                    )
                    #expect(wonA != wonB, "round \(round): \(wonA) \(wonB)")
                    let stored = try #require(try await first.record(withID: record.id))
                    #expect(stored == (wonA ? a : b))
                    current = stored
                }
                // A change typed by hand between a read and a replace moves the version: the replace fails.
                try fixture.psql("UPDATE sentry_auth_keys SET name = 'renamed by hand' WHERE id = '\(record.id)'")
                let change = current.with(revokedAt: Date(timeIntervalSince1970: 1_797_000_000))
                #expect(try await first.replace(current, with: change) == false)
                #expect(try await first.record(withID: record.id)?.name == "renamed by hand")
                // The identity never changes.
                let other = KeyRecord(
                    id: record.id, merchantID: record.merchantID, name: "x", scopes: [], createdAt: record.createdAt,
                    displayHint: "h", digest: APIKey.generate().digest)
                await #expect(throws: KeyStoreError.identityChanged) { try await first.replace(current, with: other) }
            }
        }
    }

    @Test("KeyManager over PostgreSQL: create, restrict, roll, revoke, with the history in the same transactions")
    func lifecycle() async throws {
        let fixture = try PostgresFixture()
        try await fixture.withStore { store in
            let clock = ManualWallClock(Date(timeIntervalSince1970: 1_790_000_000))
            let manager = KeyManager(store: store, clock: clock, actor: "ops@example.com")
            let merchant = MerchantID("merchant_life")!
            let created = try await manager.create(for: merchant, name: "web", scopes: [.customerRead, .customerWrite])
            clock.advance(by: .seconds(1))
            _ = try await manager.restrict(created.record.id, to: [.customerRead])
            clock.advance(by: .seconds(1))
            let rolled = try await manager.roll(created.record.id, grace: .seconds(60))
            clock.advance(by: .seconds(1))
            _ = try await manager.revoke(rolled.record.id)
            let old = try #require(try await store.record(withID: created.record.id))
            #expect(
                old.successorID == rolled.record.id && old.graceEndsAt == Date(timeIntervalSince1970: 1_790_000_062))
            #expect(try await store.record(forDigest: rolled.key.digest)?.revokedAt == clock.now())
            let history = try await store.events(forKey: created.record.id).map { "\($0.kind) \($0.actor ?? "-")" }
            #expect(history == ["created ops@example.com", "restricted ops@example.com", "rolled ops@example.com"])
            #expect(try await store.events(forKey: rolled.record.id).map(\.kind) == [.rolledFrom, .revoked])
            // Last use moves forward only, and unknown identifiers are ignored.
            let later = Date(timeIntervalSince1970: 1_790_000_100)
            try await store.recordUses([
                created.record.id: later, APIKeyID("key_" + String(repeating: "5", count: 24))!: later,
            ])
            try await store.recordUses([created.record.id: Date(timeIntervalSince1970: 1_790_000_040)])
            #expect(try await store.record(withID: created.record.id)?.lastUsedAt == later)
        }
    }

    @Test("A row edited by hand into an impossible state is a typed error, not a crash")
    func corruptRow() async throws {
        let fixture = try PostgresFixture()
        let (record, key) = try fullRecord()
        try await fixture.withStore { store in
            try await store.insert(record)
            try fixture.psql("UPDATE sentry_auth_keys SET scopes = 'admin:everything' WHERE id = '\(record.id)'")
            await #expect(throws: PostgresKeyStoreError.self) { try await store.record(forDigest: key.digest) }
            do {
                _ = try await store.record(forDigest: key.digest)
            } catch {
                #expect("\(error)".hasPrefix("The key record \(record.id) in PostgreSQL is invalid: scopes"))
            }
        }
    }

    @Test("URLs: parsed, and the password never printed")
    func urls() throws {
        let url = try PostgresURL("postgresql://sentry:p%40ss@[::1]:6543/keys")
        #expect(url.host == "::1" && url.port == 6543 && url.username == "sentry" && url.password == "p@ss")
        #expect(url.database == "keys" && url.description == "postgres://sentry:***@[::1]:6543/keys")
        // The user and the database are decoded by the same rule as the password (and as Redis URLs).
        let escaped = try PostgresURL("postgres://svc%40corp%3Aa:pw@db/my%2Fkeys")
        #expect(escaped.username == "svc@corp:a" && escaped.password == "pw" && escaped.database == "my/keys")
        #expect(escaped.description == "postgres://svc%40corp%3Aa:***@db:5432/my%2Fkeys")
        #expect(try PostgresURL(escaped.description.replacingOccurrences(of: "***", with: "pw")) == escaped)
        for bad in [
            "mysql://a@b/c", "postgres://b/c", "postgres://a@b", "postgres://a@b:0/c",
            "postgres://a:secretpw%zz@b/c", "postgres://a%zz:secretpw@b/c", "postgres://a:secretpw@b/c?sslmode=prefer",
            "postgres://a:secretpw@b/c?sslmode=allow", "postgres://a:secretpw@b/c?sslmode=verify",
            "postgres://a:secretpw@b/c?sslcert=x.pem", "postgres://a:secretpw@b/c?sslrootcert=/etc/ssl/ca.pem",
            "postgres://a:secretpw@b/c?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ] {
            #expect(throws: PostgresKeyStoreError.self) { try PostgresURL(bad) }
            do { _ = try PostgresURL(bad) } catch { #expect(!"\(error)".contains("secretpw")) }
        }
        // libpq's TLS modes; the description says them and reads back as the same URL.
        #expect(try PostgresURL("postgres://a@b/c").tlsMode == .disable)
        for mode in PostgresURL.TLSMode.allCases where mode != .disable {
            let url = try PostgresURL("postgres://a:pw@b/c?sslmode=\(mode.rawValue)")
            #expect(url.tlsMode == mode && url.rootCertificatePath == nil)
            #expect(url.description == "postgres://a:***@b:5432/c?sslmode=\(mode.rawValue)")
            #expect(try PostgresURL(url.description.replacingOccurrences(of: "***", with: "pw")) == url)
        }
        #expect(try PostgresURL("postgres://a@b/c?sslmode=disable").description == "postgres://a@b:5432/c")
    }
}
