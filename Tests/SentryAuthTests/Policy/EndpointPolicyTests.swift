import Foundation
import Testing

@testable import SentryAuth

@Suite("Endpoint policy: the built-in Sentry routes")
struct SentryPolicyTests {
    /// SPEC.md's table, written out independently of the implementation: method, path, needed scope.
    static let specTable: [(String, String, Scope)] = {
        let base = "/public/api/v1"
        var rows: [(String, String, Scope)] = []
        for (resource, read, write) in [
            ("customers", Scope.customerRead, Scope.customerWrite),
            ("invoices", .invoiceRead, .invoiceWrite),
        ] {
            for method in ["GET", "HEAD"] {
                rows.append((method, "\(base)/\(resource)", read))
                rows.append((method, "\(base)/\(resource)/id_123", read))
            }
            rows.append(("POST", "\(base)/\(resource)", write))
            for method in ["PUT", "PATCH", "DELETE"] { rows.append((method, "\(base)/\(resource)/id_123", write)) }
        }
        rows.append(("POST", "\(base)/invoices/inv_9/remind", .invoiceRemind))
        for method in ["GET", "HEAD"] {
            rows.append((method, "\(base)/sales", .salesRead))
            rows.append((method, "\(base)/sales/sale_7", .salesRead))
        }
        return rows
    }()

    @Test("Every built-in route × every single-scope key, the all-scopes key and the empty key")
    func routeByKeyTable() throws {
        #expect(Self.specTable.count == 21)
        let keys: [ScopeSet] = ScopeCatalog.sentry.scopes.map { [$0] } + [.all, []]
        for (method, path, needed) in Self.specTable {
            let match = try #require(EndpointPolicy.sentry.match(method: method, target: path), "\(method) \(path)")
            #expect(match.requiredScopes == [needed], "\(method) \(path)")
            for key in keys {
                let expected = key.contains(needed)
                #expect(match.isAllowed(held: key) == expected, "\(method) \(path) with \(key)")
                #expect(match.missingScopes(held: key) == (expected ? [] : [needed]))
            }
        }
    }

    @Test("Method and path combinations outside the table are refused")
    func unlistedCombinations() {
        let base = "/public/api/v1"
        let refused = [
            ("POST", "\(base)/customers/id_1"), ("PUT", "\(base)/customers"), ("DELETE", "\(base)/customers"),
            ("POST", "\(base)/sales"), ("DELETE", "\(base)/sales/s_1"), ("GET", "\(base)/invoices/i_1/remind"),
            ("OPTIONS", "\(base)/customers"), ("get", "\(base)/customers"), ("Get", "\(base)/customers"),
            ("GET", "\(base)"), ("GET", "/"), ("GET", "\(base)/refunds"), ("GET", "/public/api/v2/customers"),
            ("GET", "\(base)/customers/id_1/extra"), ("TRACE", "\(base)/customers"),
        ]
        for (method, path) in refused {
            #expect(EndpointPolicy.sentry.match(method: method, target: path) == nil, "\(method) \(path)")
        }
    }

