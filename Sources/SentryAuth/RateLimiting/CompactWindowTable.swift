#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// What a compact table keeps per key: a window of fixed size whose first 8 bytes are a state word
/// (bits 62 and 63 belong to the table: moved and locked), and how to decide a request on it while
/// its lock is held. ``CompactExactWindow`` (128 bytes) and ``CompactApproximateWindow`` (16 bytes).
protocol CompactWindowKind: Sendable {
    /// Bytes of a window, and its alignment: the state word and the payload after it.
    static var size: Int { get }
    /// Bits at the bottom of an identity's second word that hold the limit's code; the second hash
    /// fills the rest.
    static var limitBits: Int { get }
    /// Whether a limit can be kept in this kind of window.
    static func fits(_ limit: RateLimit) -> Bool
    /// The limit as `limitBits` bits, from which ``windowMilliseconds(code:)`` reads the window back.
    static func code(_ limit: RateLimit) -> UInt64
    /// The window's length, from a limit's code.
    static func windowMilliseconds(code: UInt64) -> UInt64
    /// Decides a request while the window's lock is held: the decision and the state word to store.
    static func decide(
        state: UInt64, payload: UnsafeMutableRawPointer, limit: RateLimit, cost: Int, at instant: MonotonicInstant
    ) -> (RateLimitDecision, UInt64)
    /// Whether the window holds nothing that still counts at `now` (ms), while its lock is held.
    static func isIdle(state: UInt64, payload: UnsafeMutableRawPointer, windowMilliseconds: UInt64, now: UInt64)
        -> Bool
}

/// Compact windows (``CompactExactWindow``, ``CompactApproximateWindow``) kept inline in an
/// open-addressing table: no object per key, no pointer to chase, nothing allocated per check.
///
/// ## Layout
///
/// 64 shards, each with one table of `capacity` slots in one mapping: the windows first (128 or 16
/// bytes each, aligned), then the identities (16 bytes each). A key is found by two independent
/// 64-bit hashes of it; the identity holds the first (its low 6 bits pick the shard, its high bits the
/// home slot) and the rest of the second beside the limit's code (exact: 42 bits of hash, approximate:
/// 17), so a key whose limit changes gets a new window and the old one goes idle. Linear probing from
/// the home slot. Kept between 7/8 and about 7/9 full: an exact window's 144-byte slot is 165–185
/// bytes a key, an approximate window's 32-byte slot 37–41.
///
/// ## Concurrency
///
/// A check of a key the table holds takes no shard lock: it reads the shard's table word, probes the
/// identities, takes the window's lock bit (one compare-and-swap), checks the identity again under it,
/// decides and stores the new state word. Checks of different keys never wait for each other; checks
/// of one key run one at a time (a holder that is descheduled is waited for, yielding the processor).
///
/// Adding a key, removing one and sweeping or growing a table take the shard's lock. A slot's identity
/// only changes while its window is locked, so a check that holds the lock and still sees its identity
/// holds its key's live window; one that does not looks again. Removal shifts later entries of the
/// probe run back (no tombstones); a check that misses a key while it moves takes the shard's lock and
/// looks again there. Growing copies each window under its lock and marks the old one moved.
///
/// **Reclamation.** A replaced table is never unmapped while the store lives (a check may still be
/// probing it): its pages are returned to the system (`MADV_DONTNEED`, so they read as zeros: empty
/// slots, and a check looks again) and the address range is kept until the store is freed. Tables only
/// grow, in steps of at most 9/8, so the ranges kept add up to at most 8 times the largest table, none
/// of it resident; a shard holding `n` keys at its peak has made about `8 × log₂(n / 16)` of them.
///
/// ## Forgetting
///
/// When a table reaches 7/8 full, the shard first forgets its idle keys (every unit out of the window)
/// in place; it grows by one step only if that freed less than an eighth of it. ``sweep(at:)`` forgets
/// the idle keys of every shard. Memory is bounded by the most keys active at once.
final class CompactWindowTable<Window: CompactWindowKind>: @unchecked Sendable {
    // @unchecked: the shards' words and windows are reached only through atomics and the window locks
    // described above; the shard states only under their locks.

