#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// The lock-free read side of one ``CachedKeyStore`` shard: its confirmed entries by digest, in an
/// open-addressing table (linear probing) that readers probe without taking a lock while a writer
/// changes it.
///
/// **Readers** never lock and never wait for a writer: a reader announces itself in the reader
/// count of the current *epoch* (one of two, by parity), checks that the epoch has not moved (else
/// it tries again), probes, copies out what it needs and leaves. A reader can miss an entry that a
/// writer is moving at that moment; the caller then takes the locked path, which always finds it.
/// It never sees another digest's entry: the whole digest is compared.
///
/// **Writers** hold the shard's lock (one at a time) and never free an entry a reader may still be
/// looking at. A removed entry is *retired*; ``synchronize()`` flips the epoch and waits until the
/// previous epoch's readers have left, then releases what was retired before the flip. A reader
/// that saw the entry had registered, and checked the epoch, before the flip (the removal precedes
/// the flip, and every operation on the epoch and the counts is sequentially consistent), so it is
/// counted in the epoch waited for; one that registers later cannot see the entry. A reader counted
/// under an epoch the flip did not wait for had registered after an earlier writer's wait, so after
/// that writer's flip, so after every removal before it.
///
/// After ``synchronize()`` returns, no reader that starts later can see anything removed before it:
/// the cache's rule that an invalidated key is never served again rests on this. The price is on
/// the writer: a reader the scheduler stops in the middle of its probe (a few dozen nanoseconds of
/// work) delays the writer, never another reader, until it runs again.
final class CacheIndex: @unchecked Sendable {
    // @unchecked: `retired` and `count` are touched only by writers, which hold the shard's lock;
    // the slots, the epoch and the reader counts are atomics.

    /// One cached answer, immutable once published.
    final class Entry: Sendable {
        let digest: KeyDigest
        /// The record, or `nil` for a digest the store does not know.
        let stored: StoredRecord?
        let loadedAt: MonotonicInstant

        init(digest: KeyDigest, stored: StoredRecord?, loadedAt: MonotonicInstant) {
            self.digest = digest
            self.stored = stored
            self.loadedAt = loadedAt
        }
    }

    private let slots: UnsafeMutablePointer<Atomic<Unmanaged<Entry>?>>
    private let mask: Int
    private let epoch = Atomic<Int>(0)
    /// The reader counts of the even and the odd epoch, a cache line apart (at 0 and 8).
    private let readerCounts: UnsafeMutablePointer<Atomic<Int>>
    /// Removed entries not yet released (writers only).
    private var retired: [Unmanaged<Entry>] = []
    /// Entries in the table (writers only).
    private(set) var count = 0

    /// A table for `capacity` entries and one more (a shard stores before it evicts), at most half full.
    init(capacity: Int) {
        let size = max(16, 1 << (Int.bitWidth - (2 * max(1, capacity) + 1).leadingZeroBitCount))
        mask = size - 1
        slots = .allocate(capacity: size)
        for index in 0..<size { (slots + index).initialize(to: Atomic(nil)) }
        readerCounts = .allocate(capacity: 16)
        for index in 0..<16 { (readerCounts + index).initialize(to: Atomic(0)) }
    }

    deinit {
        for index in 0...mask { slots[index].load(ordering: .relaxed)?.release() }
        for entry in retired { entry.release() }
        slots.deinitialize(count: mask + 1)
        slots.deallocate()
        readerCounts.deinitialize(count: 16)
        readerCounts.deallocate()
    }

    /// Where a digest's probe starts. The shard was chosen by the digest's first word; this uses
    /// the second.
    @inline(__always)
    private func home(_ digest: KeyDigest) -> Int { Int(truncatingIfNeeded: digest.word1) & mask }

    /// The reader count of the epoch with this parity.
    @inline(__always)
    private func readers(_ parity: Int) -> UnsafeMutablePointer<Atomic<Int>> { readerCounts + 8 &* parity }

