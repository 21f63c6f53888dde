import Foundation
import Testing

@testable import SentryAuth
import SentryAuthTesting

/// A manager over a fresh in-memory store, with a manual clock at `testEpoch`.
struct LifecycleFixture {
    let store = InMemoryKeyStore()
    var clock = ManualWallClock(testEpoch)
    var manager: KeyManager<InMemoryKeyStore> { KeyManager(store: store, clock: clock) }

    /// The stored record's exact JSON bytes, to prove a refused call changed nothing.
    func storedBytes(_ id: APIKeyID) async throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(try #require(await store.record(withID: id)))
    }
}

@Suite("Key lifecycle")
struct KeyManagerTests {
    @Test("create returns the secret once; the record holds digest and hint, never the key")
    func create() async throws {
        let fixture = LifecycleFixture()
        let created = try await fixture.manager.create(
            for: .acme, name: "Reminder job", scopes: [.invoiceRead, .invoiceRemind])
        let secret = created.key.revealSecret()
        #expect(created.record.digest == KeyDigest.SHA256.hash(Array(secret.utf8)))
        #expect(created.record.displayHint == "sntr_…" + secret.suffix(4))
        #expect(created.record.scopes == [.invoiceRead, .invoiceRemind])
        #expect(created.record.rateLimit == .default)
        #expect(created.record.createdAt == testEpoch)
        #expect(try await fixture.manager.verify(secret) == .valid(created.record))
        let json = String(decoding: try JSONEncoder().encode(fixture.store.allRecords), as: UTF8.self)
        #expect(!json.contains(String(secret.dropFirst(5).prefix(28))))
        var dumped = ""
        dump(fixture.store, to: &dumped)
        dump(fixture.store.allRecords, to: &dumped)
        #expect(!dumped.contains(String(secret.dropFirst(5).prefix(28))))
    }