    static var shardCount: Int { 64 }
    /// A window's state word with this bit set is locked.
    static var lockBit: UInt64 { 1 << 63 }
    /// A window's state word with this bit set has moved to a new table (and stays locked).
    static var movedBit: UInt64 { 1 << 62 }
    /// Bytes of an identity: two 64-bit words.
    static var identitySize: Int { 16 }

    /// Per shard: the current table's address with its capacity class in the low 12 bits, or 0.
    private let words: UnsafeMutablePointer<Atomic<UInt>>
    private let shards: [Locked<ShardState>]

    /// What a shard's lock guards.
    struct ShardState: Sendable {
        /// Keys in the current table.
        var count = 0
        /// Every mapping the shard has made (addresses and lengths), unmapped when the store is freed.
        var mappings: [Mapping] = []
    }

    struct Mapping: Sendable {
        let address: UInt
        let length: Int
    }

    init() {
        words = .allocate(capacity: Self.shardCount)
        for index in 0..<Self.shardCount { (words + index).initialize(to: Atomic(0)) }
        shards = (0..<Self.shardCount).map { _ in Locked(ShardState()) }
    }

    deinit {
        for shard in shards {
            shard.withLock { state in
                for mapping in state.mappings {
                    munmap(UnsafeMutableRawPointer(bitPattern: mapping.address), mapping.length)
                }
            }
        }
        words.deinitialize(count: Self.shardCount)
        words.deallocate()
    }

    // MARK: Identities and tables

    /// The identity of a key under a limit.
    struct Identity: Equatable {
        let first: UInt64
        let second: UInt64

        @inline(__always)
        init(hash: UInt64, secondHash: UInt64, limit: RateLimit) {
            first = hash | 1  // never 0, which marks an empty slot; bit 0 is the shard's anyway
            second = secondHash << Window.limitBits | Window.code(limit)
        }

        /// Whether another identity is of the same key, under any limit.
        @inline(__always)
        func isSameKey(first: UInt64, second: UInt64) -> Bool {
            first == self.first && second >> Window.limitBits == self.second >> Window.limitBits
        }

        /// The window's length, from the identity's low bits.
        static func windowMilliseconds(_ second: UInt64) -> UInt64 {
            Window.windowMilliseconds(code: second & (1 << Window.limitBits - 1))
        }
    }

    /// The capacity of class `index`: (8 + index mod 8) × 2^(index / 8 + 1), from 16 slots up.
    @inline(__always)
    static func capacity(ofClass index: Int) -> Int { (8 + index & 7) << (index >> 3 + 1) }

    /// A table: its windows and identities.
    struct Table {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        let classIndex: Int

        @inline(__always)
        init?(word: UInt) {
            guard let base = UnsafeMutableRawPointer(bitPattern: word & ~0xFFF) else { return nil }
            self.base = base
            self.classIndex = Int(word & 0xFFF)
            self.capacity = CompactWindowTable.capacity(ofClass: classIndex)
        }

        init(base: UnsafeMutableRawPointer, classIndex: Int) {
            self.base = base
            self.classIndex = classIndex
            self.capacity = CompactWindowTable.capacity(ofClass: classIndex)
        }

        var word: UInt { UInt(bitPattern: base) | UInt(classIndex) }

        static func length(capacity: Int) -> Int {
            let bytes = capacity * (Window.size + CompactWindowTable.identitySize)
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            return (bytes + page - 1) / page * page
        }

        @inline(__always)
        func state(_ slot: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
            (base + slot &* Window.size).assumingMemoryBound(to: Atomic<UInt64>.self)
        }

        /// The window's bytes after its state word.
        @inline(__always)
        func payload(_ slot: Int) -> UnsafeMutableRawPointer { base + slot &* Window.size + 8 }

        /// Copies a window's payload from another slot (either table); both windows are locked.
        func copyPayload(to slot: Int, from other: Table, _ otherSlot: Int) {
            payload(slot).copyMemory(from: other.payload(otherSlot), byteCount: Window.size - 8)
        }

