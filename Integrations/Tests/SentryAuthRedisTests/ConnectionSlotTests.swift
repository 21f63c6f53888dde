import NIOCore
import Testing

@testable import SentryAuthRedis

/// A connection for the state machine: a name, and whether it is still open.
struct FakeConnection: Equatable {
    var name: String
    var isOpen = true
}

@Suite("A connection slot's states, without a socket")
struct ConnectionSlotTests {
    typealias Slot = ConnectionSlot<FakeConnection, Int>

    /// Runs one command through `slot`; the action, and how many attempts it started.
    func command(_ slot: inout Slot, at now: NIODeadline, attempts: inout Int, closed: Bool = false) -> Slot.Action {
        slot.commandArrived(at: now, isUsable: { $0.isOpen && !closed }) {
            attempts += 1
            return attempts
        }
    }

    func isAwait(_ action: Slot.Action, _ attempt: Int) -> Bool {
        if case .await(let value) = action { return value == attempt }
        return false
    }

    func isSend(_ action: Slot.Action, _ name: String) -> Bool {
        if case .send(let connection) = action { return connection.name == name }
        return false
    }

    func failure(_ action: Slot.Action) -> String? {
        if case .fail(let reason) = action { return reason }
        return nil
    }

    @Test("The first command starts one attempt; commands meanwhile join it; then they use the connection")
    func connects() {
        var slot = Slot()
        var attempts = 0
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(isAwait(command(&slot, at: now, attempts: &attempts), 1))
        #expect(isAwait(command(&slot, at: now, attempts: &attempts), 1))
        #expect(attempts == 1)
        slot.attemptSucceeded(FakeConnection(name: "a"))
        #expect(isSend(command(&slot, at: now, attempts: &attempts), "a"))
        #expect(attempts == 1)
    }

    @Test("A closed connection (a command past its deadline closed it) is replaced at the next command")
    func reconnectsAfterClose() {
        var slot = Slot()
        var attempts = 0
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        _ = command(&slot, at: now, attempts: &attempts)
        slot.attemptSucceeded(FakeConnection(name: "a", isOpen: false))
        #expect(isAwait(command(&slot, at: now, attempts: &attempts), 2))
        slot.attemptSucceeded(FakeConnection(name: "b"))
        #expect(isSend(command(&slot, at: now, attempts: &attempts), "b"))
    }

    @Test(
        "After failed attempts the slot fails commands at once until its backoff ends; failures count up, success resets"
    )
    func backsOff() {
        var slot = Slot()
        var attempts = 0
        var waits: [Int] = []
        let delay: (Int) -> TimeAmount = { failures in
            waits.append(failures)
            return .milliseconds(100 << (failures - 1))
        }
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        _ = command(&slot, at: now, attempts: &attempts)
        slot.attemptFailed(at: now, delay: delay)
        #expect(slot.isBackingOff(at: now + .milliseconds(99)))
        #expect(failure(command(&slot, at: now + .milliseconds(99), attempts: &attempts)) != nil)
        #expect(attempts == 1)
        now = now + .milliseconds(100)
        #expect(!slot.isBackingOff(at: now))
        #expect(isAwait(command(&slot, at: now, attempts: &attempts), 2))
        slot.attemptFailed(at: now, delay: delay)
        #expect(slot.isBackingOff(at: now + .milliseconds(199)) && !slot.isBackingOff(at: now + .milliseconds(200)))
        now = now + .milliseconds(200)
        _ = command(&slot, at: now, attempts: &attempts)
        slot.attemptSucceeded(FakeConnection(name: "c"))
        #expect(waits == [1, 2])
        // A later failure (after a connection was made and lost) starts the count again.
        #expect(isAwait(command(&slot, at: now, attempts: &attempts, closed: true), 4))
        slot.attemptFailed(at: now, delay: delay)
        #expect(waits == [1, 2, 1])
    }

    @Test("Shut down: the connection or the attempt is handed back to close, and every later command fails")
    func shutsDown() {
        var slot = Slot()
        var attempts = 0
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        _ = command(&slot, at: now, attempts: &attempts)
        let held = slot.shutDown()
        #expect(held.attempt == 1 && held.connection == nil)
        slot.attemptSucceeded(FakeConnection(name: "late"))  // the attempt finishing afterwards changes nothing
        #expect(failure(command(&slot, at: now, attempts: &attempts)) == "the store was shut down")
        slot.attemptFailed(at: now) { _ in .seconds(1) }
        #expect(failure(command(&slot, at: now, attempts: &attempts)) == "the store was shut down")
        #expect(attempts == 1)
    }
}
