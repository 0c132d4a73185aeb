import Foundation
import KubeCore
import Synchronization

/// `--data-dir` persistence: a snapshot file plus an append-only log of changes.
/// On start the snapshot is loaded, the log replayed, and a fresh snapshot written; the
/// resourceVersion counter continues from the highest value seen, so clients never see a
/// version reused after a restart.
final class Persistence: Sendable {
    enum Op: String { case put, delete }

    let directory: URL
    private let handle: Mutex<FileHandle?>

    var snapshotURL: URL { directory.appendingPathComponent("snapshot.json") }
    var logURL: URL { directory.appendingPathComponent("changes.log") }

    struct Loaded {
        var rv: Int64
        var collections: [String: [String: JSON]]
    }

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        handle = Mutex(nil)
    }

    /// Reads snapshot + log.
    func load() throws -> Loaded {
        var loaded = Loaded(rv: 0, collections: [:])
        if let data = try? Data(contentsOf: snapshotURL) {
            let doc = try JSON.parse(data)
            loaded.rv = Int64(doc["rv"]?.stringValue ?? "") ?? Int64(doc["rv"]?.intValue ?? 0)
            for entry in doc["objects"]?.arrayValue ?? [] {
                guard let s = entry["s"]?.stringValue, let k = entry["k"]?.stringValue, let o = entry["o"] else { continue }
                loaded.collections[s, default: [:]][k] = o
            }
        }
        if let data = try? Data(contentsOf: logURL) {
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                // A torn last line (crash mid-write) is skipped.
                guard let entry = try? JSON.parse(line), let s = entry["s"]?.stringValue, let k = entry["k"]?.stringValue else { continue }
                let rv = Int64(entry["rv"]?.intValue ?? 0)
                loaded.rv = max(loaded.rv, rv)
                if entry["op"]?.stringValue == Op.delete.rawValue {
                    loaded.collections[s]?.removeValue(forKey: k)
                } else if let o = entry["o"] {
                    loaded.collections[s, default: [:]][k] = o
                }
            }
        }
        return loaded
    }

    /// Writes a full snapshot atomically and starts an empty log.
    func compact(rv: Int64, collections: [String: [String: JSON]]) throws {
        var objects: [JSON] = []
        for (s, objs) in collections {
            for (k, o) in objs { objects.append(["s": .string(s), "k": .string(k), "o": o]) }
        }
        let doc: JSON = ["rv": .string(String(rv)), "objects": .array(objects)]
        let tmp = directory.appendingPathComponent("snapshot.json.tmp")
        try Data(doc.serialized()).write(to: tmp)
        _ = try? FileManager.default.removeItem(at: snapshotURL)
        try FileManager.default.moveItem(at: tmp, to: snapshotURL)
        try handle.withLock { h in
            try? h?.close()
            FileManager.default.createFile(atPath: logURL.path, contents: nil)
            h = try FileHandle(forWritingTo: logURL)
        }
    }

    /// Appends one change (called under the store lock, so the log is in resourceVersion order).
    func record(_ op: Op, storageKey: String, key: String, object: JSON, rv: Int64) {
        var entry: JSON = ["op": .string(op.rawValue), "s": .string(storageKey), "k": .string(key), "rv": .int(rv)]
        if op == .put { entry["o"] = object }
        var bytes = entry.serialized()
        bytes.append(UInt8(ascii: "\n"))
        handle.withLock { h in
            try? h?.write(contentsOf: bytes)
        }
    }

    func close() {
        handle.withLock { h in
            try? h?.synchronize()
            try? h?.close()
            h = nil
        }
    }
}
