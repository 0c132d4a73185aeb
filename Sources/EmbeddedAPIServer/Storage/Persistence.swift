import Dispatch
import Foundation
import KubeCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--data-dir` persistence: a snapshot file plus an append-only log of changes, both made of
/// checksummed records (see docs/reliability.md, "Storage of the embedded API server").
///
/// A change is written to the log (write(2), under the store lock) before it becomes visible;
/// a failed write rolls the change back. Answers wait until the log is fsync'd: one sync thread
/// syncs whatever has been written so far, so concurrent writers share one fdatasync (group
/// commit) and no event loop blocks on the disk. On start the snapshot is loaded, the log
/// replayed and a fresh snapshot written; resourceVersions continue from the highest one seen.
final class Persistence: Sendable {
    enum Op: String { case put, delete }

    /// Version of the record format; data dirs without it (older releases) are migrated on start.
    static let formatVersion = 2
    static let snapshotFormat = "embedded-apiserver-snapshot"
    static let logFormat = "embedded-apiserver-changes"
    static let recoveryHint = "move the data dir away to start empty, or restore a backup"

    let directory: URL
    var snapshotURL: URL { directory.appendingPathComponent("snapshot.json") }
    var logURL: URL { directory.appendingPathComponent("changes.log") }

    /// An open log file; closed when the last user (writer or sync thread) lets go.
    final class LogFile: Sendable {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { closeFD(fd) }
    }

    /// An answer waiting for its changes to be durable.
    struct Waiter {
        var sequence: UInt64
        var done: @Sendable (String?) -> Void
    }

    struct State {
        var file: LogFile?
        /// Size of the log: the next record goes here.
        var offset: Int64 = 0
        /// Batches written / known durable (fsync'd).
        var written: UInt64 = 0
        var durable: UInt64 = 0
        var syncing = false
        var waiters: [Waiter] = []
        /// Set when the log can no longer be trusted (a failed fsync or a failed cleanup after a
        /// failed write): every later write fails until a compaction rewrites the files.
        var failure: String?
    }

    private let state = Mutex(State())
    private let syncQueue = DispatchQueue(label: "embedded-apiserver.storage-sync")
    /// What loading reported (a dropped torn record, a migration).
    let notices = Mutex<[String]>([])

    struct Loaded {
        var rv: Int64
        var collections: [String: [String: JSON]]
    }

    /// A write that did not reach the log (the change is rolled back and the request fails).
    struct WriteFailure: Error, CustomStringConvertible {
        var description: String
    }

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        if !FileManager.default.fileExists(atPath: directory) {
            // The snapshot holds Secrets: only the owner may read the directory.
            try FileManager.default.createDirectory(
                at: self.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    static func report(_ line: String) {
        FileHandle.standardError.write(Data("embedded API server: storage: \(line)\n".utf8))
    }

    private func note(_ line: String) {
        Self.report(line)
        notices.withLock { $0.append(line) }
    }

    // MARK: - record framing

    /// One record: 16 hex digits of the SHA-256 of the JSON, a space, the JSON, a newline.
    static func frame(_ json: JSON) -> [UInt8] {
        let body = json.serialized()
        var out = Array(SHA256Digest.hex(body).utf8.prefix(16))
        out.reserveCapacity(body.count + 18)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: body)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The JSON of a framed record (without its newline), or why it is not one.
    static func unframe(_ line: ArraySlice<UInt8>) -> Result<JSON, WriteFailure> {
        guard line.count > 17, line[line.startIndex + 16] == UInt8(ascii: " ") else {
            return .failure(WriteFailure(description: "not a checksummed record"))
        }
        let body = line[(line.startIndex + 17)...]
        guard Array(SHA256Digest.hex(body).utf8.prefix(16)) == Array(line.prefix(16)) else {
            return .failure(WriteFailure(description: "checksum mismatch"))
        }
        guard let json = try? JSON.parse(body) else { return .failure(WriteFailure(description: "checksum matches but the JSON does not parse")) }
        return .success(json)
    }

    /// A log record of one change.
    static func record(_ op: Op, storageKey: String, key: String, object: JSON, rv: Int64) -> [UInt8] {
        var entry: JSON = ["op": .string(op.rawValue), "s": .string(storageKey), "k": .string(key), "rv": .int(rv)]
        if op == .put { entry["o"] = object }
        return frame(entry)
    }

    func damaged(_ url: URL, at offset: Int, _ reason: String) -> EmbeddedAPIServerError {
        EmbeddedAPIServerError(
            description: "data dir \(directory.path): \(url.path) is damaged at byte \(offset): \(reason); "
                + "the server does not start on damaged storage: \(Self.recoveryHint)")
    }

    // MARK: - loading

    /// Reads snapshot + log; throws (naming file, byte offset and the way out) on damage other
    /// than a torn last log record, which is dropped and reported.
    func load() throws -> Loaded {
        var loaded = Loaded(rv: 0, collections: [:])
        var legacy = false
        if let data = try readIfPresent(snapshotURL) {
            legacy = try loadSnapshot(Array(data), into: &loaded)
        }
        let snapshotRV = loaded.rv
        if let data = try readIfPresent(logURL) {
            legacy = try replayLog(Array(data), after: snapshotRV, into: &loaded) || legacy
        }
        if legacy { note("data dir \(directory.path) has the unversioned format of older releases: migrated to format \(Self.formatVersion)") }
        return loaded
    }

    private func readIfPresent(_ url: URL) throws -> Data? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw EmbeddedAPIServerError(description: "data dir \(directory.path): cannot read \(url.path): \(error)")
        }
    }

    /// Returns whether the snapshot had the unversioned format.
    private func loadSnapshot(_ bytes: [UInt8], into loaded: inout Loaded) throws -> Bool {
        var body = bytes[...]
        while body.last == UInt8(ascii: "\n") { body = body.dropLast() }
        let doc: JSON
        let bodyOffset: Int
        let legacy = body.first == UInt8(ascii: "{")
        if legacy {
            guard let parsed = try? JSON.parse(body) else { throw damaged(snapshotURL, at: 0, "not JSON (unversioned format)") }
            doc = parsed
            bodyOffset = 0
        } else {
            switch Self.unframe(body) {
            case .success(let json): doc = json
            case .failure(let why): throw damaged(snapshotURL, at: 0, why.description)
            }
            bodyOffset = 17
            guard doc["format"]?.stringValue == Self.snapshotFormat else { throw damaged(snapshotURL, at: bodyOffset, "not a snapshot") }
            guard let version = doc["version"]?.intValue, version == Self.formatVersion else {
                throw damaged(
                    snapshotURL, at: bodyOffset,
                    "format version \(doc["version"]?.intValue.map(String.init) ?? "?") (this binary reads \(Self.formatVersion))")
            }
        }
        guard let rvText = doc["rv"]?.stringValue, let rv = Int64(rvText) else { throw damaged(snapshotURL, at: bodyOffset, "no resourceVersion") }
        guard let objects = doc["objects"]?.arrayValue else { throw damaged(snapshotURL, at: bodyOffset, "no object list") }
        loaded.rv = rv
        for (index, entry) in objects.enumerated() {
            guard let s = entry["s"]?.stringValue, let k = entry["k"]?.stringValue, let o = entry["o"], o.objectValue != nil else {
                throw damaged(snapshotURL, at: bodyOffset, "object \(index) has the wrong shape")
            }
            loaded.collections[s, default: [:]][k] = o
        }
        return legacy
    }

    /// Applies the log's changes newer than the snapshot; returns whether it had the unversioned format.
    private func replayLog(_ bytes: [UInt8], after snapshotRV: Int64, into loaded: inout Loaded) throws -> Bool {
        // Records and their offsets; the part after the last newline is a record too (torn).
        var lines: [(offset: Int, line: ArraySlice<UInt8>)] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            lines.append((start, bytes[start..<i]))
            start = i + 1
        }
        if start < bytes.count { lines.append((start, bytes[start...])) }
        var legacy = false
        for (index, (offset, line)) in lines.enumerated() {
            let isLast = index == lines.count - 1
            let entry: JSON
            if index == 0 || legacy, line.first == UInt8(ascii: "{") {
                // The unversioned format of older releases: plain JSON lines, no header.
                guard let json = try? JSON.parse(line) else {
                    if isLast {
                        dropTornTail(at: offset, length: bytes.count - offset, "not JSON")
                        break
                    }
                    throw damaged(logURL, at: offset, "record \(index) is not JSON")
                }
                legacy = true
                entry = json
            } else {
                switch Self.unframe(line) {
                case .success(let json): entry = json
                case .failure(let why):
                    if isLast {
                        dropTornTail(at: offset, length: bytes.count - offset, why.description)
                        return legacy
                    }
                    throw damaged(logURL, at: offset, "record \(index): \(why.description)")
                }
                if index == 0 {
                    guard entry["format"]?.stringValue == Self.logFormat else { throw damaged(logURL, at: offset, "no format header") }
                    guard entry["version"]?.intValue == Self.formatVersion else {
                        throw damaged(
                            logURL, at: offset,
                            "format version \(entry["version"]?.intValue.map(String.init) ?? "?") (this binary reads \(Self.formatVersion))")
                    }
                    continue
                }
            }
            guard let s = entry["s"]?.stringValue, let k = entry["k"]?.stringValue, let rv = entry["rv"]?.intValue.map(Int64.init),
                let op = entry["op"]?.stringValue.flatMap(Op.init(rawValue:))
            else { throw damaged(logURL, at: offset, "record \(index) has the wrong shape") }
            // Records the snapshot already holds (a crash between writing the snapshot and
            // starting the new log) are skipped.
            if rv <= snapshotRV { continue }
            loaded.rv = max(loaded.rv, rv)
            switch op {
            case .delete: loaded.collections[s]?.removeValue(forKey: k)
            case .put:
                guard let o = entry["o"], o.objectValue != nil else { throw damaged(logURL, at: offset, "record \(index) has no object") }
                loaded.collections[s, default: [:]][k] = o
            }
        }
        return legacy
    }

    private func dropTornTail(at offset: Int, length: Int, _ why: String) {
        note("\(logURL.path): dropped a torn last record at byte \(offset) (\(length) bytes, \(why)); it was being written when the server stopped")
    }

    // MARK: - writing

    /// Appends the records of one request (called under the store lock, so the log is in
    /// resourceVersion order). On failure the log is cut back to where it was.
    func append(_ bytes: [UInt8]) throws(WriteFailure) {
        try state.withLock { (s: inout State) throws(WriteFailure) -> Void in
            if let failure = s.failure { throw WriteFailure(description: failure) }
            guard let file = s.file else { throw WriteFailure(description: "\(logURL.path) is closed") }
            let start = s.offset
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return 0 }
                    return pwrite(file.fd, base + done, raw.count - done, off_t(start) + off_t(done))
                }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    let why = "writing \(logURL.path) failed: \(n < 0 ? String(cString: strerror(errno)) : "no progress")"
                    if ftruncate(file.fd, off_t(start)) != 0 {
                        s.failure = "\(why); cutting the partial record off failed too: \(String(cString: strerror(errno)))"
                    }
                    Self.report(why)
                    throw WriteFailure(description: why)
                }
                done += n
            }
            s.offset += Int64(bytes.count)
            s.written += 1
        }
    }

    /// Calls `done` (from the sync thread) once everything written so far is fsync'd, with the
    /// failure if that is impossible; returns false without calling it when nothing is pending.
    func whenDurable(_ done: @escaping @Sendable (String?) -> Void) -> Bool {
        let start = state.withLock { s -> Bool? in
            guard s.durable < s.written else { return nil }
            s.waiters.append(Waiter(sequence: s.written, done: done))
            if s.syncing { return false }
            s.syncing = true
            return true
        }
        guard let start else { return false }
        if start { syncQueue.async { self.syncLoop() } }
        return true
    }

    /// Syncs until nothing is pending: each fdatasync covers every record written before it.
    private func syncLoop() {
        while true {
            let (file, target) = state.withLock { ($0.file, $0.written) }
            var error: String?
            if let file, syncData(file.fd) != 0 { error = "fdatasync of \(logURL.path) failed: \(String(cString: strerror(errno)))" }
            if let error { Self.report(error + "; later writes fail until restart") }
            let (ready, failure, again) = state.withLock { s -> ([Waiter], String?, Bool) in
                if let error {
                    s.failure = s.failure ?? error
                } else if file != nil {
                    s.durable = max(s.durable, target)
                }
                let failed = s.failure != nil || s.file == nil
                let ready = s.waiters.filter { failed || $0.sequence <= s.durable }
                s.waiters.removeAll { failed || $0.sequence <= s.durable }
                let again = !failed && s.durable < s.written
                if !again { s.syncing = false }
                return (ready, s.failure ?? (s.file == nil ? "\(logURL.path) is closed" : nil), again)
            }
            for w in ready { w.done(failure) }
            if !again { return }
        }
    }

    /// Writes a full snapshot and starts an empty log, each durably: temporary file, fsync,
    /// rename over the old one, fsync of the directory. The old log stays until the snapshot is
    /// in place (a crash in between replays records the snapshot already has: they are skipped).
    func compact(rv: Int64, collections: [String: [String: JSON]]) throws {
        var objects: [JSON] = []
        for (s, objs) in collections {
            for (k, o) in objs { objects.append(["s": .string(s), "k": .string(k), "o": o]) }
        }
        let doc: JSON = [
            "format": .string(Self.snapshotFormat), "version": .int(Int64(Self.formatVersion)), "rv": .string(String(rv)), "objects": .array(objects),
        ]
        closeFD(try Self.replaceDurably(snapshotURL, with: Self.frame(doc), in: directory))
        let header = Self.frame(["format": .string(Self.logFormat), "version": .int(Int64(Self.formatVersion))])
        let fd = try Self.replaceDurably(logURL, with: header, in: directory)
        let ready = state.withLock { s -> [Waiter] in
            s.file = LogFile(fd: fd)
            s.offset = Int64(header.count)
            // The snapshot holds everything written so far.
            s.durable = s.written
            s.failure = nil
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in ready { w.done(nil) }
    }

    /// Writes `url` through a synced temporary file (mode 0600) renamed over it, then syncs
    /// `directory`; returns the open file.
    static func replaceDurably(_ url: URL, with bytes: [UInt8], in directory: URL) throws -> Int32 {
        let tmp = url.path + ".tmp"
        func fail(_ what: String) -> EmbeddedAPIServerError {
            EmbeddedAPIServerError(description: "data dir \(directory.path): \(what) failed: \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("creating \(tmp)") }
        var ok = fchmod(fd, 0o600) == 0
        var done = 0
        while ok && done < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + done, raw.count - done)
            }
            if n < 0 && errno == EINTR { continue }
            ok = n > 0
            done += max(n, 0)
        }
        guard ok, syncData(fd) == 0 else {
            let error = fail("writing \(tmp)")
            closeFD(fd)
            unlink(tmp)
            throw error
        }
        guard rename(tmp, url.path) == 0 else {
            let error = fail("renaming \(tmp) to \(url.lastPathComponent)")
            closeFD(fd)
            throw error
        }
        let dir = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if dir >= 0 { closeFD(dir) } }
        guard dir >= 0, fsync(dir) == 0 else {
            let error = fail("syncing the directory")
            closeFD(fd)
            throw error
        }
        return fd
    }

    /// Stops writing (after syncing what is pending); answers still waiting learn the outcome.
    func close() {
        let (ready, failure) = state.withLock { s -> ([Waiter], String?) in
            if s.durable < s.written, let file = s.file {
                if syncData(file.fd) == 0 {
                    s.durable = s.written
                } else {
                    s.failure = s.failure ?? "fdatasync of \(logURL.path) failed: \(String(cString: strerror(errno)))"
                }
            }
            s.file = nil
            defer { s.waiters = [] }
            return (s.waiters, s.durable < s.written ? s.failure : nil)
        }
        for w in ready { w.done(failure) }
    }
}

func closeFD(_ fd: Int32) { _ = close(fd) }

/// fdatasync where there is one: the log's metadata (its size) is covered, access times are not.
private func syncData(_ fd: Int32) -> Int32 {
    #if os(Linux)
        fdatasync(fd)
    #else
        fsync(fd)
    #endif
}
