#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which scopes a request needs: a map from method and path template to required scopes, denying
/// everything it does not list.
///
/// Build one in Swift:
///
/// ```swift
/// let policy = try EndpointPolicy(prefix: "/api") {
///     Route([.get, .head], "/orders", requires: [.salesRead])
///     Route(.post, "/orders/{id}/refund", requires: [.salesRead, .invoiceWrite])
/// }
/// let match = policy.match(method: "POST", target: "/api/orders/ord_42/refund?notify=1")
/// match?.parameter("id")                       // "ord_42"
/// match?.missingScopes(held: [.salesRead])     // invoice:write
/// ```
///
/// or load one from JSON (see ``EndpointPolicy/init(from:)``); ``sentry`` is the built-in Sentry
/// Payments policy.
///
/// ## Matching
///
/// The request target's path is matched segment by segment against a tree of templates, in time
/// proportional to the number of segments and without allocating. At each segment a literal
/// (`/invoices/summary`) wins over a parameter (`/invoices/{id}`), and the choice is final: there is
/// no backtracking, so a path is never matched to a route other than the one its literals select.
/// The query string is not matched (but see below: it must be a valid query). Methods are
/// case-sensitive and must be listed; `HEAD` is not implied by `GET`.
///
/// ## Canonical paths only
///
/// A path that is not in canonical form never matches anything, so it can never reach a more
/// permissive route after some later normalization:
/// - dot segments (`/customers/../invoices`, `/./customers`) and empty segments (`//`);
/// - a trailing slash: `/customers/` is not `/customers`;
/// - percent-encoding of an unreserved character, `/` or `\` (`%69nvoices`, `%2e%2e`, `%2F`), and
///   lowercase hex (`%2f`); a percent-encoded byte is only accepted inside a parameter, as uppercase
///   hex of a printable ASCII character that must be encoded, such as `%40` for `@`;
/// - `;` parameters, backslashes, spaces, control bytes, NUL and any non-ASCII byte;
/// - a case change: matching is byte for byte, so `/Customers` is not `/customers`;
/// - targets that are not in origin form (`http://host/…`, `*`), carry a fragment anywhere (in the
///   path or after the query: `/customers?x=1#frag`), or exceed ``maximumTargetLength`` bytes;
/// - a query with a byte that cannot appear in a request-target: a control byte, space, DEL or a raw
///   non-ASCII byte (`/customers?q=a b`, `?x=\r\n`, `?q=é`). Percent-encoded, they are fine.
public struct EndpointPolicy: Sendable {
    /// The catalog the routes' scopes come from.
    public let catalog: ScopeCatalog
    /// The routes, in the order given, with the prefix applied to their templates.
    public var routes: [Route] { table.routes }

    /// The longest request target considered, in bytes; longer ones never match.
    public static let maximumTargetLength = 8192
    /// The most parameters a template may have.
    public static let maximumParameters = 8

    /// A node of the tree while it is built.
    struct Node: Sendable {
        /// Literal children, sorted by their bytes.
        var literals: [(segment: [UInt8], child: Int)] = []
        /// The parameter child, its name and the template that introduced it.
        var parameter: (child: Int, name: String, template: String)?
        /// The routes that end here, by method.
        var methods: [(method: [UInt8], route: Int)] = []
    }

    /// The built tree, flattened into arrays of plain integers so a look-up copies and retains nothing.
    struct Trie: Sendable {
        /// A run of bytes in `bytes`, and what it leads to (a child node or a route).
        struct Entry: Sendable {
            var offset: Int32
            var length: Int32
            var target: Int32
        }

        struct FlatNode: Sendable {
            var literalStart: Int32
            var literalCount: Int32
            var parameterChild: Int32  // -1: none
            var methodStart: Int32
            var methodCount: Int32
        }

        var nodes: [FlatNode] = []
        var literals: [Entry] = []  // per node, sorted by bytes
        var methods: [Entry] = []
        var bytes: [UInt8] = []