        @inline(__always)
        func identity(_ slot: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
            (base + capacity &* Window.size + slot &* CompactWindowTable.identitySize)
                .assumingMemoryBound(to: Atomic<UInt64>.self)
        }

        @inline(__always)
        func home(_ first: UInt64) -> Int {
            Int(truncatingIfNeeded: first.multipliedFullWidth(by: UInt64(capacity)).high)
        }

        @inline(__always)
        func next(_ slot: Int) -> Int { slot + 1 == capacity ? 0 : slot + 1 }

        /// The slot holding `identity`, if a probe from its home finds it (a hint without the shard's
        /// lock: it may miss a key being moved).
        @inline(__always)
        func find(_ identity: Identity, from start: Int? = nil) -> Int? {
            var slot = start ?? home(identity.first)
            for _ in 0..<capacity {
                let first = self.identity(slot)[0].load(ordering: .relaxed)
                if first == 0 { return nil }
                if first == identity.first && self.identity(slot)[1].load(ordering: .relaxed) == identity.second {
                    return slot
                }
                slot = next(slot)
            }
            return nil
        }
    }

    // MARK: Window locks

    /// Takes the lock of `slot`'s window and returns its state word (without the lock bit), or `nil`
    /// when the window moved to a new table or no longer holds `identity` (look again).
    @inline(__always)
    private static func lock(_ table: Table, _ slot: Int, holding identity: Identity, expecting guess: UInt64? = nil)
        -> UInt64?
    {
        let state = table.state(slot)
        var current = guess ?? state.pointee.load(ordering: .relaxed)
        var spins = 0
        while true {
            if current & Self.movedBit != 0 { return nil }
            if current & Self.lockBit == 0 {
                let (exchanged, original) = state.pointee.compareExchange(
                    expected: current, desired: current | Self.lockBit, ordering: .acquiring)
                if exchanged { break }
                current = original
                continue
            }
            spins += 1
            if spins > 64 { sched_yield() }
            current = state.pointee.load(ordering: .relaxed)
        }
        let holds =
            table.identity(slot)[0].load(ordering: .relaxed) == identity.first
            && table.identity(slot)[1].load(ordering: .relaxed) == identity.second
        guard holds else {
            state.pointee.store(current, ordering: .releasing)
            return nil
        }
        return current
    }

    /// Takes the lock of a window whose identity cannot change (the shard's lock is held): it waits
    /// only for a check that holds it, or for one that locked an empty slot and will let go.
    @inline(__always)
    private static func lockStable(_ table: Table, _ slot: Int) -> UInt64 {
        let state = table.state(slot)
        var spins = 0
        while true {
            let current = state.pointee.load(ordering: .relaxed)
            if current & Self.lockBit == 0,
                state.pointee.compareExchange(
                    expected: current, desired: current | Self.lockBit, ordering: .acquiring
                ).exchanged
            {
                return current
            }
            spins += 1
            if spins > 64 { sched_yield() }
        }
    }

    // MARK: Checks

    /// Decides a request of `cost` (in 0...limit) for the key with these hashes under `limit`, which
    /// must fit a compact window.
    @inline(__always)
    func acquire(hash: UInt64, secondHash: UInt64, limit: RateLimit, cost: Int, at instant: MonotonicInstant)
        -> RateLimitDecision
    {
        let identity = Identity(hash: hash, secondHash: secondHash, limit: limit)
        let shard = Int(hash & UInt64(Self.shardCount - 1))
        var attempts = 0
        while attempts < 4 {
            attempts += 1
            guard let table = Table(word: words[shard].load(ordering: .acquiring)) else { break }
            // Most keys sit in their home slot: its state word is loaded beside the identity probe, so
            // the two cache misses overlap instead of following one another.
            let home = table.home(identity.first)
            let guess = table.state(home).pointee.load(ordering: .relaxed)
            guard let slot = table.find(identity, from: home) else { break }
            if let state = Self.lock(table, slot, holding: identity, expecting: slot == home ? guess : nil) {
                return Self.decide(table, slot, state: state, limit: limit, cost: cost, at: instant)
            }
        }
        return shards[shard].withLock { state in
            acquireLocked(shard, &state, identity, limit: limit, cost: cost, at: instant)
        }
    }

