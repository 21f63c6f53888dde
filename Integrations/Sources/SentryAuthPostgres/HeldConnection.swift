import PostgresNIO
import Synchronization

/// The connection a store call is using, while it uses it: what is closed when the call is
/// abandoned at its deadline.
///
/// Closing happens under the lock that `release` takes, so a connection is closed only while its
/// call still holds it — never after it went back to the pool and on to another caller.
final class HeldConnection: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var isAbandoned = false
    }

    private let state = Mutex(State())

    /// The call has a connection (closed at once if the call was abandoned already).
    func hold(_ connection: PostgresConnection) {
        let abandoned = state.withLock { state in
            state.connection = connection
            return state.isAbandoned
        }
        if abandoned { connection.close().whenComplete { _ in } }
    }

    /// The call is done with its connection, which goes back to the pool.
    func release() {
        state.withLock { $0.connection = nil }
    }

    /// The call was abandoned: closes the connection it holds, if any, so that the pool discards it
    /// and the abandoned query fails.
    func close() {
        state.withLock { state in
            state.isAbandoned = true
            state.connection?.close().whenComplete { _ in }
        }
    }
}