        init(_ built: [Node]) {
            for node in built {
                nodes.append(
                    FlatNode(
                        literalStart: Int32(literals.count), literalCount: Int32(node.literals.count),
                        parameterChild: Int32(node.parameter?.child ?? -1), methodStart: Int32(methods.count),
                        methodCount: Int32(node.methods.count)))
                for literal in node.literals { literals.append(entry(literal.segment, literal.child)) }
                for method in node.methods { methods.append(entry(method.method, method.route)) }
            }
        }

        private mutating func entry(_ text: [UInt8], _ target: Int) -> Entry {
            defer { bytes += text }
            return Entry(offset: Int32(bytes.count), length: Int32(text.count), target: Int32(target))
        }
    }

    let trie: Trie
    /// The routes and their parameter names, behind the one reference a match holds.
    let table: EndpointMatch.RouteTable

    /// Builds a policy.
    ///
    /// - Parameters:
    ///   - catalog: The scope catalog; ``ScopeCatalog/sentry`` by default.
    ///   - prefix: A path put before every template, such as `/public/api/v1`; empty by default.
    ///   - routes: The routes.
    /// - Throws: ``EndpointPolicyError`` naming the first bad entry.
    public init(
        catalog: ScopeCatalog = .sentry, prefix: String = "", @RouteBuilder routes: () -> [Route]
    ) throws(EndpointPolicyError) {
        try self.init(catalog: catalog, prefix: prefix, routes: routes())
    }

    /// Builds a policy from a list of routes.
    ///
    /// - Parameters:
    ///   - catalog: The scope catalog; ``ScopeCatalog/sentry`` by default.
    ///   - prefix: A path put before every template; empty by default.
    ///   - routes: The routes.
    /// - Throws: ``EndpointPolicyError`` naming the first bad entry.
    public init(catalog: ScopeCatalog = .sentry, prefix: String = "", routes: [Route]) throws(EndpointPolicyError) {
        var nodes = [Node()]
        var built: [Route] = []
        var names: [[String]] = []
        for (entry, route) in routes.enumerated() {
            let template = prefix + route.template
            let segments = try PathTemplate.parse(template, entry: entry)
            guard !route.methods.isEmpty else { throw .invalidMethod(entry: entry, method: "") }
            guard (1...RateLimit.maximumLimit).contains(route.cost) else {
                throw .invalidCost(entry: entry, cost: route.cost)
            }
            guard let bits = route.requiredScopes.bits(in: catalog) else {
                let unknown = route.requiredScopes.scopes.first { !catalog.contains($0) }
                throw .unknownScope(entry: entry, scope: unknown?.name ?? "")
            }
            var node = 0
            var parameters: [String] = []
            for segment in segments {
                switch segment {
                case .literal(let bytes):
                    if let found = nodes[node].literals.first(where: { $0.segment == bytes }) {
                        node = found.child
                    } else {
                        nodes.append(Node())
                        nodes[node].literals.append((bytes, nodes.count - 1))
                        nodes[node].literals.sort { $0.segment.lexicographicallyPrecedes($1.segment) }
                        node = nodes.count - 1
                    }
                case .parameter(let name):
                    parameters.append(name)
                    if let existing = nodes[node].parameter {
                        guard existing.name == name else {
                            throw .conflictingTemplates(entry: entry, template: template, existing: existing.template)
                        }
                        node = existing.child
                    } else {
                        nodes.append(Node())
                        nodes[node].parameter = (nodes.count - 1, name, template)
                        node = nodes.count - 1
                    }
                }
            }
            for method in route.methods {
                let bytes = Array(method.rawValue.utf8)
                guard !nodes[node].methods.contains(where: { $0.method == bytes }) else {
                    throw .duplicateRoute(entry: entry, method: method.rawValue, template: template)
                }
                nodes[node].methods.append((bytes, built.count))
            }
            built.append(
                Route(route.methods, template, requires: ScopeSet(rawValue: bits, catalog: catalog), cost: route.cost))
            names.append(parameters)
        }
        self.catalog = catalog
        self.trie = Trie(nodes)
        self.table = EndpointMatch.RouteTable(routes: built, parameterNames: names)
    }