    @Test("create refuses empty names and expiry not after creation")
    func createValidation() async throws {
        let manager = LifecycleFixture().manager
        await #expect(throws: KeyLifecycleError.invalidName) {
            try await manager.create(for: .acme, name: "", scopes: [])
        }
        await #expect(throws: KeyLifecycleError.invalidExpiry) {
            try await manager.create(for: .acme, name: "x", scopes: [], expiresAt: testEpoch)
        }
    }

    @Test("verify: unknown, malformed, revoked and expired keys are rejected")
    func verification() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let created = try await manager.create(
            for: .acme, name: "k", scopes: [.salesRead], expiresAt: testEpoch.addingTimeInterval(3600))
        #expect(try await manager.verify(APIKey.generate()) == .rejected(.unknown))
        #expect(try await manager.verify("sntr_short") == .rejected(.malformed(.wrongLength(expected: 37, actual: 10))))
        fixture.clock.advance(by: .seconds(3599))
        #expect(try await manager.verify(created.key) == .valid(created.record))
        fixture.clock.advance(by: .seconds(1))
        #expect(try await manager.verify(created.key) == .rejected(.expired))
        let second = try await manager.create(for: .acme, name: "k2", scopes: [.salesRead])
        try await manager.revoke(second.record.id)
        #expect(try await manager.verify(second.key) == .rejected(.revoked))
    }

    @Test("revoke is immediate, final and idempotent")
    func revoke() async throws {
        let fixture = LifecycleFixture()
        let created = try await fixture.manager.create(for: .acme, name: "k", scopes: [.salesRead])
        let revoked = try await fixture.manager.revoke(created.record.id)
        #expect(revoked.revokedAt == testEpoch)
        fixture.clock.advance(by: .seconds(10))
        #expect(try await fixture.manager.revoke(created.record.id).revokedAt == testEpoch)
        await #expect(throws: KeyLifecycleError.keyRevoked(created.record.id)) {
            try await fixture.manager.restrict(created.record.id, to: [])
        }
        let missing = APIKeyID.generate()
        await #expect(throws: KeyLifecycleError.keyNotFound(missing)) { try await fixture.manager.revoke(missing) }
    }

    @Test("restrict narrows; adding any scope is refused and leaves the record byte-for-byte unchanged")
    func restrict() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let created = try await manager.create(for: .acme, name: "k", scopes: [.customerRead, .customerWrite])
        let id = created.record.id
        let before = try await fixture.storedBytes(id)
        for attempt: ScopeSet in [
            [.customerRead, .invoiceRead], [.salesRead], .all, [.customerWrite, .customerRead, .invoiceRemind],
        ] {
            await #expect(throws: KeyLifecycleError.scopeEscalation(attempt.subtracting(created.record.scopes))) {
                try await manager.restrict(id, to: attempt)
            }
            #expect(try await fixture.storedBytes(id) == before)
        }
        let catalog = try ScopeCatalog(["customer:read", "customer:write", "customer:delete"])
        await #expect(throws: KeyLifecycleError.self) {
            try await manager.restrict(id, to: try ScopeSet(parsing: "customer:delete", in: catalog))
        }
        #expect(try await fixture.storedBytes(id) == before)
        #expect(try await manager.restrict(id, to: [.customerWrite]).scopes == [.customerWrite])
        #expect(try await manager.verify(created.key) == .valid(try #require(await fixture.store.record(withID: id))))
        await #expect(throws: KeyLifecycleError.scopeEscalation([.customerRead])) {
            try await manager.restrict(id, to: [.customerRead])
        }
        #expect(try await manager.restrict(id, to: []).scopes.isEmpty)
    }

    @Test("mint on behalf: at most the parent's scopes, its merchant, never outliving it")
    func mint() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let parentExpiry = testEpoch.addingTimeInterval(86_400)
        let parent = try await manager.create(
            for: .globex, name: "parent", scopes: [.invoiceRead, .invoiceRemind], expiresAt: parentExpiry)
        let countBefore = fixture.store.allRecords.count
        await #expect(throws: KeyLifecycleError.scopeEscalation([.invoiceWrite])) {
            try await manager.mint(onBehalfOf: parent.record.id, name: "child", scopes: [.invoiceRead, .invoiceWrite])
        }
        #expect(fixture.store.allRecords.count == countBefore)
        let child = try await manager.mint(
            onBehalfOf: parent.record.id, name: "child", scopes: [.invoiceRemind],
            expiresAt: testEpoch.addingTimeInterval(7 * 86_400))
        #expect(child.record.merchantID == .globex)
        #expect(child.record.parentID == parent.record.id)
        #expect(child.record.scopes == [.invoiceRemind])
        #expect(child.record.expiresAt == parentExpiry)
        try await manager.revoke(parent.record.id)
        await #expect(throws: KeyLifecycleError.keyRevoked(parent.record.id)) {
            try await manager.mint(onBehalfOf: parent.record.id, name: "late", scopes: [])
        }
    }

    @Test("roll: new key copies merchant, scopes and limit; old key works for the grace period")
    func roll() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let limit = try RateLimit(limit: 5, window: .seconds(10))
        let old = try await manager.create(for: .acme, name: "web", scopes: [.customerRead], rateLimit: limit)
        let new = try await manager.roll(old.record.id, grace: .seconds(300))
        #expect(new.record.merchantID == old.record.merchantID)
        #expect(new.record.scopes == old.record.scopes)
        #expect(new.record.rateLimit == limit)
        #expect(new.record.name == "web")
        #expect(new.key != old.key)
        let rolledOld = try #require(await fixture.store.record(withID: old.record.id))
        #expect(rolledOld.graceEndsAt == testEpoch.addingTimeInterval(300) && rolledOld.expiresAt == nil)
        #expect(rolledOld.successorID == new.record.id && new.previous == rolledOld)
        #expect(new.record.expiresAt == nil && new.record.graceEndsAt == nil)
        fixture.clock.advance(by: .seconds(299))
        #expect(
            try await manager.verify(old.key) == .valid(try #require(await fixture.store.record(withID: old.record.id)))
        )
        fixture.clock.advance(by: .seconds(1))
        #expect(try await manager.verify(old.key) == .rejected(.expired))
        #expect(try await manager.verify(new.key) == .valid(new.record))
    }

    @Test("roll with grace 0 stops the old key now")
    func rollGraceZero() async throws {
        let fixture = LifecycleFixture()
        let old = try await fixture.manager.create(for: .acme, name: "k", scopes: [.salesRead])
        let new = try await fixture.manager.roll(old.record.id)
        #expect(try await fixture.manager.verify(old.key) == .rejected(.expired))
        #expect(try await fixture.manager.verify(new.key) == .valid(new.record))
    }

    @Test("roll never extends the old key past its own expiry")
    func rollGracePastExpiry() async throws {
        let fixture = LifecycleFixture()
        let expiry = testEpoch.addingTimeInterval(60)
        let old = try await fixture.manager.create(for: .acme, name: "k", scopes: [.salesRead], expiresAt: expiry)
        let new = try await fixture.manager.roll(old.record.id, grace: .seconds(3600))
        #expect(await fixture.store.record(withID: old.record.id)?.expiresAt == expiry)
        #expect(await fixture.store.record(withID: old.record.id)?.stopsWorkingAt == expiry)
        #expect(new.record.expiresAt == expiry)
    }

    @Test("Rolling twice in a grace period: the new key never inherits the grace deadline; a second roll is refused")
    func rollTwice() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let expiry = testEpoch.addingTimeInterval(86_400)
        let original = try await manager.create(for: .acme, name: "k", scopes: [.salesRead], expiresAt: expiry)
        let first = try await manager.roll(original.record.id, grace: .seconds(5))
        #expect(first.record.expiresAt == expiry && first.record.graceEndsAt == nil)
        #expect(first.previous.stopsWorkingAt == testEpoch.addingTimeInterval(5))
        // The defect: rolling the old key again gave the new key the 5 s deadline as its expiry.
        let stored = try await fixture.storedBytes(original.record.id)
        let count = fixture.store.allRecords.count
        await #expect(throws: KeyLifecycleError.alreadyRolled(original.record.id, successor: first.record.id)) {
            try await manager.roll(original.record.id, grace: .seconds(3600))
        }
        #expect(try await fixture.storedBytes(original.record.id) == stored)
        #expect(fixture.store.allRecords.count == count)
        // Rolling the successor works, and its successor keeps the original expiry too.
        fixture.clock.advance(by: .seconds(2))
        let second = try await manager.roll(first.record.id, grace: .seconds(3600))
        #expect(second.record.expiresAt == expiry && second.record.graceEndsAt == nil)
        #expect(second.previous.stopsWorkingAt == testEpoch.addingTimeInterval(3602))
        fixture.clock.advance(by: .seconds(10))
        #expect(try await manager.verify(original.key) == .rejected(.expired))
        #expect(try await manager.verify(first.key) == .valid(second.previous))
        #expect(try await manager.verify(second.key) == .valid(second.record))
        let message = KeyLifecycleError.alreadyRolled(original.record.id, successor: first.record.id).description
        #expect(
            message
                == "Key \(original.record.id) was already rolled into \(first.record.id); roll \(first.record.id) instead."
        )
    }

    @Test("A second roll with no grace, and every loser of a roll race, is told the successor, not 'expired'")
    func rollAgainNamesTheSuccessor() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let original = try await manager.create(for: .acme, name: "k", scopes: [.salesRead])
        let first = try await manager.roll(original.record.id)  // grace 0: the old key stops at once
        await #expect(throws: KeyLifecycleError.alreadyRolled(original.record.id, successor: first.record.id)) {
            try await manager.roll(original.record.id)
        }
        // Eight concurrent rolls of one key: one wins, every other names the winner; nothing else is kept.
        let target = try await manager.create(for: .acme, name: "race", scopes: [.salesRead])
        let outcomes = await withTaskGroup(of: Result<APIKeyID, KeyLifecycleError>.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do {
                        return .success(try await manager.roll(target.record.id).record.id)
                    } catch let error as KeyLifecycleError {
                        return .failure(error)
                    } catch {
                        return .failure(.invalidName)  // not expected: fails the test below
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        for case .failure(let error) in outcomes {
            #expect(error == .alreadyRolled(target.record.id, successor: winner))
        }
        #expect(fixture.store.allRecords.filter { $0.name == "race" }.count == 2, "the old key and one successor")
    }

    @Test("A rolled key's grace ends at its own expiry; minting from it never outlives it")
    func rollThenMint() async throws {
        let fixture = LifecycleFixture()
        let parent = try await fixture.manager.create(for: .acme, name: "p", scopes: [.salesRead, .customerRead])
        let rolled = try await fixture.manager.roll(parent.record.id, grace: .seconds(30))
        let child = try await fixture.manager.mint(onBehalfOf: parent.record.id, name: "c", scopes: [.salesRead])
        #expect(child.record.expiresAt == rolled.previous.stopsWorkingAt)
        #expect(child.record.expiresAt == testEpoch.addingTimeInterval(30))
    }

    @Test(
        "Names: 1 to 100 printable characters; control, formatting and separator characters are refused",
        arguments: [
            ("Invoice reminders", true), (String(repeating: "é", count: 100), true), ("Zahlungen — Büro 2", true),
            ("", false), (" leading", false), ("trailing ", false), (String(repeating: "a", count: 101), false),
            ("two\nlines", false), ("tab\there", false), ("bell\u{07}", false), ("ansi \u{1B}[31mred", false),
            ("del\u{7F}", false), ("c1\u{85}", false), ("rtl \u{202E}gnp.exe", false), ("zero\u{200B}width", false),
            ("line\u{2028}sep", false),
        ])
    func names(name: String, valid: Bool) async throws {
        #expect(KeyManager<InMemoryKeyStore>.isValidName(name) == valid)
        let fixture = LifecycleFixture()
        if valid {
            #expect(try await fixture.manager.create(for: .acme, name: name, scopes: [.salesRead]).record.name == name)
        } else {
            await #expect(throws: KeyLifecycleError.invalidName) {
                try await fixture.manager.create(for: .acme, name: name, scopes: [.salesRead])
            }
            #expect(fixture.store.allRecords.isEmpty)
        }
    }

    @Test("Times are kept to the millisecond: a half-second grace ends half a second later")
    func milliseconds() async throws {
        let start = Date(timeIntervalSince1970: 1_767_225_600.123_456)
        let fixture = LifecycleFixture(clock: ManualWallClock(start))
        let created = try await fixture.manager.create(for: .acme, name: "k", scopes: [.salesRead])
        #expect(created.record.createdAt == Date(timeIntervalSince1970: 1_767_225_600.123))
        let rolled = try await fixture.manager.roll(created.record.id, grace: .milliseconds(500))
        #expect(rolled.previous.graceEndsAt == Date(timeIntervalSince1970: 1_767_225_600.623))
        fixture.clock.advance(by: .milliseconds(400))
        #expect(try await fixture.manager.verify(created.key) == .valid(rolled.previous))
        fixture.clock.advance(by: .milliseconds(100))
        #expect(try await fixture.manager.verify(created.key) == .rejected(.expired))
    }

    @Test("revoked, expired and missing keys cannot be rolled, and nothing is created")
    func rollRefusals() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let revoked = try await manager.create(for: .acme, name: "r", scopes: [.salesRead])
        try await manager.revoke(revoked.record.id)
        let expiring = try await manager.create(
            for: .acme, name: "e", scopes: [.salesRead], expiresAt: testEpoch.addingTimeInterval(1))
        fixture.clock.advance(by: .seconds(1))
        let count = fixture.store.allRecords.count
        await #expect(throws: KeyLifecycleError.keyRevoked(revoked.record.id)) {
            try await manager.roll(revoked.record.id)
        }
        await #expect(throws: KeyLifecycleError.keyExpired(expiring.record.id)) {
            try await manager.roll(expiring.record.id)
        }
        await #expect(throws: KeyLifecycleError.invalidGracePeriod) {
            try await manager.roll(expiring.record.id, grace: .seconds(-1))
        }
        #expect(fixture.store.allRecords.count == count)
    }

    @Test("Concurrent restricts and a revoke on one key: the final record is revoked and only ever narrowed")
    func concurrentUpdates() async throws {
        let fixture = LifecycleFixture()
        let manager = fixture.manager
        let created = try await manager.create(for: .acme, name: "k", scopes: .all)
        let id = created.record.id
        await withTaskGroup(of: Void.self) { group in
            for scope in ScopeCatalog.sentry.scopes {
                group.addTask {
                    var narrowed = ScopeSet.all
                    narrowed.remove(scope)
                    // Some of these lose to the revoke; each either narrows or is refused whole.
                    _ = try? await manager.restrict(id, to: ScopeSet.all.intersection(narrowed))
                }
            }
            group.addTask { _ = try? await manager.revoke(id) }
        }
        let final = try #require(await fixture.store.record(withID: id))
        #expect(final.revokedAt != nil)
        #expect(final.scopes.isSubset(of: .all))
    }
}