    @Test("The query string is ignored; parameters are captured raw")
    func queryAndParameters() throws {
        let match = try #require(
            EndpointPolicy.sentry.match(method: "POST", target: "/public/api/v1/invoices/inv_%40x/remind?x=/../&y=%2F"))
        #expect(match.parameter("id") == "inv_%40x")
        #expect(match.parameter("nope") == nil)
        #expect(match.parameters.map(\.name) == ["id"])
        #expect(match.route.template == "/public/api/v1/invoices/{id}/remind")
        #expect(EndpointPolicy.sentry.match(method: "GET", target: "/public/api/v1/customers?") != nil)
    }

    /// Each of these is refused, whatever route it imitates (SPEC: a non-canonical path never matches).
    static let bypassAttempts: [String] = [
        // Dot segments
        "/public/api/v1/customers/../invoices", "/public/api/v1/invoices/../customers", "/public/api/v1/./customers",
        "/public/api/v1/customers/.", "/public/api/v1/customers/..", "/public/api/v1/sales/../../v1/customers",
        // Empty segments and trailing slashes
        "//public/api/v1/customers", "/public//api/v1/customers", "/public/api/v1//customers",
        "/public/api/v1/customers/", "/public/api/v1/customers//", "/public/api/v1/customers/id_1/",
        // Percent-encoding of '/', '.', letters, lowercase hex, malformed escapes
        "/public/api/v1/customers%2Fid_1", "/public/api/v1/customers%2fid_1", "/public/api/v1/%69nvoices",
        "/public/api/v1/invoices/%2e%2e", "/public/api/v1/invoices/%2E%2E/remind", "/public/api/v1/customers/%2E",
        "/public/api/v1/cust%6Fmers", "/public/api/v1/customers/id%5C1", "/public/api/v1/customers/id%2",
        "/public/api/v1/customers/id%",
        "/public/api/v1/customers/id%G1", "/public/api/v1/customers/id%00", "/public/api/v1/customers/id%0A",
        "/public/api/v1/customers/id%7f", "/public/api/v1/customers/%C3%A9",
        // Case changes
        "/public/api/v1/Customers", "/PUBLIC/api/v1/customers", "/public/api/V1/customers", "/public/api/v1/CUSTOMERS",
        // ';' parameters, backslashes, NUL, control bytes, spaces
        "/public/api/v1/customers;jsessionid=1", "/public/api/v1;x/customers", "/public/api/v1/customers/id_1;v=2",
        "/public/api/v1\\customers", "/public/api/v1/customers\\id_1", "/public/api/v1/customers\0",
        "/public/api/v1/customers/id\u{1}", "/public/api/v1/customers/id\t1", "/public/api/v1/customers/id 1",
        "/public/api/v1/customers/id\r\n", "/public/api/v1/customers\u{7f}",
        // Non-ASCII lookalikes (Cyrillic 'с', fullwidth solidus, combining dot, zero-width space)
        "/public/api/v1/\u{0441}ustomers", "/public/api/v1\u{FF0F}customers", "/public/api/v1/customers\u{0307}",
        "/public/api/v1/cust\u{200B}omers", "/public/api/v1/customers/id_\u{00E9}",
        // Not origin form, fragments
        "http://sandbox.sentrypos.app/public/api/v1/customers", "*", "public/api/v1/customers", "",
        "/public/api/v1/customers#frag", "/public/api/v1/customers/id_1#x",
        // A fragment after a query, and query bytes that cannot appear in a request-target
        "/public/api/v1/customers?x=1#frag", "/public/api/v1/customers?#", "/public/api/v1/customers/id_1?a=b#",
        "/public/api/v1/customers?q=a b", "/public/api/v1/customers?x=1\r\nX-Injected: 1",
        "/public/api/v1/customers?x=\n", "/public/api/v1/customers?x=\0", "/public/api/v1/customers?x=\u{7f}",
        "/public/api/v1/customers?q=\u{e9}", "/public/api/v1/customers?q=\t", "/public/api/v1/customers?\u{1b}[2J",
    ]

    @Test("Valid queries do not change the match: percent-encoding, sub-delims, '?' and '/' in the query")
    func validQueries() {
        for query in ["", "?", "?limit=10", "?q=a%20b&x=%C3%A9", "?a=/b/../c?d", "?x=[1]&y={2}|z", "?;=:@!$'()*+,"] {
            let match = EndpointPolicy.sentry.match(method: "GET", target: "/public/api/v1/customers/cus_1" + query)
            #expect(match?.route.template == "/public/api/v1/customers/{id}", "\(query)")
            #expect(match?.parameter("id") == "cus_1")
        }
    }

    @Test("Bypass attempts: non-canonical paths never match, for any method")
    func bypassTable() {
        #expect(Self.bypassAttempts.count >= 40)
        for target in Self.bypassAttempts {
            for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
                #expect(
                    EndpointPolicy.sentry.match(method: method, target: target) == nil,
                    "\(method) \(target.debugDescription)")
            }
        }
    }

    @Test("Paths of any length are refused without crashing, including 1 MiB")
    func hugePaths() {
        let long = "/public/api/v1/customers/" + String(repeating: "a", count: 1 << 20)
        #expect(EndpointPolicy.sentry.match(method: "GET", target: long) == nil)
        let manySegments = "/public/api/v1" + String(repeating: "/customers", count: 100_000)
        #expect(EndpointPolicy.sentry.match(method: "GET", target: manySegments) == nil)
        let justUnder =
            "/public/api/v1/customers/" + String(repeating: "a", count: EndpointPolicy.maximumTargetLength - 25)
        #expect(justUnder.utf8.count == EndpointPolicy.maximumTargetLength)
        #expect(EndpointPolicy.sentry.match(method: "GET", target: justUnder) != nil)
        #expect(EndpointPolicy.sentry.match(method: "GET", target: justUnder + "a") == nil)
        #expect(EndpointPolicy.sentry.match(method: String(repeating: "G", count: 1 << 20), target: "/") == nil)
    }
}

