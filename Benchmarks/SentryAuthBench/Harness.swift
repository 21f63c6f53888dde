#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SentryAuth
import Synchronization

/// Where ``blackHole(_:)`` folds its values.
nonisolated(unsafe) var blackHoleSink: UInt8 = 0

/// Consumes a value so the optimizer cannot delete the work that produced it: its first byte is
/// folded into a global. Cheaper than a call to an unoptimized function, which would add several
/// nanoseconds (and generic metadata look-ups) to every operation measured.
@inline(__always)
func blackHole<T>(_ value: T) {
    withUnsafeBytes(of: value) { blackHoleSink &+= $0.first ?? 0 }
}

/// Hides a value from the optimizer, so a pure call on loop-invariant inputs is not hoisted out of
/// the timed loop (the compiler can prove `ConstantTime.isEqual` or `memcmp` have no side effects).
/// Non-generic, so the call costs about a nanosecond and adds no metadata look-ups.
@inline(never) @_optimize(none)
func opaque(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer { value }

@inline(never) @_optimize(none)
func opaque(_ value: String) -> String { value }

@inline(never) @_optimize(none)
func opaque(_ value: KeyDigest) -> KeyDigest { value }

/// A monotonic reading in nanoseconds, for timing samples (not for the code under test).
@inline(__always)
func nanosecondsNow() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// One benchmark: a body that performs `iterations` operations, on `threads` threads.
struct Benchmark {
    enum Body {
        /// Runs `iterations` operations on the calling thread (each thread, when several).
        case sync(@Sendable (Int) -> Void)
        /// Runs `iterations` operations in the calling task (single-threaded only).
        case async((Int) async -> Void)
    }

    let name: String
    let baseline: String?
    let threads: Int
    let body: Body

    init(_ name: String, baseline: String? = nil, threads: Int = 1, body: @escaping @Sendable (Int) -> Void) {
        self.name = name
        self.baseline = baseline
        self.threads = threads
        self.body = .sync(body)
    }

    /// An async scenario. With `threads` > 1 the body itself runs `threads` concurrent tasks of
    /// `iterations` operations each (on the concurrency runtime's threads, one per core), so the
    /// time per batch is the time per operation on each of them.
    init(_ name: String, baseline: String? = nil, threads: Int = 1, asyncBody: @escaping (Int) async -> Void) {
        self.name = name
        self.baseline = baseline
        self.threads = threads
        self.body = .async(asyncBody)
    }

    /// Runs the body once with `iterations`, single-threaded (for probes under valgrind).
    func run(iterations: Int) async {
        switch body {
        case .sync(let body): body(iterations)
        case .async(let body): await body(iterations)
        }
    }
}

struct Result: Codable {
    let name: String
    let ns_per_op: Double
    let p99_ns: Double
    let ops_per_sec: Double
    let threads: Int
    let iterations: Int
}

struct HarnessSettings {
    var sampleTarget: UInt64  // nanoseconds per sample
    var samples: Int

    static let full = HarnessSettings(sampleTarget: 2_000_000, samples: 101)
    static let quick = HarnessSettings(sampleTarget: 300_000, samples: 21)
}

/// Warm-up, calibration, samples; median and 99th percentile of the per-operation times.
func measure(_ benchmark: Benchmark, settings: HarnessSettings) async -> Result {
    // Warm up and calibrate: grow the batch until one takes the sample target.
    var iterations = 1
    while true {
        let elapsed = await timeBatch(benchmark, iterations: iterations)
        if elapsed >= settings.sampleTarget || iterations >= 1 << 28 {
            iterations = max(1, Int(Double(iterations) * Double(settings.sampleTarget) / Double(max(elapsed, 1))))
            break
        }
        iterations *= elapsed < settings.sampleTarget / 100 ? 10 : 2
    }
    var perOperation: [Double] = []
    for _ in 0..<settings.samples {
        let elapsed = await timeBatch(benchmark, iterations: iterations)
        perOperation.append(Double(elapsed) / Double(iterations))
    }
    perOperation.sort()
    let median = perOperation[perOperation.count / 2]
    let p99 = perOperation[min(perOperation.count - 1, Int((Double(perOperation.count) * 0.99).rounded(.up)) - 1)]
    return Result(
        name: benchmark.name, ns_per_op: median, p99_ns: p99, ops_per_sec: 1e9 / median * Double(benchmark.threads),
        threads: benchmark.threads, iterations: iterations * settings.samples)
}

/// Time for one batch. With several threads, each runs `iterations` operations on a real thread,
/// started together; the batch lasts until the last one finishes.
private func timeBatch(_ benchmark: Benchmark, iterations: Int) async -> UInt64 {
    switch benchmark.body {
    case .sync(let body) where benchmark.threads > 1:
        return runOnThreads(benchmark.threads, iterations: iterations, body)
    default:
        let start = nanosecondsNow()
        await benchmark.run(iterations: iterations)
        return nanosecondsNow() - start
    }
}

/// Real threads (pthreads), released together by a barrier; the batch ends when the last thread
/// finishes its operations.
func runOnThreads(_ count: Int, iterations: Int, _ body: @escaping @Sendable (Int) -> Void) -> UInt64 {
    final class Shared: Sendable {
        let ready = Atomic<Int>(0)
        let go = Atomic<Bool>(false)
        let start = Atomic<UInt64>(0)
        let end = Atomic<UInt64>(0)
        let body: @Sendable (Int) -> Void
        let iterations: Int
        init(body: @escaping @Sendable (Int) -> Void, iterations: Int) {
            self.body = body
            self.iterations = iterations
        }
    }
    let shared = Shared(body: body, iterations: iterations)
    var threads: [pthread_t] = []
    for _ in 0..<count {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(shared).toOpaque()
        pthread_create(
            &thread, nil,
            { context in
                let shared = Unmanaged<Shared>.fromOpaque(context!).takeRetainedValue()
                shared.ready.add(1, ordering: .acquiringAndReleasing)
                while !shared.go.load(ordering: .acquiring) { sched_yield() }
                shared.body(shared.iterations)
                let now = nanosecondsNow()
                var latest = shared.end.load(ordering: .relaxed)
                while latest < now {
                    let (exchanged, current) = shared.end.compareExchange(
                        expected: latest, desired: now, ordering: .relaxed)
                    if exchanged { break }
                    latest = current
                }
                return nil
            }, context)
        threads.append(thread)
    }
    while shared.ready.load(ordering: .acquiring) < count { sched_yield() }
    let start = nanosecondsNow()
    shared.go.store(true, ordering: .releasing)
    for thread in threads { pthread_join(thread, nil) }
    return shared.end.load(ordering: .relaxed) - start
}