/// A store whose conditional update always reports that the record changed underneath.
struct AlwaysConflictingStore: KeyStore {
    let base = InMemoryKeyStore()
    func record(forDigest digest: KeyDigest) async throws -> KeyRecord? { await base.record(forDigest: digest) }
    func record(withID id: APIKeyID) async throws -> KeyRecord? { await base.record(withID: id) }
    func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] {
        await base.records(forMerchant: merchantID)
    }
    func insert(_ record: KeyRecord) async throws { try await base.insert(record) }
    func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool { false }
    func remove(_ current: KeyRecord) async throws -> Bool { await base.remove(current) }
}

@Suite("Key lifecycle against a misbehaving store")
struct KeyManagerConflictTests {
    @Test("An update that keeps losing its compare-and-swap gives up with conflict, changing nothing")
    func conflict() async throws {
        let store = AlwaysConflictingStore()
        let manager = KeyManager(store: store, clock: ManualWallClock(testEpoch))
        let created = try await manager.create(for: .acme, name: "k", scopes: [.salesRead, .customerRead])
        await #expect(throws: KeyLifecycleError.conflict(created.record.id)) {
            try await manager.restrict(created.record.id, to: [.salesRead])
        }
        await #expect(throws: KeyLifecycleError.conflict(created.record.id)) {
            try await manager.revoke(created.record.id)
        }
        // A roll that cannot mark the old key takes its new key back: one record, unchanged.
        await #expect(throws: KeyLifecycleError.conflict(created.record.id)) {
            try await manager.roll(created.record.id, grace: .seconds(60))
        }
        #expect(store.base.allRecords == [created.record])
        #expect(
            KeyLifecycleError.conflict(created.record.id).description
                == "Key \(created.record.id) changed concurrently too many times; nothing was changed.")
    }
}