@Suite("Endpoint policy: building, precedence and JSON")
struct EndpointPolicyTests {
    @Test("Static segments win over parameters, and the choice is final (no backtracking)")
    func precedence() throws {
        let policy = try EndpointPolicy {
            EndpointPolicy.Route(.get, "/invoices/summary", requires: [.salesRead])
            EndpointPolicy.Route(.get, "/invoices/{id}", requires: [.invoiceRead])
            EndpointPolicy.Route(.post, "/invoices/{id}/remind", requires: [.invoiceRemind])
        }
        #expect(try #require(policy.match(method: "GET", target: "/invoices/summary")).requiredScopes == [.salesRead])
        #expect(try #require(policy.match(method: "GET", target: "/invoices/inv_1")).requiredScopes == [.invoiceRead])
        #expect(policy.match(method: "POST", target: "/invoices/summary/remind") == nil)
        #expect(policy.match(method: "POST", target: "/invoices/summary") == nil)
    }

    @Test("Property: over thousands of random policies, scope sets and routes, allowed ⇔ needed ⊆ held")
    func subsetProperty() throws {
        var random = SplitMix64(seed: 99)
        let catalog = try ScopeCatalog((0..<40).map { try Scope("r\($0):act") })
        var checked = 0
        for _ in 0..<50 {
            var routes: [EndpointPolicy.Route] = []
            var needed: [Set<String>] = []
            for index in 0..<20 {
                let bits = random.next() & random.next() & ((1 << 40) - 1)
                let scopes = ScopeSet(rawValue: bits, catalog: catalog)
                routes.append(EndpointPolicy.Route(.get, "/r\(index)/{id}", requires: scopes))
                needed.append(Set(scopes.map(\.name)))
            }
            let policy = try EndpointPolicy(catalog: catalog, routes: routes)
            for _ in 0..<100 {
                let index = Int(random.next() % 20)
                let held = ScopeSet(rawValue: random.next() | random.next(), catalog: catalog)
                let heldNames = Set(held.map(\.name))
                let match = try #require(policy.match(method: "GET", target: "/r\(index)/x"))
                #expect(match.isAllowed(held: held) == needed[index].isSubset(of: heldNames))
                #expect(Set(match.missingScopes(held: held).map(\.name)) == needed[index].subtracting(heldNames))
                checked += 1
            }
        }
        #expect(checked == 5_000)
    }

    @Test(
        "Building errors name the entry and the reason",
        arguments: [
            (
                [EndpointPolicy.Route(.get, "customers", requires: [])],
                EndpointPolicyError.malformedTemplate(entry: 0, template: "customers", reason: "it must start with '/'")
            ),
            (
                [EndpointPolicy.Route(.get, "/a", requires: []), EndpointPolicy.Route(.get, "/a/", requires: [])],
                .malformedTemplate(entry: 1, template: "/a/", reason: "it has an empty segment or a trailing '/'")
            ),
            (
                [EndpointPolicy.Route(.get, "/a/{id", requires: [])],
                .malformedTemplate(entry: 0, template: "/a/{id", reason: "a parameter is written {name}")
            ),
            (
                [EndpointPolicy.Route(.get, "/a/{1d}", requires: [])],
                .malformedTemplate(
                    entry: 0, template: "/a/{1d}",
                    reason: "a parameter name is letters, digits and '_', not starting with a digit")
            ),
            (
                [EndpointPolicy.Route(.get, "/a/{id}/{id}", requires: [])],
                .malformedTemplate(entry: 0, template: "/a/{id}/{id}", reason: "the parameter {id} appears twice")
            ),
            (
                [EndpointPolicy.Route(.get, "/a/../b", requires: [])],
                .malformedTemplate(entry: 0, template: "/a/../b", reason: "'.' and '..' segments are not allowed")
            ),
            (
                [EndpointPolicy.Route(.get, "/a b", requires: [])],
                .malformedTemplate(
                    entry: 0, template: "/a b",
                    reason: "a literal segment has only letters, digits, '-', '.', '_' and '~'")
            ),
            ([EndpointPolicy.Route([], "/a", requires: [])], .invalidMethod(entry: 0, method: "")),
            (
                [
                    EndpointPolicy.Route(.get, "/a", requires: []),
                    EndpointPolicy.Route([.post, .get], "/a", requires: []),
                ],
                .duplicateRoute(entry: 1, method: "GET", template: "/a")
            ),
            (
                [
                    EndpointPolicy.Route(.get, "/a/{id}", requires: []),
                    EndpointPolicy.Route(.put, "/a/{key}", requires: []),
                ],
                .conflictingTemplates(entry: 1, template: "/a/{key}", existing: "/a/{id}")
            ),
        ])
    func buildErrors(routes: [EndpointPolicy.Route], expected: EndpointPolicyError) {
        #expect(throws: expected) { try EndpointPolicy(routes: routes) }
    }

