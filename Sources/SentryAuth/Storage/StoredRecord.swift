/// A key record behind one reference: how the in-memory store and the cache hold records, so
/// that the gate's look-up retains one object instead of copying a record and retaining each of
/// its fields.
final class StoredRecord: Sendable {
    let record: KeyRecord
    /// `record.id.hashValue`, computed once: the in-memory limiter store's look-up needs it on
    /// every request.
    let idHash: Int
    /// The identifier's second hash, for the in-memory limiter store's compact table.
    let idSecondHash: UInt64

    init(_ record: KeyRecord) {
        self.record = record
        (self.idHash, self.idSecondHash) = InMemoryRateLimitStore<APIKeyID>.hashes(of: record.id)
    }
}
