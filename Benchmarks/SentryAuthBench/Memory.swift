import Foundation
import SentryAuth

extension Probes {
    /// Memory per key in the in-memory limiter store with the Sentry limit, for each algorithm, at
    /// 100,000 and 1,000,000 keys: real-shaped key IDs each admitted once, the process's resident
    /// memory (`/proc/self/statm`) read before and after; every store is kept until the end, so no
    /// store reuses another's pages. The key strings are not counted: the store shares them with
    /// whoever holds the key's record.
    static func bytesPerKey() {
        func resident() -> Int {
            guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
                let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
            else { return 0 }
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        var stores: [InMemoryRateLimitStore<APIKeyID>] = []
        for count in [100_000, 1_000_000] {
            let ids = Scenarios.realKeyIDs(count)
            for algorithm in RateLimitAlgorithm.allCases {
                let before = resident()
                let store = InMemoryRateLimitStore<APIKeyID>(algorithm: algorithm)
                for id in ids { _ = try! store.acquireNow(id, limit: .default, at: .milliseconds(1)) }
                let after = resident()
                precondition(store.count == count)
                stores.append(store)
                print("\(algorithm.rawValue): \((after - before) / count) bytes a key (\(count) keys, 60 per 60 s)")
            }
        }
        withExtendedLifetime(stores) {}
    }
}
