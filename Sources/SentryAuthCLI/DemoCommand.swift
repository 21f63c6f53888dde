#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SentryAuth
import SentryAuthCommandLine
import SentryAuthTesting

/// `sentry-auth demo`: one key, every kind of answer.
struct DemoCommand {
    let console: Console

    static let help = """
        Usage: sentry-auth demo

        Creates a key for a sample merchant in a temporary key store file, then prints the gate's
        full answer (status, headers, JSON body) for: an allowed request, a missing key, an invalid
        key, a wrong client address, an unknown route, a missing scope, and the 61st request within
        a minute. The clocks are manual, so it finishes at once. Keys are shown only by their hint.
        """

    func run(_ arguments: [String]) async throws -> Int32 {
        let arguments = try Arguments(arguments, options: [], command: "demo")
        if arguments.wantsHelp {
            console.line(Self.help)
            return 0
        }
        _ = try arguments.positionals(exactly: 0, "no arguments", command: "demo")

        var template = Array("/tmp/sentry-auth-demo-XXXXXX".utf8CString)
        guard
            let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({
                String(cString: $0)
            })
        else { throw CommandFailure(message: "cannot create a temporary directory.", status: ExitStatus.operational) }
        let path = directory + "/keys.json"
        defer {
            unlink(path)
            unlink(path + ".lock")
            rmdir(directory)
        }

        let wallClock = ManualWallClock(Date(timeIntervalSince1970: 1_798_761_600))  // 2027-01-01T00:00:00Z
        let clock = ManualMonotonicClock(.milliseconds(1_000_000))
        let store = FileKeyStore(path: path)
        let manager = KeyManager(store: store, clock: wallClock)
        let merchant = MerchantID("merchant_demo")!
        let created = try await manager.create(
            for: merchant, name: "Invoice reminder job", scopes: [.invoiceRead, .invoiceRemind],
            allowlist: try IPAllowlist(parsing: ["203.0.113.0/24"]))
        let key = created.key
        let gate = RequestGate(
            keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), clock: clock,
            wallClock: wallClock)

        console.line("SentryAuth demo")
        console.line("Key \(created.record.id) (\(key.displayHint)) for \(merchant): scopes \(created.record.scopes),")
        console.line("allowed from \(created.record.allowlist), \(created.record.rateLimit.limit) requests per minute.")
        console.line("Store: a temporary file holding only the key's SHA-256 digest. Clocks: manual.")

        let office = try IPAddress("203.0.113.7")
        let bearer = "Bearer " + key.revealSecret()
        let wrongKey = "Bearer sntr_" + String(repeating: "A", count: 28) + "BAD1"
        let steps: [(String, String, String, String?, IPAddress?)] = [
            ("Allowed", "GET", "/public/api/v1/invoices/inv_1001", bearer, office),
            ("Missing key", "GET", "/public/api/v1/invoices/inv_1001", nil, office),
            ("Invalid key", "GET", "/public/api/v1/invoices/inv_1001", wrongKey, office),
            ("Wrong client address", "GET", "/public/api/v1/invoices/inv_1001", bearer, try IPAddress("198.51.100.23")),
            ("Unknown route", "GET", "/public/api/v1/refunds", bearer, office),
            ("Missing scope", "POST", "/public/api/v1/customers", bearer, office),
        ]
        for (number, step) in steps.enumerated() {
            let (title, method, target, authorization, address) = step
            try await show(
                "\(number + 1). \(title)", gate: gate,
                GateRequest(
                    method: method, target: target, authorization: authorization.map { [$0] } ?? [],
                    clientAddress: address),
                shownAuthorization: authorization.map {
                    $0 == bearer ? "Bearer \(key.displayHint)" : "Bearer sntr_…BAD1"
                })
        }
        // Requests 2…60 within the same minute are allowed; show the 61st.
        let request = GateRequest(
            method: "GET", target: "/public/api/v1/invoices", authorization: [bearer], clientAddress: office)
        var allowed = 1
        for _ in 0..<59 {
            clock.advance(by: .milliseconds(500))
            if case .allowed = try await gate.evaluate(request) { allowed += 1 }
        }
        console.line("")
        console.line("… \(allowed) requests allowed in the last \(RecordText.seconds(.milliseconds(29_500))) seconds …")
        try await show(
            "7. The 61st request within a minute", gate: gate, request, shownAuthorization: "Bearer \(key.displayHint)")
        return 0
    }

    private func show(
        _ title: String, gate: RequestGate,
        _ request: GateRequest, shownAuthorization: String?
    ) async throws {
        console.line("")
        console.line("── \(title) " + String(repeating: "─", count: max(4, 60 - title.count)))
        console.line("> \(request.method) \(request.target)")
        console.line("> Authorization: \(shownAuthorization ?? "(none)")")
        console.line("> Client address: \(request.clientAddress.map { "\($0)" } ?? "(unknown)")")
        console.line(ResponseText.render(try await gate.evaluate(request)))
    }
}
