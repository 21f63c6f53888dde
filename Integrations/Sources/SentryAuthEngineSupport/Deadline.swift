import Synchronization

/// Runs `body` in a task of its own and returns what it returns — or, once `limit` has passed,
/// throws `timeout()` without waiting for it.
///
/// A task group would cancel the slow child and then wait for it, and a query already on the wire
/// to a frozen server does not end when cancelled: the caller would wait as long as the freeze.
/// Here the caller is answered at the deadline; `body`'s task is cancelled and left to finish on its
/// own, and `abandoned` runs so that the caller can discard what that task holds (close its
/// connection). The same happens when the calling task is cancelled (with `CancellationError`).
///
/// - Parameters:
///   - limit: How long the caller waits.
///   - timeout: The error thrown at the deadline.
///   - abandoned: Runs once if `body` was given up on (deadline or cancellation), never otherwise.
///   - body: The work.
/// - Returns: What `body` returned before the deadline.
package func withDeadline<Result: Sendable>(
    _ limit: Duration, timeout: @escaping @Sendable () -> any Error,
    abandoned: @escaping @Sendable () -> Void = {}, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let race = DeadlineRace<Result>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            guard race.install(continuation) else { return }
            let work = Task {
                do {
                    race.finish(.success(try await body()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                guard !Task.isCancelled, race.finish(.failure(timeout())) else { return }
                work.cancel()
                abandoned()
            }
            race.track(work: work, timer: timer)
        }
    } onCancel: {
        guard race.finish(.failure(CancellationError())) else { return }
        race.cancelWork()
        abandoned()
    }
}

/// Who answers first: the work, the timer or a cancellation. The first `finish` resumes the caller;
/// the others do nothing.
private final class DeadlineRace<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var isFinished = false
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Stores the caller's continuation; `false` (after resuming it with `CancellationError`) when the
    /// caller was cancelled before it got here.
    func install(_ continuation: CheckedContinuation<Result, any Error>) -> Bool {
        let installed = state.withLock { state in
            if state.isFinished { return false }
            state.continuation = continuation
            return true
        }
        if !installed { continuation.resume(throwing: CancellationError()) }
        return installed
    }

    func track(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let finished = state.withLock { state in
            state.work = work
            state.timer = timer
            return state.isFinished
        }
        if finished { timer.cancel() }
    }

    /// Answers the caller if no one has; whether this call did.
    @discardableResult
    func finish(_ result: Swift.Result<Result, any Error>) -> Bool {
        let taken = state.withLock { state -> (CheckedContinuation<Result, any Error>?, Task<Void, Never>?)? in
            if state.isFinished { return nil }
            state.isFinished = true
            defer { state.continuation = nil }
            return (state.continuation, state.timer)
        }
        guard let (continuation, timer) = taken else { return false }
        timer?.cancel()
        continuation?.resume(with: result)
        return true
    }

    func cancelWork() {
        state.withLock { $0.work }?.cancel()
    }
}