    @inline(__always)
    private static func decide(
        _ table: Table, _ slot: Int, state: UInt64, limit: RateLimit, cost: Int, at instant: MonotonicInstant
    ) -> RateLimitDecision {
        let (decision, next) = Window.decide(
            state: state, payload: table.payload(slot), limit: limit, cost: cost, at: instant)
        table.state(slot).pointee.store(next, ordering: .releasing)
        return decision
    }

    /// The check with the shard's lock held: the table cannot change, so a key it does not hold is
    /// added.
    private func acquireLocked(
        _ shard: Int, _ state: inout ShardState, _ identity: Identity, limit: RateLimit, cost: Int,
        at instant: MonotonicInstant
    ) -> RateLimitDecision {
        let now = instant.nanoseconds / 1_000_000
        var table = Table(word: words[shard].load(ordering: .acquiring))
        if let current = table, let slot = current.find(identity) {
            let window = Self.lockStable(current, slot)
            return Self.decide(current, slot, state: window, limit: limit, cost: cost, at: instant)
        }
        if table == nil || (state.count + 1) * 8 > table!.capacity * 7 {
            if let current = table {
                state.count -= Self.sweep(current, at: now)
            }
            if table == nil || (state.count + 1) * 4 > table!.capacity * 3 {
                table = grow(shard, &state, from: table, at: now)
            }
        }
        let current = table!
        var slot = current.home(identity.first)
        while current.identity(slot)[0].load(ordering: .relaxed) != 0 { slot = current.next(slot) }
        // An empty window can be locked for a moment by a check that found its key here just before
        // it moved; that check lets go once it sees the identity is not its own.
        _ = Self.lockStable(current, slot)
        // A slot emptied by a removal keeps its old payload: a new key starts from zeros.
        current.payload(slot).initializeMemory(as: UInt8.self, repeating: 0, count: Window.size - 8)
        current.identity(slot)[1].store(identity.second, ordering: .relaxed)
        current.identity(slot)[0].store(identity.first, ordering: .relaxed)
        state.count += 1
        return Self.decide(current, slot, state: 0, limit: limit, cost: cost, at: instant)
    }

    /// Makes the shard's next table: the next capacity class (the first table: 16 slots), with every
    /// key the current one holds that is not idle at `now`. Returns it, published.
    private func grow(_ shard: Int, _ state: inout ShardState, from old: Table?, at now: UInt64) -> Table {
        let classIndex = old.map { $0.classIndex + 1 } ?? 0
        let capacity = Self.capacity(ofClass: classIndex)
        let length = Table.length(capacity: capacity)
        guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            address != MAP_FAILED
        else { fatalError("CompactWindowTable: mmap of \(length) bytes failed: \(errno)") }
        state.mappings.append(Mapping(address: UInt(bitPattern: address), length: length))
        let table = Table(base: address, classIndex: classIndex)
        guard let old else {
            words[shard].store(table.word, ordering: .releasing)
            return table
        }
        var count = 0
        for slot in 0..<old.capacity where old.identity(slot)[0].load(ordering: .relaxed) != 0 {
            let window = Self.lockStable(old, slot)
            let first = old.identity(slot)[0].load(ordering: .relaxed)
            let second = old.identity(slot)[1].load(ordering: .relaxed)
            if !Window.isIdle(
                state: window, payload: old.payload(slot), windowMilliseconds: Identity.windowMilliseconds(second),
                now: now)
            {
                // The new table is not published yet: nothing else can see its slots.
                var target = table.home(first)
                while table.identity(target)[0].load(ordering: .relaxed) != 0 { target = table.next(target) }
                table.copyPayload(to: target, from: old, slot)
                table.state(target).pointee.store(window, ordering: .relaxed)
                table.identity(target)[1].store(second, ordering: .relaxed)
                table.identity(target)[0].store(first, ordering: .relaxed)
                count += 1
            }
            old.state(slot).pointee.store(
                Self.movedBit | Self.lockBit, ordering: .releasing)
        }
        words[shard].store(table.word, ordering: .releasing)
        state.count = count
        // Checks still probing the old table read zeros from now on (empty slots) and look again.
        madvise(old.base, Table.length(capacity: old.capacity), MADV_DONTNEED)
        return table
    }

