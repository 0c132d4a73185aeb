import ArgumentParser
import EmbeddedAPIServerTesting
import Foundation
import KubeCore

#if canImport(Glibc)
    import Glibc
#endif

/// `apiserver-soak`: the embedded API server as a child process with a data dir, killed with
/// SIGKILL at a fixed interval while writers create, update and delete ConfigMaps. After every
/// restart it checks the store against what the server acknowledged: every acknowledged create is
/// there (unless a delete of it was sent), no acknowledged delete came back, and every counter holds
/// at least its last acknowledged value. See docs/reliability.md.
struct APIServerSoak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver-soak",
        abstract: "Kill -9 the embedded API server every --kill-every seconds under writes for --minutes; fails on any lost or resurrected write.")

    @Option(help: "How long to run, in minutes.")
    var minutes: Double = 30

    @Option(help: "Seconds between kills.")
    var killEvery: Double = 60

    @Option(help: "Concurrent writers (one connection each).")
    var writers: Int = 4

    @Option(help: "Bytes of data per ConfigMap.")
    var bytes: Int = 512

    @Option(help: "The development executable that runs the server (`calico-dev apiserver`).")
    var server: String = ".build/release/calico-dev"

    @Option(help: "Data dir (default: a new temporary directory, removed at the end when nothing was lost).")
    var dataDir: String?

    func validate() throws {
        guard minutes > 0, killEvery > 0, writers > 0, bytes >= 0 else {
            throw ValidationError("--minutes, --kill-every and --writers must be positive")
        }
    }

    static let configMaps = "/api/v1/namespaces/default/configmaps"

    /// What the writers were told: acknowledged creates and deletes, deletes sent, counter values.
    actor Ledger {
        var created: Set<String> = []
        var deleted: Set<String> = []
        var deleting: Set<String> = []
        /// Per counter object, the highest value the server acknowledged.
        var counters: [String: Int] = [:]
        var acknowledged = 0

        func create(_ n: String) {
            created.insert(n)
            acknowledged += 1
        }
        func deleteSent(_ n: String) { deleting.insert(n) }
        func delete(_ n: String) {
            deleted.insert(n)
            acknowledged += 1
        }
        func count(_ n: String, _ value: Int) {
            counters[n] = max(counters[n] ?? 0, value)
            acknowledged += 1
        }
    }

    /// What a restart found wrong (empty: nothing lost, nothing resurrected).
    static func check(_ c: LoopbackHTTPClient, _ ledger: Ledger) async throws -> (objects: Int, problems: [String]) {
        let response = try await c.request("GET", configMaps)
        guard response.status == 200, let items = response.json["items"]?.arrayValue else {
            return (0, ["list answered \(response.status): \(response.text.prefix(200))"])
        }
        var names = Set<String>()
        var values: [String: Int] = [:]
        for item in items {
            guard let n = item[path: "metadata", "name"]?.stringValue else { continue }
            names.insert(n)
            if let v = item[path: "data", "count"]?.stringValue.flatMap({ Int($0) }) { values[n] = v }
        }
        let mustExist = await ledger.created.subtracting(await ledger.deleting)
        var problems: [String] = []
        let lost = mustExist.subtracting(names)
        if !lost.isEmpty { problems.append("lost \(lost.count) acknowledged creates, e.g. \(lost.sorted().prefix(5))") }
        let resurrected = names.intersection(await ledger.deleted)
        if !resurrected.isEmpty { problems.append("\(resurrected.count) acknowledged deletes came back, e.g. \(resurrected.sorted().prefix(5))") }
        for (n, acked) in await ledger.counters where (values[n] ?? -1) < acked {
            problems.append("counter \(n) holds \(values[n].map(String.init) ?? "nothing"), acknowledged \(acked)")
        }
        return (items.count, problems)
    }

    /// One writer until its connection fails (the kill) or `deadline`: creates, deletes, and bumps its
    /// counter object after each create.
    static func write(_ c: LoopbackHTTPClient, writer: Int, round: Int, bytes: Int, ledger: Ledger, deadline: ContinuousClock.Instant) async {
        let counter = "counter-\(writer)"
        var value = await ledger.counters[counter] ?? 0
        let payload = String(repeating: "x", count: bytes)
        var i = 0
        while ContinuousClock.now < deadline {
            let name = "r\(round)-w\(writer)-\(i)"
            let object: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["v": .string(payload)]]
            guard let r = try? await c.request("POST", configMaps, json: object) else { return }
            if r.status == 201 { await ledger.create(name) }
            // Delete every third object at once and the rest 200 iterations later: deletes of fresh and
            // of older objects, and a bounded population over a long soak.
            for victim in [i % 3 == 0 ? name : nil, i >= 200 && (i - 200) % 3 != 0 ? "r\(round)-w\(writer)-\(i - 200)" : nil].compactMap({ $0 }) {
                await ledger.deleteSent(victim)
                guard let d = try? await c.request("DELETE", "\(configMaps)/\(victim)") else { return }
                if d.status == 200 { await ledger.delete(victim) }
            }
            value += 1
            let patch: JSON = ["metadata": ["name": .string(counter)], "data": ["count": .string(String(value))]]
            let path = "\(configMaps)/\(counter)?fieldManager=soak"
            guard let p = try? await c.request("PATCH", path, json: patch, contentType: "application/apply-patch+yaml") else { return }
            if p.status == 200 || p.status == 201 { await ledger.count(counter, value) }
            i += 1
        }
    }

    func run() async throws {
        let dir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("apiserver-soak-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let kubeconfig = dir + ".kubeconfig"
        let ledger = Ledger()
        let end = ContinuousClock.now + .seconds(minutes * 60)
        var round = 0
        var failures: [String] = []
        var restartTimes: [Double] = []
        print("apiserver-soak: \(minutes) min, kill -9 every \(killEvery) s, \(writers) writers, data dir \(dir)")
        while true {
            let started = now()
            let child = try APIServerProcess(executable: server, dataDir: dir, kubeconfig: kubeconfig, showingErrors: true)
            let checker = try await child.client()
            restartTimes.append(now() - started)
            let (objects, problems) = try await Self.check(checker, ledger)
            await checker.close()
            let acknowledged = await ledger.acknowledged
            print(
                String(
                    format: "round %3d: up in %.2f s, %6d objects, %7d writes acknowledged so far, %@", round, restartTimes.last ?? 0, objects,
                    acknowledged, problems.isEmpty ? "nothing lost" : problems.joined(separator: "; ")))
            failures += problems.map { "round \(round): \($0)" }
            if ContinuousClock.now >= end {
                child.kill()
                break
            }
            let killAt = min(end, ContinuousClock.now + .seconds(killEvery))
            var clients: [LoopbackHTTPClient] = []
            for _ in 0..<writers { clients.append(try await child.client()) }
            let (thisRound, size, writeUntil) = (round, bytes, killAt + .seconds(5))
            let tasks = clients.enumerated().map { w, c in
                Task { await Self.write(c, writer: w, round: thisRound, bytes: size, ledger: ledger, deadline: writeUntil) }
            }
            try await Task.sleep(until: killAt)
            child.kill()
            for t in tasks { await t.value }
            for c in clients { await c.close() }
            round += 1
        }
        let stats = Stats(restartTimes)
        print(
            "apiserver-soak: \(round) kills, \(await ledger.acknowledged) writes acknowledged, restart median \(Stats.format(stats.median)) p99 \(Stats.format(stats.p99))"
        )
        if failures.isEmpty {
            print("apiserver-soak: nothing acknowledged was lost, nothing deleted came back")
            if dataDir == nil { try? FileManager.default.removeItem(atPath: dir) }
        } else {
            print("apiserver-soak: FAILED (data dir kept: \(dir))")
            for f in failures { print("  \(f)") }
            throw ExitCode(1)
        }
    }
}
