import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded API server's storage never acknowledges what it has not durably written, and
/// refuses damaged data dirs (see docs/reliability.md, "Storage of the embedded API server").
@Suite(.serialized) struct DurabilityTests {
    /// The apiserver subcommand, relative to the package root (the one place to change when the
    /// command moves to another executable).
    static let apiserverExecutable = ".build/debug/calico-dev"

    static let configMaps = "/api/v1/namespaces/default/configmaps"

    static func configMap(_ name: String, bytes: Int = 16) -> JSON {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["v": .string(String(repeating: "x", count: bytes))]]
    }

    static func names(_ c: LoopbackHTTPClient) async throws -> Set<String> {
        let items = try await c.get(configMaps).json["items"]?.arrayValue ?? []
        return Set(items.compactMap { $0[path: "metadata", "name"]?.stringValue })
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    // MARK: - a real full file system

    static func shell(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// 1 MiB tmpfs (root only): writes fail with ENOSPC; each failure is a 500 InternalError,
    /// leaves no trace in objects, watches or resourceVersions, and every acknowledged write is
    /// there after a restart.
    @Test(.enabled(if: getuid() == 0), .timeLimit(.minutes(2))) func fullDiskFailsWritesAndLosesNothingAcknowledged() async throws {
        let mnt = try TestDirectories.make("apiserver-full")
        defer { try? FileManager.default.removeItem(at: mnt) }
        try #require(Self.shell("mount -t tmpfs -o size=1m tmpfs '\(mnt.path)'") == 0, "mount tmpfs")
        defer { _ = Self.shell("umount '\(mnt.path)'") }
        let dir = mnt.appendingPathComponent("data").path
        var acknowledged: [String] = []
        var deleted: String?
        try await withServer(crd: false, EmbeddedAPIServerConfiguration(dataDirectory: dir)) { server, c in
            let watcher = try server.makeTestClient()
            defer { Task { await watcher.close() } }
            var events = watcher.watch("\(Self.configMaps)?watch=true&resourceVersion=\(server.currentResourceVersion)").makeAsyncIterator()
            var failure: LoopbackHTTPClient.Response?
            var lastRV = ""
            for i in 0..<400 {
                let r = try await c.post(Self.configMaps, Self.configMap("cm\(i)", bytes: 8 * 1024))
                if r.status == 201 {
                    acknowledged.append("cm\(i)")
                    lastRV = r.json[path: "metadata", "resourceVersion"]?.stringValue ?? ""
                } else {
                    failure = r
                    break
                }
            }
            let failed = try #require(failure, "the 1 MiB file system never filled up")
            #expect(failed.status == 500)
            #expect(failed.json["reason"] == "InternalError")
            #expect(failed.json["message"]?.stringValue?.contains("No space left on device") == true, "\(failed.text)")
            // The failed create left nothing behind: no object, no resourceVersion used.
            let gone = try await c.get("\(Self.configMaps)/cm\(acknowledged.count)").status
            #expect(gone == 404)
            #expect(String(server.currentResourceVersion) == lastRV)
            let present = try await Self.names(c)
            #expect(present.isSuperset(of: acknowledged))
            // A small write may still fit; if it does, watchers see it right after the last
            // acknowledged create, never the failed one.
            let victim = acknowledged[0]
            let d = try await c.delete("\(Self.configMaps)/\(victim)")
            #expect(d.status == 200 || d.status == 500)
            if d.status == 200 {
                deleted = victim
                var seen: [String] = []
                while let e = try await events.next() {
                    seen.append("\(e["type"]?.stringValue ?? "") \(e[path: "object", "metadata", "name"]?.stringValue ?? "")")
                    if e["type"] == "DELETED" { break }
                }
                #expect(seen == acknowledged.map { "ADDED \($0)" } + ["DELETED \(victim)"])
            }
        }
        // Room to start again (the start writes a fresh snapshot next to the old files).
        try #require(Self.shell("mount -o remount,size=16m '\(mnt.path)'") == 0)
        try await withServer(crd: false, EmbeddedAPIServerConfiguration(dataDirectory: dir)) { _, c in
            let names = try await Self.names(c)
            let expected = Set(acknowledged).subtracting(deleted.map { [$0] } ?? [])
            #expect(names.isSuperset(of: expected), "lost: \(expected.subtracting(names).sorted())")
            #expect(names.intersection(Set(acknowledged)) == expected)
        }
    }

    // MARK: - kill -9 during writes

    /// The apiserver as a child process on `dataDir`, its kubeconfig in a fresh directory.
    static func startChild(dataDir: String) throws -> APIServerProcess {
        try APIServerProcess(
            executable: SharedFixtures.packageRoot.appendingPathComponent(apiserverExecutable).path, dataDir: dataDir,
            kubeconfig: try TestDirectories.make("kubeconfig").appendingPathComponent("config").path)
    }

    /// What writers learned: acknowledged creates and deletes (in-flight ones may go either way).
    actor Ledger {
        var created: Set<String> = []
        var deleted: Set<String> = []
        /// Deletes sent, acknowledged or not (their objects may be gone).
        var deleting: Set<String> = []
        func create(_ n: String) { created.insert(n) }
        func deleteSent(_ n: String) { deleting.insert(n) }
        func delete(_ n: String) { deleted.insert(n) }
    }

    @Test(.timeLimit(.minutes(3))) func killDuringWritesLosesNothingAcknowledged() async throws {
        let dir = try TestDirectories.make("apiserver-kill").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ledger = Ledger()
        for round in 0..<4 {
            let child = try Self.startChild(dataDir: dir)
            defer { child.kill() }
            let c = try await child.client()
            defer { Task { await c.close() } }
            // Everything acknowledged before the previous kill is there; nothing deleted came back.
            let names = try await Self.names(c)
            let created = await ledger.created
            let deleted = await ledger.deleted
            let mustExist = created.subtracting(await ledger.deleting)
            #expect(names.isSuperset(of: mustExist), "lost: \(mustExist.subtracting(names).sorted())")
            #expect(names.isDisjoint(with: deleted), "resurrected: \(names.intersection(deleted).sorted())")
            if round == 3 { break }
            var clients: [LoopbackHTTPClient] = []
            for _ in 0..<4 { clients.append(try await child.client()) }
            let writers = clients.enumerated().map { w, wc in
                Task {
                    defer { Task { await wc.close() } }
                    for i in 0..<10_000 {
                        let name = "r\(round)-w\(w)-\(i)"
                        guard let r = try? await wc.post(Self.configMaps, Self.configMap(name, bytes: 512)) else { return }
                        if r.status == 201 { await ledger.create(name) }
                        if i % 3 == 0 {
                            await ledger.deleteSent(name)
                            guard let d = try? await wc.delete("\(Self.configMaps)/\(name)") else { return }
                            if d.status == 200 { await ledger.delete(name) }
                        }
                    }
                }
            }
            // Kill at a random point once some writes went through.
            while await ledger.created.count < (round + 1) * 30 { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...200)))
            child.kill()
            for w in writers { _ = await w.result }
        }
    }

    // MARK: - damaged files

    /// A data dir left by a killed server: objects a, b, c created, then b deleted (all in the log).
    static func killedDataDir() async throws -> String {
        let dir = try TestDirectories.make("apiserver-damage").appendingPathComponent("data").path
        let child = try Self.startChild(dataDir: dir)
        defer { child.kill() }
        let c = try await child.client()
        defer { Task { await c.close() } }
        for n in ["a", "b", "c"] { #expect(try await c.post(configMaps, configMap(n)).status == 201) }
        #expect(try await c.delete("\(configMaps)/b").status == 200)
        child.kill()
        return dir
    }

    /// Byte offsets of the log's records.
    static func recordOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") && i + 1 < bytes.count { offsets.append(i + 1) }
        return offsets
    }

    static func copy(_ dir: String) throws -> String {
        let to = try TestDirectories.make("apiserver-damage-copy").appendingPathComponent("data").path
        try FileManager.default.copyItem(atPath: dir, toPath: to)
        return to
    }

    static func flip(_ path: String, at offset: Int) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func startError(_ dir: String) async -> String? {
        do {
            let server = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(dataDirectory: dir))
            try? await server.shutdown()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test(.timeLimit(.minutes(2))) func damagedFilesAreReportedOrRefused() async throws {
        let dir = try await Self.killedDataDir()
        let log = "\(dir)/changes.log"
        let snapshot = "\(dir)/snapshot.json"
        let logBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: log)))
        let offsets = Self.recordOffsets(logBytes)
        // Header, creates a, b, c, delete b.
        #expect(offsets.count == 5, "\(offsets)")

        // A damaged record in the middle of the log: refused, naming file and offset.
        let middle = try Self.copy(dir)
        try Self.flip("\(middle)/changes.log", at: offsets[2] + 30)
        let middleError = try #require(await Self.startError(middle))
        #expect(middleError.contains("\(middle)/changes.log is damaged at byte \(offsets[2])"), "\(middleError)")
        #expect(middleError.contains("move the data dir away to start empty, or restore a backup"))

        // A damaged snapshot: refused.
        let snap = try Self.copy(dir)
        try Self.flip("\(snap)/snapshot.json", at: 40)
        let snapError = try #require(await Self.startError(snap))
        #expect(snapError.contains("\(snap)/snapshot.json is damaged at byte 0: checksum mismatch"), "\(snapError)")

        // A snapshot of the wrong shape (even an unversioned one): refused, never an empty start.
        for bad in ["{}", "[1,2]", "{\"rv\":\"5\",\"objects\":[{\"s\":\"/configmaps\"}]}", "garbage"] {
            let wrong = try Self.copy(dir)
            try Data(bad.utf8).write(to: URL(fileURLWithPath: "\(wrong)/snapshot.json"))
            let e = try #require(await Self.startError(wrong), "started on snapshot \(bad)")
            #expect(e.contains("\(wrong)/snapshot.json is damaged at byte 0"), "\(e)")
        }

        // A torn last record (a crash mid-write): dropped and reported; the rest is there.
        for torn in ["flip", "cut"] {
            let tail = try Self.copy(dir)
            if torn == "flip" {
                try Self.flip("\(tail)/changes.log", at: offsets[4] + 30)
            } else {
                try Data(logBytes[..<(offsets[4] + 20)]).write(to: URL(fileURLWithPath: "\(tail)/changes.log"))
            }
            try await withServer(crd: false, EmbeddedAPIServerConfiguration(dataDirectory: tail)) { server, c in
                #expect(server.storageNotices.contains { $0.contains("\(tail)/changes.log: dropped a torn last record at byte \(offsets[4])") })
                // The delete of b was the torn record.
                let names = try await Self.names(c)
                #expect(names.isSuperset(of: ["a", "b", "c"]))
            }
        }

        // The undamaged dir starts with a, c; b stays deleted.
        try await withServer(crd: false, EmbeddedAPIServerConfiguration(dataDirectory: dir)) { server, c in
            #expect(server.storageNotices.isEmpty)
            let names = try await Self.names(c)
            #expect(names.isSuperset(of: ["a", "c"]) && !names.contains("b"))
        }
        // After a clean start the log is only a header and the snapshot holds everything.
        #expect(Self.recordOffsets(try [UInt8](Data(contentsOf: URL(fileURLWithPath: log)))).count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: snapshot)).first != UInt8(ascii: "{"))
    }

    /// Data dirs from before the versioned format are migrated on start.
    @Test(.timeLimit(.minutes(1))) func unversionedDataDirIsMigrated() async throws {
        let dir = try TestDirectories.make("apiserver-legacy").path
        let old: JSON = ["metadata": ["name": "old", "namespace": "default", "resourceVersion": "7"], "kind": "ConfigMap", "apiVersion": "v1"]
        let snapshot: JSON = ["rv": "7", "objects": [["s": "/configmaps", "k": "default/old", "o": old]]]
        try Data(snapshot.serialized()).write(to: URL(fileURLWithPath: "\(dir)/snapshot.json"))
        var late = old
        late[path: "metadata", "name"] = "late"
        let line: JSON = ["op": "put", "s": "/configmaps", "k": "default/late", "rv": 8, "o": late]
        try Data(line.serialized() + Array("\n".utf8)).write(to: URL(fileURLWithPath: "\(dir)/changes.log"))
        try await withServer(crd: false, EmbeddedAPIServerConfiguration(dataDirectory: dir)) { server, c in
            #expect(server.storageNotices.contains { $0.contains("migrated") })
            let names = try await Self.names(c)
            #expect(names.isSuperset(of: ["old", "late"]))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/snapshot.json")).first != UInt8(ascii: "{"))
    }

    // MARK: - modes

    @Test(.timeLimit(.minutes(1))) func dataFilesAreOwnerOnly() async throws {
        let dir = try TestDirectories.make("apiserver-modes").appendingPathComponent("data").path
        try await withServer(crd: false, EmbeddedAPIServerConfiguration(dataDirectory: dir)) { _, c in
            let created = try await c.post(Self.configMaps, Self.configMap("m")).status
            #expect(created == 201)
            #expect(try Self.mode(dir) == 0o700)
            #expect(try Self.mode("\(dir)/snapshot.json") == 0o600)
            #expect(try Self.mode("\(dir)/changes.log") == 0o600)
        }
        #expect(try Self.mode("\(dir)/snapshot.json") == 0o600)
        #expect(try Self.mode("\(dir)/changes.log") == 0o600)
    }
}
