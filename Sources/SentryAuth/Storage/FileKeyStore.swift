#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A ``KeyStore`` that keeps every record (digests and hints, never keys) in one JSON file.
///
/// - **Atomic writes.** A change is written to a temporary file in the same directory, `fsync`ed,
///   renamed over the store, and the directory is `fsync`ed: after a crash the file holds either
///   the old records or the new ones, never a mix, and a change that returned is on disk.
/// - **Many processes.** Every change takes an exclusive `flock` on `FILE.lock` for its whole
///   read-change-write, so two processes writing at once are serialized and neither loses the
///   other's change.
/// - **Links and permissions.** A path that is a symbolic link is resolved (to its final target, in
///   its real directory) before every change, and the target is locked and written: every name for
///   one file shares one lock and one content, and the link stays a link. A write keeps the
///   existing file's mode, and its owner and group where the writer is permitted to; a new file is
///   created with mode 0600.
/// - **Never silently replaced.** A file that does not parse, or cannot be read, is an error
///   (``FileKeyStoreError``), never treated as empty. A missing file is an empty store; the first
///   change creates it.
///
/// Reads parse the file again only when its size, inode or modification time changed.
///
/// ```swift
/// let store = FileKeyStore(path: "/var/lib/sentry/keys.json")
/// let manager = KeyManager(store: store)
/// ```
public final class FileKeyStore: KeyStore {
    /// The store's file.
    public let path: String
    /// The catalog scope sets are decoded in.
    public let catalog: ScopeCatalog

    private struct Document: Codable {
        var version: Int
        var records: [KeyRecord]
        /// Every key's audit trail, oldest first; absent in files written before audit trails.
        var events: [KeyEvent]?
    }

    private struct Snapshot: Sendable {
        var signature: FileSignature?
        var records: [KeyRecord] = []
        /// Each record by digest, built once per parse: a look-up is one hash probe, and the gate
        /// shares the stored record instead of copying it.
        var byDigest: [KeyDigest: StoredRecord] = [:]

        init(signature: FileSignature? = nil, records: [KeyRecord] = []) {
            self.signature = signature
            self.records = records
            for record in records where byDigest[record.digest] == nil {
                byDigest[record.digest] = StoredRecord(record)
            }
        }
    }