    /// Finds the route for a request.
    ///
    /// - Parameters:
    ///   - method: The request method, case-sensitive.
    ///   - target: The raw request target, such as `/public/api/v1/customers/cus_1?expand=true`.
    /// - Returns: The matched route and its parameters, or `nil`: the request is refused.
    public func match(method: String, target: String) -> EndpointMatch? {
        guard target.utf8.count <= Self.maximumTargetLength, method.utf8.count <= 32 else { return nil }
        let found =
            target.utf8.withContiguousStorageIfAvailable { path in
                method.utf8.withContiguousStorageIfAvailable { method in find(method: method, path: path) }
            }
            ?? Array(target.utf8).withUnsafeBufferPointer { path in
                Array(method.utf8).withUnsafeBufferPointer { method in find(method: method, path: path) }
            }
        guard let (route, captures) = found ?? nil else { return nil }
        return EndpointMatch(table: table, index: route, target: target, captures: captures)
    }

    /// The methods the policy has for a request target's path, in the order they were declared:
    /// what a `405 Method Not Allowed` lists in `Allow` when ``match(method:target:)`` found no route
    /// for the request's own method. Empty when no route has the path (or it is not canonical).
    ///
    /// ```swift
    /// EndpointPolicy.sentry.allowedMethods(target: "/public/api/v1/customers")   // GET, HEAD, POST
    /// ```
    ///
    /// - Parameter target: The raw request target.
    /// - Returns: The methods, or none.
    public func allowedMethods(target: String) -> [Method] {
        guard target.utf8.count <= Self.maximumTargetLength else { return [] }
        let node =
            target.utf8.withContiguousStorageIfAvailable { path in walk(path)?.node }
            ?? Array(target.utf8).withUnsafeBufferPointer { path in walk(path)?.node }
        guard let node else { return [] }
        let current = trie.nodes[node]
        return trie.methods[Int(current.methodStart)..<Int(current.methodStart + current.methodCount)].map { entry in
            let name = trie.bytes[Int(entry.offset)..<Int(entry.offset + entry.length)]
            return Method(unchecked: String(decoding: name, as: UTF8.self))
        }
    }

    /// The tree walk and the method look-up: O(segments), no allocation, no reference counting.
    private func find(
        method: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>
    ) -> (Int, EndpointMatch.Captures)? {
        guard let (node, captures) = walk(path) else { return nil }
        return trie.methods.withUnsafeBufferPointer { methods in
            trie.bytes.withUnsafeBufferPointer { bytes -> (Int, EndpointMatch.Captures)? in
                let current = trie.nodes[node]
                for entry in methods[Int(current.methodStart)..<Int(current.methodStart + current.methodCount)]
                where Self.compare(entry, bytes, method) == 0 {
                    return (Int(entry.target), captures)
                }
                return nil
            }
        }
    }

    /// The node a canonical path ends at, with its parameters' byte ranges. The target is read once,
    /// eight bytes at a time where it can be (see ``segmentEnd(_:from:)``).
    @inline(__always)
    private func walk(_ path: UnsafeBufferPointer<UInt8>) -> (node: Int, captures: EndpointMatch.Captures)? {
        guard path.first == UInt8(ascii: "/") else { return nil }
        return trie.nodes.withUnsafeBufferPointer { nodes in
            trie.literals.withUnsafeBufferPointer { literals in
                trie.bytes.withUnsafeBufferPointer { bytes -> (node: Int, captures: EndpointMatch.Captures)? in
                    var captures = EndpointMatch.Captures()
                    var node = 0
                    var end = 1  // where the path ends: the `?` or the end of the target
                    if path.count > 1 && path[1] != UInt8(ascii: "?") {
                        var start = 1
                        while true {
                            guard let stop = Self.segmentEnd(path, from: start) else { return nil }
                            let segment = UnsafeBufferPointer(rebasing: path[start..<stop])
                            guard !segment.isEmpty, !PathTemplate.isDotSegment(segment) else { return nil }
                            let current = nodes[node]
                            let range = Int(current.literalStart)..<Int(current.literalStart + current.literalCount)
                            if let child = Self.search(literals[range], bytes, for: segment) {
                                node = child
                            } else if current.parameterChild >= 0, captures.count < Self.maximumParameters {
                                captures.append(start..<stop)
                                node = Int(current.parameterChild)
                            } else {
                                return nil
                            }
                            if stop == path.count || path[stop] == UInt8(ascii: "?") {
                                end = stop
                                break
                            }
                            start = stop + 1
                        }
                    }
                    guard Self.isAcceptableQuery(UnsafeBufferPointer(rebasing: path[end...])) else { return nil }
                    return (node, captures)
                }
            }
        }
    }