    @Test("A scope outside the policy's catalog is an error naming it")
    func unknownScopeInSwift() throws {
        let catalog = try ScopeCatalog(["orders:read"])
        #expect(throws: EndpointPolicyError.unknownScope(entry: 0, scope: "customer:read")) {
            try EndpointPolicy(catalog: catalog, routes: [EndpointPolicy.Route(.get, "/a", requires: [.customerRead])])
        }
    }

    @Test("JSON: the built-in policy round-trips and matches identically")
    func jsonRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(EndpointPolicy.sentry)
        let decoded = try EndpointPolicy(json: json)
        #expect(decoded.routes == EndpointPolicy.sentry.routes)
        #expect(try encoder.encode(decoded) == json)
        for (method, path, _) in SentryPolicyTests.specTable {
            #expect(
                decoded.match(method: method, target: path)?.route
                    == EndpointPolicy.sentry.match(method: method, target: path)?.route)
        }
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""path":"\/public\/api\/v1\/invoices\/{id}\/remind""#))
    }

    @Test(
        "JSON errors, one per kind, with their messages",
        arguments: [
            (
                #"{"routes":[{"methods":["GET"],"path":"/a","scopes":["refund:create"]}]}"#,
                #"Route 1: unknown scope "refund:create"."#
            ),
            (
                #"{"routes":[{"methods":["GET"],"path":"/a","scopes":[]},{"methods":["GET"],"path":"a","scopes":[]}]}"#,
                #"Route 2: template "a" is malformed: it must start with '/'."#
            ),
            (
                #"{"routes":[{"methods":["GET"],"path":"/a","scopes":[]},{"methods":["GET"],"path":"/a","scopes":[]}]}"#,
                "Route 2: GET /a is defined twice."
            ),
            (
                #"{"routes":[{"methods":["GET"],"path":"/a/{id}","scopes":[]},{"methods":["PUT"],"path":"/a/{key}","scopes":[]}]}"#,
                "Route 2: /a/{key} matches the same paths as /a/{id}; use one parameter name."
            ),
            (#"{"routes":[{"methods":["G ET"],"path":"/a","scopes":[]}]}"#, #"Route 1: "G ET" is not an HTTP method."#),
            (
                #"{"scopes":["orders:read","orders:read"],"routes":[]}"#,
                #"The policy document is invalid: the scope catalog: The scope catalog lists "orders:read" twice."#
            ),
            (
                #"{"routes":[{"methods":["GET"],"scopes":[]}]}"#,
                #"The policy document is invalid: missing "path" at .routes[0]"#
            ),
            (#"{"routes":"#, "The policy document is invalid: not valid JSON"),
            (
                #"{"routes":[{"methods":["GET"],"path":"/a","scopes":[],"cost":0}]}"#,
                "Route 1: a cost of 0 is not 1 to 100000."
            ),
            (
                #"{"routes":[{"methods":["GET"],"path":"/a","scopes":[]},{"methods":["GET"],"path":"/b","scopes":[],"cost":100001}]}"#,
                "Route 2: a cost of 100001 is not 1 to 100000."
            ),
        ])
    func jsonErrors(json: String, message: String) {
        do {
            _ = try EndpointPolicy(json: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("JSON: a route's cost round-trips; absent means 1 and is not written")
    func jsonCost() throws {
        let json =
            #"{"routes":[{"methods":["GET"],"path":"/export","scopes":["sales:read"],"cost":25},{"methods":["GET"],"path":"/sales","scopes":["sales:read"]}]}"#
        let policy = try EndpointPolicy(json: Data(json.utf8))
        #expect(policy.routes.map(\.cost) == [25, 1])
        #expect(policy.match(method: "GET", target: "/export")?.route.cost == 25)
        let encoded = String(decoding: try JSONEncoder().encode(policy), as: UTF8.self)
        #expect(encoded.components(separatedBy: "\"cost\"").count == 2)
        #expect(try EndpointPolicy(json: Data(encoded.utf8)).routes == policy.routes)
    }

    @Test("JSON with a custom catalog")
    func jsonCustomCatalog() throws {
        let json =
            #"{"scopes":["orders:read","refunds:create"],"routes":[{"methods":["POST"],"path":"/orders/{id}/refunds","scopes":["orders:read","refunds:create"]}]}"#
        let policy = try EndpointPolicy(json: Data(json.utf8))
        let match = try #require(policy.match(method: "POST", target: "/orders/o_1/refunds"))
        #expect(match.requiredScopes.formatted == "orders:read,refunds:create")
        let held = try ScopeSet(parsing: "orders:read", in: policy.catalog)
        #expect(match.missingScopes(held: held).formatted == "refunds:create")
    }
}
