/// A key record behind one reference: how the in-memory store and the cache hold records, so
/// that the gate's look-up retains one object instead of copying a record and retaining each of
/// its fields.
final class StoredRecord: Sendable {
    let record: KeyRecord

    init(_ record: KeyRecord) {
        self.record = record
    }
}