    /// Where the segment starting at `start` ends (at `/`, `?` or the end of the target), or `nil`
    /// when it holds a byte a canonical segment cannot (see ``PathTemplate/isCanonicalSegment(_:)``,
    /// which says the same of a whole segment, byte by byte). Unreserved letters, digits, `-` and
    /// `_` are skipped eight at a time; anything else is looked at alone.
    @inline(__always)
    static func segmentEnd(_ path: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        while true {
            if index + 8 <= path.count {
                let special = ByteLanes.notBase64URL(ByteLanes.load(path, at: index))
                if special == 0 {
                    index += 8
                    continue
                }
                index += ByteLanes.firstLane(special)
            } else if index < path.count {
                if APIKeyFormat.isBase64URL(path[index]) {
                    index += 1
                    continue
                }
            } else {
                return index
            }
            let byte = path[index]
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "?"):
                return index
            case UInt8(ascii: "%"):
                guard index + 2 < path.count, PathTemplate.isCanonicalEscape(path[index + 1], path[index + 2]) else {
                    return nil
                }
                index += 3
            default:
                guard PathTemplate.isAllowedRaw(byte) else { return nil }
                index += 1
            }
        }
    }

    /// Whether the query part (from `?`, possibly empty) may stand in an HTTP request-target: no
    /// fragment (`#`), no control byte, space, DEL or raw non-ASCII byte (RFC 9112 §3.2, RFC 3986
    /// §3.4). Other characters are left to the application: the query is not matched.
    @inline(__always)
    static func isAcceptableQuery(_ query: UnsafeBufferPointer<UInt8>) -> Bool {
        ByteLanes.allSatisfy(query, rejected: ByteLanes.notQuery) { byte in
            byte > 0x20 && byte < 0x7f && byte != UInt8(ascii: "#")
        }
    }

    /// Binary search of a node's sorted literal entries.
    @inline(__always)
    private static func search(
        _ entries: Slice<UnsafeBufferPointer<Trie.Entry>>, _ bytes: UnsafeBufferPointer<UInt8>,
        for segment: UnsafeBufferPointer<UInt8>
    ) -> Int? {
        var low = entries.startIndex
        var high = entries.endIndex
        while low < high {
            let middle = (low + high) / 2
            let order = compare(entries[middle], bytes, segment)
            if order == 0 { return Int(entries[middle].target) }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// Three-way byte comparison in memcmp order, shorter first on a common prefix (the order
    /// `lexicographicallyPrecedes` sorted the literals in).
    @inline(__always)
    private static func compare(
        _ entry: Trie.Entry, _ bytes: UnsafeBufferPointer<UInt8>, _ other: UnsafeBufferPointer<UInt8>
    ) -> Int {
        let length = Int(entry.length)
        let common = min(length, other.count)
        // Path segments are short: a byte loop beats a call to `memcmp`.
        let base = Int(entry.offset)
        for index in 0..<common where bytes[base &+ index] != other[index] {
            return Int(bytes[base &+ index]) - Int(other[index])
        }
        return length - other.count
    }
}
