import Foundation
import Testing

@testable import SentryAuth
import SentryAuthTesting

@Suite("File key store")
struct FileKeyStoreTests {
    static func temporaryPath() throws -> (directory: String, file: String) {
        let directory = NSTemporaryDirectory() + "sentry-auth-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (directory, directory + "/keys.json")
    }

    @Test("Round trip: every lifecycle change survives reopening the file, which holds no key")
    func roundTrip() async throws {
        let (directory, path) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let manager = KeyManager(store: FileKeyStore(path: path), clock: ManualWallClock(testEpoch))
        let first = try await manager.create(
            for: .acme, name: "web", scopes: [.customerRead, .salesRead],
            allowlist: try IPAllowlist(parsing: ["10.0.0.0/8"]),
            rateLimit: try RateLimit(limit: 5, window: .seconds(10)), expiresAt: testEpoch.addingTimeInterval(86_400))
        let second = try await manager.create(for: .globex, name: "pos", scopes: .all)
        try await manager.restrict(first.record.id, to: [.salesRead])
        try await manager.revoke(second.record.id)
        let rolled = try await manager.roll(first.record.id, grace: .seconds(60))

        let reopened = FileKeyStore(path: path)
        let records = try reopened.allRecords()
        #expect(records.count == 3)
        let old = try #require(try await reopened.record(withID: first.record.id))
        #expect(old.scopes == [.salesRead])
        #expect(old.allowlist == (try IPAllowlist(parsing: ["10.0.0.0/8"])))
        #expect(old.rateLimit == (try RateLimit(limit: 5, window: .seconds(10))))
        #expect(old.expiresAt == testEpoch.addingTimeInterval(86_400))
        #expect(old.graceEndsAt == testEpoch.addingTimeInterval(60) && old.successorID == rolled.record.id)
        #expect(try await reopened.record(withID: second.record.id)?.revokedAt == testEpoch)
        #expect(try await reopened.record(forDigest: rolled.key.digest) == rolled.record)
        #expect(try await reopened.records(forMerchant: .globex).map(\.id) == [second.record.id])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for secret in [first.key, second.key, rolled.key].map({ $0.revealSecret() }) {
            #expect(!text.contains(String(secret.dropFirst(5))))
        }
        #expect(text.contains("\"version\" : 1"))
    }

    @Test("A missing file is an empty store; a refused escalation leaves the file byte-for-byte unchanged")
    func missingAndUnchanged() async throws {
        let (directory, path) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = FileKeyStore(path: path)
        #expect(try store.allRecords().isEmpty)
        #expect(try await store.record(forDigest: APIKey.generate().digest) == nil)
        let manager = KeyManager(store: store)
        let created = try await manager.create(for: .acme, name: "k", scopes: [.salesRead])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        await #expect(throws: KeyLifecycleError.scopeEscalation([.customerRead])) {
            try await manager.restrict(created.record.id, to: [.salesRead, .customerRead])
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test(
        "A corrupted file is a clear error and is never replaced or emptied",
        arguments: [
            "", "{", "not json", #"{"version": 1}"#, #"{"version": 2, "records": []}"#,
            #"{"version": 1, "records": [{"id": "key_1"}]}"#,
            #"{"version": 1, "records": [], "#,
        ])
    func corrupted(contents: String) async throws {
        let (directory, path) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        let store = FileKeyStore(path: path)
        #expect(throws: FileKeyStoreError.self) { try store.allRecords() }
        await #expect(throws: FileKeyStoreError.self) {
            try await KeyManager(store: store).create(for: .acme, name: "k", scopes: [])
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
        do {
            _ = try store.allRecords()
        } catch {
            #expect("\(error)".contains("is corrupted"))
            #expect("\(error)".contains("left untouched"))
        }
    }

    @Test("An unreadable path is a clear error")
    func unreadable() async throws {
        let (directory, _) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = FileKeyStore(path: directory)  // a directory, not a file
        #expect(throws: FileKeyStoreError.self) { try store.allRecords() }
        let nowhere = FileKeyStore(path: "/nonexistent-dir-\(UUID().uuidString)/keys.json")
        await #expect(throws: FileKeyStoreError.self) {
            try await KeyManager(store: nowhere).create(for: .acme, name: "k", scopes: [])
        }
    }

    @Test("Concurrent writers in one process lose nothing")
    func concurrentWriters() async throws {
        let (directory, path) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let manager = KeyManager(store: FileKeyStore(path: path))
        let ids = try await withThrowingTaskGroup(of: APIKeyID.self) { group in
            for index in 0..<40 {
                group.addTask { try await manager.create(for: .acme, name: "k\(index)", scopes: []).record.id }
            }
            return try await group.reduce(into: Set<APIKeyID>()) { $0.insert($1) }
        }
        #expect(Set(try FileKeyStore(path: path).allRecords().map(\.id)) == ids)
    }
}