    // MARK: Removal

    /// Empties `slot`, whose window the caller has locked, and shifts the later entries of its probe
    /// run back so that no probe stops early. The shard's lock is held.
    private static func delete(_ table: Table, _ slot: Int) {
        var hole = slot
        table.identity(hole)[0].store(0, ordering: .relaxed)
        table.identity(hole)[1].store(0, ordering: .relaxed)
        var probe = hole
        while true {
            probe = table.next(probe)
            let first = table.identity(probe)[0].load(ordering: .relaxed)
            if first == 0 { break }
            let home = table.home(first)
            // The entry may move back to the hole unless its home lies cyclically in (hole, probe].
            let stays = hole <= probe ? (hole < home && home <= probe) : (hole < home || home <= probe)
            if stays { continue }
            let window = lockStable(table, probe)
            table.copyPayload(to: hole, from: table, probe)
            table.identity(hole)[1].store(table.identity(probe)[1].load(ordering: .relaxed), ordering: .relaxed)
            table.identity(hole)[0].store(first, ordering: .relaxed)
            table.state(hole).pointee.store(window, ordering: .releasing)
            table.identity(probe)[0].store(0, ordering: .relaxed)
            table.identity(probe)[1].store(0, ordering: .relaxed)
            hole = probe
        }
        table.state(hole).pointee.store(0, ordering: .releasing)
    }

    /// Forgets the key with these hashes, under every limit. Returns how many windows it had.
    @discardableResult
    func remove(hash: UInt64, secondHash: UInt64) -> Int {
        let key = Identity(hash: hash, secondHash: secondHash, limit: .default)
        let shard = Int(hash & UInt64(Self.shardCount - 1))
        return shards[shard].withLock { state in
            guard let table = Table(word: words[shard].load(ordering: .acquiring)) else { return 0 }
            var removed = 0
            var slot = table.home(key.first)
            while true {
                let first = table.identity(slot)[0].load(ordering: .relaxed)
                if first == 0 { break }
                if key.isSameKey(first: first, second: table.identity(slot)[1].load(ordering: .relaxed)) {
                    _ = Self.lockStable(table, slot)
                    Self.delete(table, slot)
                    removed += 1
                    continue  // another entry may have moved into this slot
                }
                slot = table.next(slot)
            }
            state.count -= removed
            return removed
        }
    }

    /// Forgets the idle keys of one table in place. Returns how many.
    private static func sweep(_ table: Table, at now: UInt64) -> Int {
        var removed = 0
        for slot in 0..<table.capacity {
            while true {
                let second = table.identity(slot)[1].load(ordering: .relaxed)
                guard table.identity(slot)[0].load(ordering: .relaxed) != 0 else { break }
                let window = lockStable(table, slot)
                guard
                    Window.isIdle(
                        state: window, payload: table.payload(slot),
                        windowMilliseconds: Identity.windowMilliseconds(second), now: now)
                else {
                    table.state(slot).pointee.store(window, ordering: .releasing)
                    break
                }
                delete(table, slot)
                removed += 1
            }
        }
        return removed
    }

    /// Forgets every key whose window holds nothing inside it at `instant`. Returns how many.
    func sweep(at instant: MonotonicInstant) -> Int {
        let now = instant.nanoseconds / 1_000_000
        var removed = 0
        for shard in 0..<Self.shardCount {
            removed += shards[shard].withLock { state in
                guard let table = Table(word: words[shard].load(ordering: .acquiring)) else { return 0 }
                let swept = Self.sweep(table, at: now)
                state.count -= swept
                return swept
            }
        }
        return removed
    }

    /// How many keys the table holds.
    var count: Int {
        shards.reduce(0) { total, shard in total + shard.withLock { $0.count } }
    }

    /// How many mappings the shards have made, the current ones included.
    var mappingCount: Int {
        shards.reduce(0) { total, shard in total + shard.withLock { $0.mappings.count } }
    }
}