@Suite("Audit trail")
struct KeyAuditTests {
    @Test("Every lifecycle change leaves exactly one event, with the actor; refused or empty changes leave none")
    func oneEventPerChange() async throws {
        let store = InMemoryKeyStore()
        let clock = ManualWallClock(testEpoch)
        let manager = KeyManager(store: store, clock: clock, actor: "ops@acme")
        let created = try await manager.create(for: .acme, name: "k", scopes: [.salesRead, .customerRead])
        let id = created.record.id
        func kinds(_ id: APIKeyID) async -> [String] { await store.events(forKey: id).map(\.kind.rawValue) }
        #expect(await kinds(id) == ["created"])
        await #expect(throws: KeyLifecycleError.self) { try await manager.restrict(id, to: [.invoiceWrite]) }
        try await manager.restrict(id, to: [.salesRead, .customerRead])  // no change: no event
        #expect(await kinds(id) == ["created"])
        clock.advance(by: .seconds(1))
        try await manager.restrict(id, to: [.salesRead])
        let restricted = try #require(await store.events(forKey: id).last)
        #expect(restricted.scopesBefore == "customer:read,sales:read" && restricted.scopesAfter == "sales:read")
        #expect(restricted.actor == "ops@acme" && restricted.time == testEpoch.addingTimeInterval(1))
        let child = try await manager.mint(onBehalfOf: id, name: "child", scopes: [.salesRead])
        #expect(await store.events(forKey: child.record.id).map(\.related) == [id])
        #expect(await kinds(child.record.id) == ["minted"])
        let rolled = try await manager.roll(id, grace: .seconds(60))
        #expect(await kinds(id) == ["created", "restricted", "rolled"])
        #expect(await store.events(forKey: id).last?.related == rolled.record.id)
        #expect(await kinds(rolled.record.id) == ["rolled-from"])
        #expect(await store.events(forKey: rolled.record.id).first?.related == id)
        try await manager.revoke(rolled.record.id)
        try await manager.revoke(rolled.record.id)  // already revoked: no change, no event
        #expect(await kinds(rolled.record.id) == ["rolled-from", "revoked"])
        let imported = try await manager.importKey(
            try APIKey(parsing: "sntr_abcdefghijklmnopqrstuvwxyz123456", format: .sentryAcceptingLegacyKeys),
            for: .acme, name: "legacy", scopes: [.salesRead])
        #expect(await kinds(imported.id) == ["imported"])
        // Every event names its merchant and none holds a key or digest.
        let all = await [id, child.record.id, rolled.record.id, imported.id].asyncFlatMap {
            await store.events(forKey: $0)
        }
        #expect(all.count == 7 && all.allSatisfy { $0.merchantID == .acme })
        let text = String(decoding: try JSONEncoder().encode(all), as: UTF8.self)
        for secret in [created.key, child.key, rolled.key].map({ $0.revealSecret() }) {
            #expect(!text.contains(secret.dropFirst(5).prefix(12)))
        }
        #expect(!text.contains(created.record.digest.hex.prefix(16)))
    }

    @Test("A key store file keeps events in the same file and write as the change; a roll lost to a race leaves none")
    func fileStore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("keys.json").path
        let manager = KeyManager(store: FileKeyStore(path: path), actor: "cli")
        let created = try await manager.create(for: .acme, name: "k", scopes: [.salesRead])
        try await manager.revoke(created.record.id)
        let reopened = FileKeyStore(path: path)
        #expect(try await reopened.events(forKey: created.record.id).map(\.kind) == [.created, .revoked])
        #expect(try reopened.allEvents().count == 2)
        // A record taken back (what a roll that lost its race does) takes its events with it.
        let other = try await manager.create(for: .acme, name: "o", scopes: [.salesRead])
        #expect(try await reopened.remove(other.record))
        #expect(try await reopened.events(forKey: other.record.id).isEmpty)
        #expect(try reopened.allEvents().count == 2)
    }
}

extension Array {
    func asyncFlatMap<T>(_ transform: (Element) async -> [T]) async -> [T] {
        var result: [T] = []
        for element in self { result += await transform(element) }
        return result
    }
}
