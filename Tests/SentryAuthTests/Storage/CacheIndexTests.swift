import Synchronization
import Testing

@testable import SentryAuth

@Suite("Cache index: the lock-free read side of the key cache")
struct CacheIndexTests {
    /// A digest whose probe starts at `home % table size` (the index starts at the second word), and
    /// which says what it is in its last word.
    static func digest(_ number: UInt64, home: UInt64) -> KeyDigest {
        KeyDigest(word0: 0, word1: home, word2: 0, word3: number)
    }

    static func entry(_ digest: KeyDigest) -> CacheIndex.Entry {
        CacheIndex.Entry(digest: digest, stored: nil, loadedAt: MonotonicInstant(nanoseconds: digest.word3))
    }

    static func found(_ index: CacheIndex, _ digest: KeyDigest) -> UInt64? {
        index.withEntry(for: digest) { $0.loadedAt.nanoseconds }
    }

    @Test("100,000 random inserts, replacements and removals on crowded probe sequences agree with a dictionary")
    func agreesWithDictionary() {
        let index = CacheIndex(capacity: 40)  // 128 slots
        var oracle: [KeyDigest: UInt64] = [:]
        var random = SplitMix64(seed: 0xCAC4E)
        // 60 digests over 6 home positions, two of them next to the end of the table: long runs
        // that wrap around, so every case of the backward shift happens.
        let digests = (0..<60).map { Self.digest(UInt64($0), home: [0, 1, 2, 126, 127, 64][$0 % 6]) }
        var removals = 0
        for step in 0..<100_000 {
            let digest = digests[Int(random.next() % 60)]
            if random.next() % 3 == 0 {
                index.remove(digest)
                if oracle.removeValue(forKey: digest) != nil { removals += 1 }
            } else if oracle[digest] != nil || oracle.count < 40 {
                let value = UInt64(step)
                index.insert(
                    CacheIndex.Entry(digest: digest, stored: nil, loadedAt: MonotonicInstant(nanoseconds: value)))
                oracle[digest] = value
            }
            index.synchronize()
            if step % 97 == 0 || step > 99_900 {
                for candidate in digests { #expect(Self.found(index, candidate) == oracle[candidate]) }
                #expect(index.count == oracle.count)
            }
        }
        #expect(removals > 10_000)
        index.removeAll()
        index.synchronize()
        for candidate in digests { #expect(Self.found(index, candidate) == nil) }
    }

    @Test("A removed entry stays alive until synchronize, then is released; the index releases the rest")
    func reclamation() {
        weak var removed: CacheIndex.Entry?
        weak var kept: CacheIndex.Entry?
        var index: CacheIndex? = CacheIndex(capacity: 8)
        do {
            let first = Self.entry(Self.digest(1, home: 3))
            let second = Self.entry(Self.digest(2, home: 3))
            removed = first
            kept = second
            index?.insert(first)
            index?.insert(second)
        }
        #expect(removed != nil && kept != nil)
        index?.remove(Self.digest(1, home: 3))
        #expect(removed != nil)  // retired, not yet released: a reader may still hold it
        #expect(Self.found(index!, Self.digest(2, home: 3)) == 2)  // shifted back into the hole
        index?.synchronize()
        #expect(removed == nil && kept != nil)
        index = nil
        #expect(kept == nil)
    }

    @Test("Readers racing a writer: never a wrong entry, and nothing removed is seen once synchronize has returned")
    func readersRacingWriter() {
        let index = CacheIndex(capacity: 64)
        let digests = (0..<48).map { Self.digest(UInt64($0), home: UInt64($0 % 5)) }
        let gone = Self.digest(1_000, home: 2)
        final class Shared: Sendable {
            let goneRemoved = Atomic<Bool>(false)
            let stop = Atomic<Bool>(false)
            let wrong = Atomic<Int>(0)
            let staleAfterRemoval = Atomic<Int>(0)
            let hits = Atomic<Int>(0)
        }
        let shared = Shared()
        index.insert(Self.entry(gone))
        for digest in digests { index.insert(Self.entry(digest)) }
        // Real threads: two readers and the writer (thread 0), all running at once.
        runOnThreads(3) { thread in
            if thread == 0 {
                var random = SplitMix64(seed: 99)
                // At least 3,000 rounds, and on until the readers have found 1,000 entries (a loaded
                // machine may run the writer's rounds before the readers get a core), at most 300,000.
                for round in 0..<300_000 where round < 3_000 || shared.hits.load(ordering: .relaxed) <= 1_000 {
                    let digest = digests[Int(random.next() % 48)]
                    if random.next() % 2 == 0 { index.insert(Self.entry(digest)) } else { index.remove(digest) }
                    index.synchronize()
                    if round == 1_500 {
                        index.remove(gone)
                        index.synchronize()
                        shared.goneRemoved.store(true, ordering: .releasing)
                    }
                }
                shared.stop.store(true, ordering: .releasing)
                return
            }
            var random = SplitMix64(seed: UInt64(thread))
            // Bounded, in case the writer thread is slow to start.
            for _ in 0..<20_000_000 where !shared.stop.load(ordering: .acquiring) {
                let digest = digests[Int(random.next() % 48)]
                // An entry found is always the entry of that digest.
                if let value = Self.found(index, digest) {
                    shared.hits.add(1, ordering: .relaxed)
                    if value != digest.word3 { shared.wrong.add(1, ordering: .relaxed) }
                }
                let removedBefore = shared.goneRemoved.load(ordering: .acquiring)
                if Self.found(index, gone) != nil && removedBefore {
                    shared.staleAfterRemoval.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(shared.wrong.load(ordering: .relaxed) == 0)
        #expect(shared.staleAfterRemoval.load(ordering: .relaxed) == 0)
        #expect(shared.hits.load(ordering: .relaxed) > 1_000)
    }
}
