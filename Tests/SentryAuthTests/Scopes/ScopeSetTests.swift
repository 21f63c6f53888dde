import Foundation
import Testing

@testable import SentryAuth

@Suite("Scopes")
struct ScopeTests {
    @Test("The documented all-scopes list parses to all six, and formats back identically")
    func documentedList() throws {
        let documented = "customer:read,customer:write,invoice:read,invoice:write,invoice:remind,sales:read"
        let all = try ScopeSet(parsing: documented)
        #expect(all == ScopeSet.all)
        #expect(all.count == 6)
        #expect(all.formatted == documented)
        #expect(ScopeCatalog.sentry.scopes.map(\.name) == documented.split(separator: ",").map(String.init))
    }

    @Test("Formatting is canonical: catalog order, whatever the input order, duplicates and spaces")
    func canonicalFormatting() throws {
        let set = try ScopeSet(parsing: " sales:read , customer:read,sales:read")
        #expect(set.formatted == "customer:read,sales:read")
        #expect(set.scopes == [.customerRead, .salesRead])
        #expect(try ScopeSet(parsing: "") == [])
        #expect(try ScopeSet(parsing: "   ").isEmpty)
    }

    @Test(
        "List errors name the offending entry",
        arguments: [
            ("customer:read,refund:create", ScopeError.unknownScope("refund:create")),
            ("customer:read,customer:delete", .unknownScope("customer:delete")),
            ("customer:read,", .emptyEntry(position: 2)),
            (",customer:read", .emptyEntry(position: 1)),
            ("customer:read,,sales:read", .emptyEntry(position: 2)),
            ("customer", .malformedScope("customer")),
            ("Customer:read", .malformedScope("Customer:read")),
            ("customer:read:all", .malformedScope("customer:read:all")),
            ("customer read", .malformedScope("customer read")),
            ("customer:read;sales:read", .malformedScope("customer:read;sales:read")),
            (":read", .malformedScope(":read")),
            ("customer:", .malformedScope("customer:")),
            ("customer:réad", .malformedScope("customer:r??ad")),
        ])
    func listErrors(list: String, expected: ScopeError) {
        #expect(throws: expected) { try ScopeSet(parsing: list) }
    }

    @Test("Unknown-scope messages quote the name; long or binary input is cut and escaped")
    func errorMessages() {
        #expect(ScopeError.unknownScope("refund:create").description == "Unknown scope \"refund:create\".")
        let long = String(repeating: "a", count: 500)
        do {
            _ = try ScopeSet(parsing: long)
            Issue.record("accepted a 500-character scope")
        } catch {
            #expect(error.description.count < 120)
            #expect(error.description.contains("…"))
        }
        #expect(ScopeError.safeExcerpt("a\u{0}b\"c\n") == "a?b?c?")
    }

    @Test("Scope names: valid and invalid forms")
    func scopeNames() throws {
        for valid in ["a:b", "customer:read", "invoice:remind", "user_profile:read-all", "a1:b2"] {
            #expect(try Scope(valid).name == valid)
        }
        for invalid in [
            "", ":", "a:", ":b", "a::b", "1a:b", "a:_b", "A:b", "a:b ", " a:b", "a:b:c",
            String(repeating: "a", count: 33) + ":b",
        ] {
            #expect(throws: ScopeError.self) { try Scope(invalid) }
        }
        #expect(Scope.invoiceRemind.resource == "invoice")
        #expect(Scope.invoiceRemind.action == "remind")
    }

    @Test("No scope implies another: write does not grant read")
    func noImplication() {
        let write: ScopeSet = [.customerWrite]
        #expect(!write.contains(.customerRead))
        let read: ScopeSet = [.customerRead]
        #expect(!read.isSubset(of: write))
    }
}

