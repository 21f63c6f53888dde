import SentryAuth
import SentryAuthCommandLine

/// `sentry-auth simulate`: a rate limiter over a trace.
struct SimulateCommand {
    let console: Console

    static let help = """
        Usage: sentry-auth simulate --limit N --window SECONDS [--algorithm exact|approximate]

        Reads lines 'TIME_MS [KEY] [COST]' from standard input (times in milliseconds, not
        decreasing; KEY defaults to 'default', COST to 1) and prints, for each, 'allow REMAINING'
        or 'limit RETRY_AFTER_SECONDS' (rounded up, at least 1), on a manual clock: the trace runs
        instantly. A bad line prints 'error: REASON' and changes nothing.

        Options:
          --limit N                 Requests allowed per window (1 to 100000)
          --window SECONDS          The window, e.g. 60 or 0.5 (whole milliseconds)
          --algorithm ALGORITHM     exact (default) or approximate
        """

    func run(_ arguments: [String]) throws -> Int32 {
        let command = "simulate"
        let arguments = try Arguments(arguments, options: ["--limit", "--window", "--algorithm"], command: command)
        if arguments.wantsHelp {
            console.line(Self.help)
            return 0
        }
        _ = try arguments.positionals(exactly: 0, "no arguments", command: command)
        guard let count = Int(try arguments.required("--limit", command: command)) else {
            throw UsageError("--limit must be a whole number.", command: command)
        }
        guard let seconds = Double(try arguments.required("--window", command: command)), seconds.isFinite,
            seconds > 0, seconds <= 7 * 86_400
        else { throw UsageError("--window must be a number of seconds, above 0 and at most 604800.", command: command) }
        let milliseconds = (seconds * 1000).rounded()
        let limit: RateLimit
        do {
            limit = try RateLimit(limit: count, window: .milliseconds(Int64(milliseconds)))
        } catch {
            throw UsageError("\(error)", command: command)
        }
        let name = try arguments.value("--algorithm", command: command) ?? "exact"
        guard let algorithm = RateLimitAlgorithm(rawValue: name) else {
            throw UsageError("--algorithm is exact or approximate.", command: command)
        }
        let store = InMemoryRateLimitStore<String>(algorithm: algorithm)
        var last: UInt64 = 0
        while let line = console.readLine() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...3).contains(fields.count), let time = UInt64(fields[0]) else {
                console.line("error: expected 'TIME_MS [KEY] [COST]'")
                continue
            }
            guard time >= last else {
                console.line("error: times must not decrease")
                continue
            }
            let key = fields.count > 1 ? String(fields[1]) : "default"
            guard let cost = fields.count > 2 ? Int(fields[2]) : 1 else {
                console.line("error: COST must be a whole number")
                continue
            }
            do {
                let decision = try store.acquireNow(key, cost: cost, limit: limit, at: .milliseconds(time))
                last = time
                console.line(
                    decision.isAllowed ? "allow \(decision.remaining)" : "limit \(decision.retryAfterSeconds ?? 1)")
            } catch {
                console.line("error: \(error)")
            }
        }
        return 0
    }
}
