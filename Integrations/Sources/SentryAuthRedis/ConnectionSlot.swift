import NIOCore

/// The states of one of ``RedisConnectionPool``'s connection slots, apart from any channel — the
/// layout of postgres-nio's state machines: the pool holds one per slot behind a lock, feeds it
/// events and carries out the action it returns, and tests drive it without a socket.
///
/// `Connection` is what a made connection is (a `Channel`), `Attempt` what a connection attempt in
/// progress is (a future of one).
struct ConnectionSlot<Connection, Attempt> {
    enum State {
        /// No connection: `failures` attempts in a row have failed, and none is made before `retryAt`.
        case idle(failures: Int, retryAt: NIODeadline)
        case connecting(Attempt, failures: Int)
        case connected(Connection)
        case shutDown
    }

    /// What to do with a command.
    enum Action {
        /// Send it on this connection.
        case send(Connection)
        /// Wait for this attempt (started now, or by an earlier command), then send it.
        case await(Attempt)
        /// Fail it at once with this reason.
        case fail(String)
    }

    private(set) var state = State.idle(failures: 0, retryAt: .uptimeNanoseconds(0))

    /// A command arrived at `now`. `isUsable` says whether the connection is still open;
    /// `makeAttempt` starts a connection attempt, when one is needed.
    mutating func commandArrived(
        at now: NIODeadline, isUsable: (Connection) -> Bool, makeAttempt: () -> Attempt
    ) -> Action {
        switch state {
        case .connected(let connection) where isUsable(connection):
            return .send(connection)
        case .connecting(let attempt, _):
            return .await(attempt)
        case .shutDown:
            return .fail("the store was shut down")
        case .idle(_, let retryAt) where retryAt > now:
            return .fail("reconnecting after a failed attempt")
        case .idle(let failures, _):
            let attempt = makeAttempt()
            state = .connecting(attempt, failures: failures)
            return .await(attempt)
        case .connected:
            // Closed since (a command past its deadline closes it): a new attempt, no failure yet.
            let attempt = makeAttempt()
            state = .connecting(attempt, failures: 0)
            return .await(attempt)
        }
    }

    /// The attempt in progress made `connection`.
    mutating func attemptSucceeded(_ connection: Connection) {
        guard case .connecting = state else { return }  // shut down meanwhile
        state = .connected(connection)
    }

    /// The attempt in progress failed at `now`; `delay` gives the wait after that many failures in a row.
    mutating func attemptFailed(at now: NIODeadline, delay: (Int) -> TimeAmount) {
        guard case .connecting(_, let failures) = state else { return }
        state = .idle(failures: failures + 1, retryAt: now + delay(failures + 1))
    }

    /// Whether the slot waits to reconnect at `now` (it gets no commands while another slot can take them).
    func isBackingOff(at now: NIODeadline) -> Bool {
        if case .idle(_, let retryAt) = state { return retryAt > now }
        return false
    }

    /// The store shuts down: what to close.
    mutating func shutDown() -> (connection: Connection?, attempt: Attempt?) {
        defer { state = .shutDown }
        switch state {
        case .connected(let connection): return (connection, nil)
        case .connecting(let attempt, _): return (nil, attempt)
        case .idle, .shutDown: return (nil, nil)
        }
    }
}

extension ConnectionSlot: Sendable where Connection: Sendable, Attempt: Sendable {}
extension ConnectionSlot.State: Sendable where Connection: Sendable, Attempt: Sendable {}