    private struct FileSignature: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var modifiedNanoseconds: Int64
    }

    private let cache = Locked(Snapshot())

    /// Opens (lazily) the store at `path`.
    ///
    /// - Parameters:
    ///   - path: The JSON file; its directory must exist.
    ///   - catalog: The scope catalog of the records; the Sentry catalog by default.
    public init(path: String, catalog: ScopeCatalog = .sentry) {
        self.path = path
        self.catalog = catalog
    }

    // MARK: Reads

    /// The record whose key has `digest`, or `nil`.
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The record, if one has that digest.
    /// - Throws: ``FileKeyStoreError`` when the file cannot be read or does not parse.
    public func record(forDigest digest: KeyDigest) async throws -> KeyRecord? {
        try storedRecord(forDigest: digest)?.record
    }

    /// The stored record for `digest`, shared, not copied, without suspending: the gate's look-up.
    func storedRecord(forDigest digest: KeyDigest) throws -> StoredRecord? {
        // The probe happens under the snapshot's lock: copying the snapshot out would retain its
        // record array and index, objects every request shares.
        let signature = try Self.signature(of: path)
        let cached = cache.withLock { snapshot -> StoredRecord?? in
            guard signature != nil, snapshot.signature == signature else { return nil }
            return .some(snapshot.byDigest[digest])
        }
        if let cached { return cached }
        return try currentSnapshot().byDigest[digest]
    }

    /// The record with the identifier `id`, or `nil`.
    ///
    /// - Parameter id: A key identifier.
    /// - Returns: The record, if one has that identifier.
    /// - Throws: ``FileKeyStoreError``.
    public func record(withID id: APIKeyID) async throws -> KeyRecord? {
        try currentRecords().first { $0.id == id }
    }

    /// Every record of a merchant, ordered by creation time, then identifier.
    ///
    /// - Parameter merchantID: The merchant.
    /// - Returns: The merchant's records.
    /// - Throws: ``FileKeyStoreError``.
    public func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] {
        try allRecords().filter { $0.merchantID == merchantID }
    }

    /// Every record, ordered by creation time, then identifier.
    ///
    /// - Returns: The records.
    /// - Throws: ``FileKeyStoreError``.
    public func allRecords() throws -> [KeyRecord] {
        try currentRecords().sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    private func currentRecords() throws -> [KeyRecord] { try currentSnapshot().records }

    /// The parsed file: the cached parse while the file's signature (device, inode, size,
    /// modification time) is unchanged, else a new parse.
    private func currentSnapshot() throws -> Snapshot {
        let signature = try Self.signature(of: path)
        if let cached = cache.withLock({ $0.signature == signature && signature != nil ? $0 : nil }) {
            return cached
        }
        let (records, readSignature) = try loadRecords()
        let snapshot = Snapshot(signature: readSignature, records: records)
        cache.withLock { $0 = snapshot }
        return snapshot
    }

    // MARK: Writes

    /// Adds a new record.
    ///
    /// - Parameter record: The record.
    /// - Throws: ``KeyStoreError/duplicateKey``; ``FileKeyStoreError``.
    public func insert(_ record: KeyRecord) async throws {
        _ = try change { records in
            guard !records.contains(where: { $0.id == record.id || $0.digest == record.digest }) else {
                throw KeyStoreError.duplicateKey
            }
            records.append(record)
            return true
        }
    }

    /// Replaces a record only if it is still exactly `current`.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement, with the same identifier, digest and merchant.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    /// - Throws: ``KeyStoreError/identityChanged``; ``FileKeyStoreError``.
    public func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool {
        guard new.id == current.id, new.digest == current.digest, new.merchantID == current.merchantID else {
            throw KeyStoreError.identityChanged
        }
        return try change { records in
            guard let index = records.firstIndex(where: { $0.id == current.id }), records[index] == current else {
                return false
            }
            records[index] = new
            return true
        }
    }

    /// Removes a record, if it is still exactly `current`.
    ///
    /// - Parameter current: The record as the caller last read it.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    /// - Throws: ``FileKeyStoreError``.
    public func remove(_ current: KeyRecord) async throws -> Bool {
        try changeDocument { document in
            guard let index = document.records.firstIndex(where: { $0.id == current.id }),
                document.records[index] == current
            else { return false }
            document.records.remove(at: index)
            document.events?.removeAll { $0.keyID == current.id }
            return true
        }
    }

    /// Adds a record and its audit event in one atomic write of the file.
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - event: What happened.
    /// - Throws: ``KeyStoreError/duplicateKey``; ``FileKeyStoreError``.
    public func insert(_ record: KeyRecord, event: KeyEvent) async throws {
        _ = try changeDocument { document in
            guard !document.records.contains(where: { $0.id == record.id || $0.digest == record.digest }) else {
                throw KeyStoreError.duplicateKey
            }
            document.records.append(record)
            document.events = (document.events ?? []) + [event]
            return true
        }
    }

    /// Replaces a record, if it is still exactly `current`, and records the event, in one atomic write.
    ///
    /// - Parameters:
    ///   - current: The record as the caller last read it.
    ///   - new: The replacement.
    ///   - event: What happened.
    /// - Returns: `false`, changing and recording nothing, when the record changed.
    /// - Throws: ``KeyStoreError/identityChanged``; ``FileKeyStoreError``.
    public func replace(_ current: KeyRecord, with new: KeyRecord, event: KeyEvent) async throws -> Bool {
        guard new.id == current.id, new.digest == current.digest, new.merchantID == current.merchantID else {
            throw KeyStoreError.identityChanged
        }
        return try changeDocument { document in
            guard let index = document.records.firstIndex(where: { $0.id == current.id }),
                document.records[index] == current
            else { return false }
            document.records[index] = new
            document.events = (document.events ?? []) + [event]
            return true
        }
    }

    /// `true`: every change is written with its event.
    public var keepsAuditTrail: Bool { true }

    /// The audit trail of a key, oldest first, read from the file.
    ///
    /// - Parameter id: The key.
    /// - Returns: Its events.
    /// - Throws: ``FileKeyStoreError``.
    public func events(forKey id: APIKeyID) async throws -> [KeyEvent] {
        try loadDocument().0.events?.filter { $0.keyID == id } ?? []
    }

    /// Every event in the file, oldest first.
    ///
    /// - Returns: The events.
    /// - Throws: ``FileKeyStoreError``.
    public func allEvents() throws -> [KeyEvent] {
        try loadDocument().0.events ?? []
    }

    /// Records when keys were last used (the later time wins): one locked, atomic write for the
    /// whole batch, and none when nothing changes.
    ///
    /// - Parameter uses: For each key, when it was used, to the minute.
    /// - Throws: ``FileKeyStoreError``.
    public func recordUses(_ uses: [APIKeyID: Date]) async throws {
        guard !uses.isEmpty else { return }
        _ = try change { records in
            var changed = false
            for index in records.indices {
                guard let time = uses[records[index].id], records[index].lastUsedAt.map({ $0 < time }) ?? true else {
                    continue
                }
                records[index].lastUsedAt = time
                changed = true
            }
            return changed
        }
    }

    /// Runs a read-change-write under the exclusive lock; writes only when `body` returns `true`.
    private func change(_ body: (inout [KeyRecord]) throws -> Bool) throws -> Bool {
        try changeDocument { document in try body(&document.records) }
    }

    /// Runs a read-change-write of the whole document (records and events) under the exclusive lock.
    private func changeDocument(_ body: (inout Document) throws -> Bool) throws -> Bool {
        let target = try targetPath()
        let lockPath = target + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw FileKeyStoreError.unwritable(path: lockPath, reason: Self.errnoText()) }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw FileKeyStoreError.unwritable(path: lockPath, reason: Self.errnoText())
            }
        }
        defer { flock(lock, LOCK_UN) }
        var (document, _) = try loadDocument(from: target)
        guard try body(&document) else { return false }
        try persist(document, to: target)
        cache.withLock { $0 = Snapshot() }
        return true
    }

    // MARK: File access

    /// The file the store's path names: symbolic links followed to their final target (which may not
    /// exist yet), in its directory's canonical path, so that every name for one file gives one string.
    private func targetPath() throws -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            if lstat(current, &info) != 0 {
                guard errno == ENOENT else {
                    throw FileKeyStoreError.unreadable(path: current, reason: Self.errnoText())
                }
                return try Self.canonicalDirectory(of: current)
            }
            guard info.st_mode & S_IFMT == S_IFLNK else { return try Self.canonicalDirectory(of: current) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { throw FileKeyStoreError.unreadable(path: current, reason: Self.errnoText()) }
            let link = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : Self.directory(of: current) + "/" + link
        }
        throw FileKeyStoreError.unreadable(path: path, reason: "too many levels of symbolic links")
    }

    /// `path` with its directory part made canonical by `realpath` (the last component kept as is).
    private static func canonicalDirectory(of path: String) throws -> String {
        let directory = directory(of: path)
        guard let resolved = realpath(directory, nil) else {
            throw FileKeyStoreError.unreadable(path: directory, reason: errnoText())
        }
        defer { free(resolved) }
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        let base = String(cString: resolved)
        return (base == "/" ? "" : base) + "/" + name
    }

    private static func directory(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
    }

    private func loadRecords(from file: String? = nil) throws -> ([KeyRecord], FileSignature?) {
        let (document, signature) = try loadDocument(from: file)
        return (document.records, signature)
    }

    private func loadDocument(from file: String? = nil) throws -> (Document, FileSignature?) {
        let path = file ?? self.path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return (Document(version: 1, records: []), nil) }
            throw FileKeyStoreError.unreadable(path: path, reason: Self.errnoText())
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw FileKeyStoreError.unreadable(path: path, reason: Self.errnoText())
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileKeyStoreError.unreadable(path: path, reason: Self.errnoText())
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom(Self.decodeDate)
        decoder.userInfo[.scopeCatalog] = catalog
        let document: Document
        do {
            document = try decoder.decode(Document.self, from: Data(bytes))
        } catch {
            throw FileKeyStoreError.corrupted(path: path, reason: Self.describe(error))
        }
        guard document.version == 1 else {
            throw FileKeyStoreError.corrupted(path: path, reason: "unsupported version \(document.version)")
        }
        return (document, Self.signature(info))
    }

    private func persist(_ document: Document, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .custom(Self.encodeDate)
        let data = try encoder.encode(document) + Data("\n".utf8)
        let directory = Self.directory(of: path)
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileKeyStoreError.unwritable(path: temporary, reason: Self.errnoText()) }
        // Keep the existing file's mode, and its owner and group where permitted (a server running as
        // another user must still be able to read it). An owner we may not set is left as ours.
        var existing = stat()
        if stat(path, &existing) == 0 {
            if fchown(descriptor, existing.st_uid, existing.st_gid) != 0 {
                _ = fchown(descriptor, uid_t.max, existing.st_gid)
            }
            // After the owner: changing the owner clears set-user-ID bits.
            if fchmod(descriptor, existing.st_mode & 0o7777) != 0 {
                let reason = Self.errnoText()
                close(descriptor)
                unlink(temporary)
                throw FileKeyStoreError.unwritable(path: temporary, reason: reason)
            }
        }
        var written = 0
        let failure: String? = data.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return Self.errnoText()
                }
                written += count
            }
            return fsync(descriptor) == 0 ? nil : Self.errnoText()
        }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw FileKeyStoreError.unwritable(path: temporary, reason: failure)
        }
        guard rename(temporary, path) == 0 else {
            let reason = Self.errnoText()
            unlink(temporary)
            throw FileKeyStoreError.unwritable(path: path, reason: reason)
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else {
                throw FileKeyStoreError.unwritable(path: directory, reason: Self.errnoText())
            }
        }
    }

    private static func signature(of path: String) throws -> FileSignature? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw FileKeyStoreError.unreadable(path: path, reason: errnoText())
        }
        return signature(info)
    }

    private static func signature(_ info: stat) -> FileSignature {
        #if canImport(Darwin)
            let modified = info.st_mtimespec
        #else
            let modified = info.st_mtim
        #endif
        return FileSignature(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(modified.tv_sec), modifiedNanoseconds: Int64(modified.tv_nsec))
    }

    /// Times are written in RFC 3339 to the millisecond (`2027-01-31T09:30:00.250Z`), see ``RFC3339Time``.
    private static func encodeDate(_ date: Date, to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(RFC3339Time.string(from: date))
    }

    private static func decodeDate(from decoder: any Decoder) throws -> Date {
        let container = try decoder.singleValueContainer()
        do {
            return try RFC3339Time.date(from: try container.decode(String.self))
        } catch let error as RFC3339Time.ParseError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.keyNotFound(_, let context),
            DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "not a key store document" : "bad value at \(path)"
        default:
            return "\(error)"
        }
    }
}

/// Why a ``FileKeyStore`` could not read or write its file.
public struct FileKeyStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case corrupted(path: String, reason: String)
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The file exists but does not parse as a key store; it is left untouched.
    public static func corrupted(path: String, reason: String) -> Self { Self(.corrupted(path: path, reason: reason)) }

    /// The file exists but cannot be read.
    public static func unreadable(path: String, reason: String) -> Self {
        Self(.unreadable(path: path, reason: reason))
    }

    /// A change could not be written; the store is unchanged.
    public static func unwritable(path: String, reason: String) -> Self {
        Self(.unwritable(path: path, reason: reason))
    }

    /// A message naming the file and the reason.
    public var description: String {
        switch kind {
        case .corrupted(let path, let reason):
            "The key store \(path) is corrupted (\(reason)); it was left untouched."
        case .unreadable(let path, let reason): "The key store \(path) cannot be read: \(reason)."
        case .unwritable(let path, let reason): "The key store could not write \(path): \(reason); nothing changed."
        }
    }
}