@Suite("Scope sets")
struct ScopeSetTests {
    /// All 64 subsets of the six Sentry scopes, checked against a plain Set<String> oracle.
    @Test("Set algebra agrees with Set<String> on every pair of the 64 Sentry subsets")
    func setAlgebraOracle() throws {
        let names = ScopeCatalog.sentry.scopes.map(\.name)
        func oracle(_ bits: UInt64) -> Set<String> {
            Set(names.enumerated().filter { bits & (1 << UInt64($0.offset)) != 0 }.map(\.element))
        }
        for a in UInt64(0)..<64 {
            let left = ScopeSet(rawValue: a)
            #expect(Set(left.scopes.map(\.name)) == oracle(a))
            #expect(left.count == oracle(a).count)
            for b in UInt64(0)..<64 {
                let right = ScopeSet(rawValue: b)
                #expect(left.isSubset(of: right) == oracle(a).isSubset(of: oracle(b)))
                #expect(Set(left.union(right).map(\.name)) == oracle(a).union(oracle(b)))
                #expect(Set(left.intersection(right).map(\.name)) == oracle(a).intersection(oracle(b)))
                #expect(Set(left.subtracting(right).map(\.name)) == oracle(a).subtracting(oracle(b)))
                #expect(Set(left.symmetricDifference(right).map(\.name)) == oracle(a).symmetricDifference(oracle(b)))
                #expect((left == right) == (a == b))
            }
        }
    }

    @Test("insert, remove, update and literals")
    func mutation() {
        var set: ScopeSet = []
        #expect(set.insert(.invoiceRead).inserted)
        #expect(!set.insert(.invoiceRead).inserted)
        #expect(set.update(with: .salesRead) == nil)
        #expect(set.update(with: .salesRead) == .salesRead)
        #expect(set.remove(.invoiceRead) == .invoiceRead)
        #expect(set.remove(.invoiceRead) == nil)
        #expect(set == [.salesRead])
        #expect(set.rawValue == 1 << 5)
    }

    @Test("Custom catalogs: own scopes, at most 64, no duplicates")
    func customCatalogs() throws {
        let catalog = try ScopeCatalog(["orders:read", "orders:write", "refunds:create"])
        let set = try ScopeSet(parsing: "refunds:create,orders:read", in: catalog)
        #expect(set.formatted == "orders:read,refunds:create")
        #expect(ScopeSet.all(in: catalog).count == 3)
        #expect(throws: ScopeError.unknownScope("customer:read")) {
            try ScopeSet(parsing: "customer:read", in: catalog)
        }
        #expect(!set.contains(.customerRead))
        let sixtyFour = try ScopeCatalog((0..<64).map { try Scope("r\($0):read") })
        #expect(ScopeSet.all(in: sixtyFour).count == 64)
        #expect(throws: ScopeError.tooManyScopes(count: 65)) {
            try ScopeCatalog((0..<65).map { try Scope("r\($0):read") })
        }
        #expect(throws: ScopeError.duplicateScope("a:b")) { try ScopeCatalog(["a:b", "c:d", "a:b"]) }
        // A rebuilt catalog with the same scopes is the same catalog.
        #expect(try ScopeCatalog(["orders:read", "orders:write", "refunds:create"]) == catalog)
        // Sets of different catalogs compare by names; a foreign scope is never a subset.
        let other = try ScopeCatalog(["refunds:create", "orders:read"])
        let same = try ScopeSet(parsing: "orders:read,refunds:create", in: other)
        #expect(same == set)
        #expect(same.isSubset(of: set))
        let sentryRead: ScopeSet = [.customerRead]
        #expect(!sentryRead.isSubset(of: ScopeSet.all(in: catalog)))
    }

    @Test("Codable as a list of names, decoded in the catalog from userInfo")
    func codable() throws {
        let set: ScopeSet = [.salesRead, .customerWrite]
        let json = try JSONEncoder().encode(set)
        #expect(String(decoding: json, as: UTF8.self) == #"["customer:write","sales:read"]"#)
        #expect(try JSONDecoder().decode(ScopeSet.self, from: json) == set)
        #expect(throws: ScopeError.unknownScope("refund:create")) {
            try JSONDecoder().decode(ScopeSet.self, from: Data(#"["refund:create"]"#.utf8))
        }
        let catalog = try ScopeCatalog(["refund:create"])
        let decoder = JSONDecoder()
        decoder.userInfo[.scopeCatalog] = catalog
        let custom = try decoder.decode(ScopeSet.self, from: Data(#"["refund:create"]"#.utf8))
        #expect(custom.catalog == catalog)
        #expect(custom.count == 1)
    }
}
