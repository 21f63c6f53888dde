import SentryAuthEngineSupport
import Synchronization
import Testing

struct TimedOut: Error, Equatable {}

/// A body that ignores cancellation, like a query on the wire to a frozen server: it ends only when
/// `release` is called.
final class Stuck: Sendable {
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let released = Mutex(false)

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow =
                released.withLock { $0 }
                || waiters.withLock { list in
                    list.append(continuation)
                    return false
                }
            if resumeNow { continuation.resume() }
        }
    }

    func release() {
        released.withLock { $0 = true }
        for waiter in waiters.withLock({ list in
            defer { list = [] }; return list
        }) { waiter.resume() }
    }
}

/// A count shared with the bodies.
final class Tally: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

@Suite("withDeadline: the caller is answered at the deadline, not when the work ends")
struct DeadlineTests {
    @Test("A body that ignores cancellation is abandoned at the deadline, and `abandoned` runs once")
    func abandonsStuckWork() async throws {
        let stuck = Stuck()
        let abandonments = Tally()
        let finished = Tally()
        let start = ContinuousClock.now
        await #expect(throws: TimedOut.self) {
            try await withDeadline(
                .milliseconds(200), timeout: { TimedOut() }, abandoned: { abandonments.add() }
            ) {
                await stuck.wait()
                finished.add()
                return 1
            }
        }
        let waited = ContinuousClock.now - start
        // The body is still stuck: the caller did not wait for it (a task group would have).
        #expect(finished.value == 0)
        #expect(waited >= .milliseconds(200))
        #expect(abandonments.value == 1)
        stuck.release()
        for _ in 0..<200 where finished.value == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(finished.value == 1, "the abandoned body still runs to its end")
        #expect(abandonments.value == 1)
    }

    @Test("A body that finishes in time returns its value or its error; `abandoned` never runs")
    func returnsInTime() async throws {
        let abandonments = Tally()
        let value = try await withDeadline(
            .seconds(30), timeout: { TimedOut() }, abandoned: { abandonments.add() }
        ) { 42 }
        #expect(value == 42)
        struct Failed: Error {}
        await #expect(throws: Failed.self) {
            try await withDeadline(.seconds(30), timeout: { TimedOut() }, abandoned: { abandonments.add() }) {
                throw Failed()
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(abandonments.value == 0)
    }

    @Test("Cancelling the caller answers it with CancellationError at once, abandoning the body")
    func cancellation() async throws {
        let stuck = Stuck()
        let abandonments = Tally()
        let caller = Task {
            try await withDeadline(.seconds(30), timeout: { TimedOut() }, abandoned: { abandonments.add() }) {
                await stuck.wait()
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(abandonments.value == 1)
        stuck.release()

        // Already cancelled on entry: the body never holds the caller.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await withDeadline(.seconds(30), timeout: { TimedOut() }) {
                await stuck.wait()
                return 2
            }
        }
        await #expect(throws: CancellationError.self) { try await early.value }
    }

    @Test("Many concurrent callers each get their own answer (no continuation resumed twice or lost)")
    func manyCallers() async throws {
        let results = try await withThrowingTaskGroup(of: Int?.self) { group in
            for index in 0..<2_000 {
                group.addTask {
                    do {
                        return try await withDeadline(
                            .milliseconds(index.isMultiple(of: 2) ? 1 : 10_000), timeout: { TimedOut() }
                        ) {
                            if index.isMultiple(of: 2) { try? await Task.sleep(for: .milliseconds(200)) }
                            return index
                        }
                    } catch is TimedOut {
                        return nil
                    }
                }
            }
            return try await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        #expect(results.count == 2_000)
        #expect(results.compactMap { $0 }.sorted() == Array(stride(from: 1, to: 2_000, by: 2)))
    }
}