    // MARK: Readers

    /// Calls `body` with the entry for `digest`, if the table holds one, without locking.
    @inline(__always)
    func withEntry<Result>(for digest: KeyDigest, _ body: (Entry) -> Result) -> Result? {
        let parity = enter()
        defer { leave(parity) }
        var index = home(digest)
        for _ in 0...mask {
            guard let slot = slots[index].load(ordering: .acquiring) else { return nil }
            let found = slot._withUnsafeGuaranteedRef { entry in entry.digest == digest ? body(entry) : nil }
            if let found { return found }
            index = (index &+ 1) & mask
        }
        return nil
    }

    @inline(__always)
    private func enter() -> Int {
        while true {
            let parity = epoch.load(ordering: .sequentiallyConsistent) & 1
            readers(parity).pointee.add(1, ordering: .sequentiallyConsistent)
            if epoch.load(ordering: .sequentiallyConsistent) & 1 == parity { return parity }
            readers(parity).pointee.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    @inline(__always)
    private func leave(_ parity: Int) {
        readers(parity).pointee.subtract(1, ordering: .sequentiallyConsistent)
    }

    // MARK: Writers (the shard's lock held)

    /// Adds an entry, replacing (and retiring) one for the same digest.
    func insert(_ entry: Entry) {
        var index = home(entry.digest)
        while let slot = slots[index].load(ordering: .relaxed) {
            if slot.takeUnretainedValue().digest == entry.digest {
                slots[index].store(Unmanaged.passRetained(entry), ordering: .releasing)
                retired.append(slot)
                return
            }
            index = (index &+ 1) & mask
        }
        // Never more than half full, so probes stay short and always end. (The shard keeps fewer
        // entries than this; if it ever did not, the entry would only be found by the locked path.)
        guard count < (mask + 1) / 2 else { return }
        slots[index].store(Unmanaged.passRetained(entry), ordering: .releasing)
        count += 1
    }

    /// Removes (and retires) the entry for `digest`, if any, shifting the entries after it back so
    /// that no probe needs a tombstone (Knuth's algorithm R).
    func remove(_ digest: KeyDigest) {
        var hole = home(digest)
        while true {
            guard let slot = slots[hole].load(ordering: .relaxed) else { return }
            if slot.takeUnretainedValue().digest == digest {
                retired.append(slot)
                break
            }
            hole = (hole &+ 1) & mask
        }
        slots[hole].store(nil, ordering: .releasing)
        count -= 1
        var next = hole
        while true {
            next = (next &+ 1) & mask
            guard let slot = slots[next].load(ordering: .relaxed) else { return }
            let start = home(slot.takeUnretainedValue().digest)
            // An entry may fill the hole unless its probe starts cyclically in (hole, next].
            let staysPut = hole <= next ? (hole < start && start <= next) : (hole < start || start <= next)
            if staysPut { continue }
            slots[hole].store(slot, ordering: .releasing)  // seen twice for a moment: harmless
            slots[next].store(nil, ordering: .releasing)  // a reader may miss it now: it takes the locked path
            hole = next
        }
    }

    /// Removes (and retires) every entry.
    func removeAll() {
        for index in 0...mask {
            if let slot = slots[index].exchange(nil, ordering: .acquiringAndReleasing) { retired.append(slot) }
        }
        count = 0
    }

    /// Flips the epoch, waits for the previous epoch's readers to leave, and releases every entry
    /// retired before: after it returns, no reader can see them.
    func synchronize() {
        guard !retired.isEmpty else { return }
        let previous = epoch.add(1, ordering: .sequentiallyConsistent).oldValue & 1
        var spins = 0
        while readers(previous).pointee.load(ordering: .sequentiallyConsistent) != 0 {
            spins += 1
            if spins >= 64 {
                sched_yield()
                spins = 0
            }
        }
        for entry in retired { entry.release() }
        retired.removeAll(keepingCapacity: true)
    }
}
