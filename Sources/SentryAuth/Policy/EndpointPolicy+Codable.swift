#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension EndpointPolicy: Codable {
    private enum CodingKeys: String, CodingKey {
        case scopes
        case routes
    }

    private struct RouteDocument: Codable {
        var methods: [String]
        var path: String
        var scopes: [String]
        var cost: Int?
    }

    /// Loads a policy from its JSON document:
    ///
    /// ```json
    /// {
    ///   "scopes": ["customer:read", "customer:write"],
    ///   "routes": [
    ///     {"methods": ["GET", "HEAD"], "path": "/customers/{id}", "scopes": ["customer:read"]},
    ///     {"methods": ["GET"], "path": "/customers/export", "scopes": ["customer:read"], "cost": 10}
    ///   ]
    /// }
    /// ```
    ///
    /// `scopes` defines the catalog; without it the Sentry catalog is used. Templates are written in
    /// full (no prefix). A route's `cost` is what one request costs against the key's rate limit, 1
    /// when absent.
    ///
    /// - Parameter decoder: The decoder to read from.
    /// - Throws: ``EndpointPolicyError`` naming the entry and the reason.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var catalog = ScopeCatalog.sentry
        if let names = try container.decodeIfPresent([String].self, forKey: .scopes) {
            do {
                catalog = try ScopeCatalog(names.map { name throws(ScopeError) in try Scope(name) })
            } catch {
                throw EndpointPolicyError.invalidDocument("the scope catalog: \(error)")
            }
        }
        let documents = try container.decode([RouteDocument].self, forKey: .routes)
        var routes: [Route] = []
        for (entry, document) in documents.enumerated() {
            var methods: [Method] = []
            for name in document.methods {
                guard let method = Method(name) else {
                    throw EndpointPolicyError.invalidMethod(entry: entry, method: name)
                }
                methods.append(method)
            }
            var bits: UInt64 = 0
            for name in document.scopes {
                guard let bit = catalog.bit(forName: name) else {
                    throw EndpointPolicyError.unknownScope(entry: entry, scope: name)
                }
                bits |= 1 << UInt64(bit)
            }
            routes.append(
                Route(
                    methods, document.path, requires: ScopeSet(rawValue: bits, catalog: catalog),
                    cost: document.cost ?? 1))
        }
        self = try EndpointPolicy(catalog: catalog, routes: routes)
    }

    /// Writes the policy's JSON document: its catalog and every route with its full template.
    ///
    /// - Parameter encoder: The encoder to write to.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(catalog.scopes.map(\.name), forKey: .scopes)
        try container.encode(
            routes.map {
                RouteDocument(
                    methods: $0.methods.map(\.rawValue), path: $0.template,
                    scopes: $0.requiredScopes.scopes.map(\.name),
                    cost: $0.cost == 1 ? nil : $0.cost)
            }, forKey: .routes)
    }

    /// Loads a policy from JSON data, with every failure as an ``EndpointPolicyError``.
    ///
    /// - Parameter json: The policy document.
    /// - Throws: ``EndpointPolicyError`` naming the entry and the reason.
    public init(json: Data) throws(EndpointPolicyError) {
        do {
            self = try JSONDecoder().decode(EndpointPolicy.self, from: json)
        } catch let error as EndpointPolicyError {
            throw error
        } catch {
            throw .invalidDocument(Self.describe(error))
        }
    }

    /// A short explanation of a decoding error, naming the JSON path.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\"" + at(context)
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "expected \(type)" + at(context)
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value" + at(context)
        @unknown default:
            return "not a policy document"
        }
    }

    private static func at(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "" : " at \(path)"
    }
}
