import Foundation
import PostgresNIO
import SentryAuth

extension PostgresKeyStore {
    /// A key record as the table's columns: times in milliseconds since 1970, the digest as bytes,
    /// the allowlist as its prefixes' text, the scopes as the documentation's list.
    struct Row: Sendable {
        let id: String
        let digest: ByteBuffer
        let merchantID: String
        let name: String
        let scopes: String
        let allowlist: [String]
        let rateLimit: Int
        let rateWindow: Int64
        let createdAt: Int64
        let expiresAt: Int64?
        let graceEndsAt: Int64?
        let successorID: String?
        let lastUsedAt: Int64?
        let revokedAt: Int64?
        let displayHint: String
        let parentID: String?

        init(_ record: KeyRecord) {
            id = record.id.rawValue
            digest = ByteBuffer(bytes: record.digest.bytes)
            merchantID = record.merchantID.rawValue
            name = record.name
            scopes = record.scopes.formatted
            allowlist = record.allowlist.prefixes.map(\.description)
            rateLimit = record.rateLimit.limit
            rateWindow =
                Int64(record.rateLimit.window.components.seconds * 1000)
                + record.rateLimit.window.components.attoseconds / 1_000_000_000_000_000
            createdAt = Self.milliseconds(record.createdAt)
            expiresAt = record.expiresAt.map(Self.milliseconds)
            graceEndsAt = record.graceEndsAt.map(Self.milliseconds)
            successorID = record.successorID?.rawValue
            lastUsedAt = record.lastUsedAt.map(Self.milliseconds)
            revokedAt = record.revokedAt.map(Self.milliseconds)
            displayHint = record.displayHint
            parentID = record.parentID?.rawValue
        }

        /// Milliseconds since 1970, as every store keeps times.
        static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

        static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

        /// Reads `PostgresKeyStore.columns`, checking every value: a row edited by hand into an
        /// impossible state is a ``PostgresKeyStoreError/corruptRecord(id:detail:)``, never a crash.
        static func record(from row: PostgresRow) throws -> KeyRecord {
            let cells = row.makeRandomAccess()
            let idText = try cells[0].decode(String.self)
            func corrupt(_ detail: String) -> PostgresKeyStoreError { .corruptRecord(id: idText, detail: detail) }
            guard let id = APIKeyID(idText) else { throw corrupt("the identifier") }
            var digestBytes = try cells[1].decode(ByteBuffer.self)
            guard let bytes = digestBytes.readBytes(length: digestBytes.readableBytes),
                let digest = KeyDigest(bytes: bytes)
            else { throw corrupt("the digest") }
            guard let merchantID = MerchantID(try cells[2].decode(String.self)) else { throw corrupt("merchant_id") }
            let scopes: ScopeSet
            do {
                scopes = try ScopeSet(parsing: try cells[4].decode(String.self))
            } catch {
                throw corrupt("scopes: \(error)")
            }
            let allowlist: IPAllowlist
            do {
                allowlist = try IPAllowlist(parsing: try cells[5].decode([String].self))
            } catch {
                throw corrupt("allowlist: \(error)")
            }
            let rateLimit: RateLimit
            do {
                rateLimit = try RateLimit(
                    limit: try cells[6].decode(Int.self), window: .milliseconds(try cells[7].decode(Int64.self)))
            } catch {
                throw corrupt("rate_limit or rate_window_ms: \(error)")
            }
            func optionalID(_ index: Int, _ column: String) throws -> APIKeyID? {
                guard let text = try cells[index].decode(String?.self) else { return nil }
                guard let id = APIKeyID(text) else { throw corrupt(column) }
                return id
            }
            return KeyRecord(
                id: id, merchantID: merchantID, name: try cells[3].decode(String.self), scopes: scopes,
                allowlist: allowlist, rateLimit: rateLimit, createdAt: date(try cells[8].decode(Int64.self)),
                expiresAt: try cells[9].decode(Int64?.self).map(date),
                revokedAt: try cells[13].decode(Int64?.self).map(date),
                displayHint: try cells[14].decode(String.self), digest: digest,
                parentID: try optionalID(15, "parent_id"),
                graceEndsAt: try cells[10].decode(Int64?.self).map(date),
                successorID: try optionalID(11, "successor_id"),
                lastUsedAt: try cells[12].decode(Int64?.self).map(date))
        }
    }
}
