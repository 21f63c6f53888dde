import Logging
import PostgresNIO

/// The key store's tables, as numbered migrations applied in order, each once.
///
/// `sentry_auth_schema` records the versions applied. Migrating takes a transaction-scoped advisory
/// lock first, so servers starting together migrate one at a time, and a database that is already
/// current is left untouched.
enum KeySchema {
    /// The advisory lock's key: any constant unlikely to collide with an application's own.
    static let lockKey: Int64 = 0x5345_4E54_5259  // "SENTRY"

    /// The `NOTIFY` channel every change to `sentry_auth_keys` is announced on.
    static let channel = "sentry_auth_key_changes"

    /// Each migration's statements (postgres-nio sends one statement per query).
    static let migrations: [[String]] = [
        // 1: keys, their audit events, the version bump and the change notification.
        [
            """
            CREATE TABLE sentry_auth_keys (
                id text PRIMARY KEY,
                digest bytea NOT NULL CHECK (octet_length(digest) = 32),
                merchant_id text NOT NULL,
                name text NOT NULL,
                scopes text NOT NULL,
                allowlist cidr[] NOT NULL DEFAULT '{}',
                rate_limit integer NOT NULL CHECK (rate_limit > 0),
                rate_window_ms bigint NOT NULL CHECK (rate_window_ms > 0),
                created_at timestamptz NOT NULL,
                expires_at timestamptz,
                grace_ends_at timestamptz,
                successor_id text,
                last_used_at timestamptz,
                revoked_at timestamptz,
                display_hint text NOT NULL,
                parent_id text,
                version bigint NOT NULL DEFAULT 1
            )
            """,
            "CREATE UNIQUE INDEX sentry_auth_keys_digest ON sentry_auth_keys (digest)",
            "CREATE INDEX sentry_auth_keys_merchant ON sentry_auth_keys (merchant_id, created_at, id)",
            """
            CREATE TABLE sentry_auth_key_events (
                sequence bigserial PRIMARY KEY,
                key_id text NOT NULL,
                merchant_id text NOT NULL,
                time timestamptz NOT NULL,
                actor text,
                kind text NOT NULL,
                related text,
                scopes_before text,
                scopes_after text
            )
            """,
            "CREATE INDEX sentry_auth_key_events_key ON sentry_auth_key_events (key_id, sequence)",
            // Every update, from this library or typed by hand, moves the version: the conditional
            // replace compares it.
            """
            CREATE FUNCTION sentry_auth_keys_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.version := OLD.version + 1;
                RETURN NEW;
            END
            $$
            """,
            """
            CREATE TRIGGER sentry_auth_keys_version BEFORE UPDATE ON sentry_auth_keys
            FOR EACH ROW EXECUTE FUNCTION sentry_auth_keys_bump_version()
            """,
            // Every change is announced, as "KEY-ID DIGEST-HEX", when its transaction commits; a
            // last-use update alone is not (caches need not drop a key for it).
            """
            CREATE FUNCTION sentry_auth_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                changed sentry_auth_keys%ROWTYPE;
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    changed := OLD;
                ELSE
                    changed := NEW;
                END IF;
                IF TG_OP = 'UPDATE'
                    AND to_jsonb(OLD) - 'last_used_at' - 'version' = to_jsonb(NEW) - 'last_used_at' - 'version' THEN
                    RETURN NULL;
                END IF;
                PERFORM pg_notify('sentry_auth_key_changes', changed.id || ' ' || encode(changed.digest, 'hex'));
                IF TG_OP = 'UPDATE' AND (OLD.id <> NEW.id OR OLD.digest <> NEW.digest) THEN
                    PERFORM pg_notify('sentry_auth_key_changes', OLD.id || ' ' || encode(OLD.digest, 'hex'));
                END IF;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER sentry_auth_keys_notify AFTER INSERT OR UPDATE OR DELETE ON sentry_auth_keys
            FOR EACH ROW EXECUTE FUNCTION sentry_auth_keys_notify()
            """,
        ]
    ]

    /// The newest version this build knows.
    static var currentVersion: Int { migrations.count }

    /// Applies the migrations the database lacks, in one transaction.
    ///
    /// - Returns: The versions applied (empty when the database was current).
    static func migrate(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await PostgresKeyStore.transaction(on: connection, logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS sentry_auth_schema (
                    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0) FROM sentry_auth_schema", logger: logger
            ).decode(Int.self) {
                applied = version
            }
            guard applied <= currentVersion else {
                throw PostgresKeyStoreError.schemaTooNew(found: applied, known: currentVersion)
            }
            var versions: [Int] = []
            for version in (applied + 1)...max(applied + 1, currentVersion) where version <= currentVersion {
                for statement in migrations[version - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO sentry_auth_schema (version) VALUES (\(version))", logger: logger)
                versions.append(version)
            }
            return versions
        }
    }
}
