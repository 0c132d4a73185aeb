import KubeClient
import KubeCore
import Logging
import TestSupport
import Testing

@testable import KubeRuntime

/// A service that records its start and its end, then waits to be cancelled.
func recordingService(_ name: String, leader: Bool, into recorder: Recorder<String>) -> ClosureService {
    ClosureService(name: name, needsLeaderElection: leader) {
        recorder.append("\(name):start")
        defer { recorder.append("\(name):stop") }
        try await Task.sleep(for: .seconds(3600))
    }
}

func serviceManager(_ client: KubernetesClient, id: String, namespace: String, recorder: Recorder<String>) -> Manager {
    let le = LeaderElectionConfiguration(
        name: "svc-lock", namespace: namespace, identity: id, leaseDuration: .seconds(2), renewDeadline: .milliseconds(1500),
        retryPeriod: .milliseconds(200))
    let manager = Manager(
        client: client, options: ManagerOptions(leaderElection: le, gracefulShutdownTimeout: .seconds(5)), logger: Logger(label: "manager-\(id)"))
    manager.add(recordingService("\(id)-always", leader: false, into: recorder))
    manager.add(recordingService("\(id)-leader", leader: true, into: recorder))
    return manager
}

@Suite struct ManagerServiceTests {
    @Test func servicesWithoutLeadershipRunOnEveryReplicaLeaderServicesOnlyOnTheLeader() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "svc1")
            let recorder = Recorder<String>()
            let a = serviceManager(client, id: "a", namespace: "svc1", recorder: recorder)
            let b = serviceManager(client, id: "b", namespace: "svc1", recorder: recorder)
            let runA = Task { try await a.run() }
            await a.waitUntilLeading()
            #expect(await eventually { recorder.all.contains("a-leader:start") })
            let runB = Task { try await b.run() }
            // The follower serves its always-on service while a holds the lease ...
            #expect(await eventually { recorder.all.contains("b-always:start") })
            #expect(!b.isLeading)
            #expect(!recorder.all.contains("b-leader:start"))
            // ... and starts its leader service only once a stopped and released the lease.
            a.stop()
            try await runA.value
            #expect(recorder.all.contains("a-leader:stop") && recorder.all.contains("a-always:stop"))
            await b.waitUntilLeading()
            #expect(await eventually { recorder.all.contains("b-leader:start") })
            #expect(recorder.all.firstIndex(of: "a-leader:stop")! < recorder.all.firstIndex(of: "b-leader:start")!)
            b.stop()
            try await runB.value
        }
    }

    @Test func leaseLossStopsEveryServiceAndRunThrows() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "svc2")
            let recorder = Recorder<String>()
            let m = serviceManager(client, id: "m", namespace: "svc2", recorder: recorder)
            let run = Task { try await m.run() }
            await m.waitUntilLeading()
            #expect(await eventually { recorder.all.contains("m-leader:start") })
            // Someone else holds the Lease now: renewals fail until the renew deadline passes.
            var lease = try await client.get(.leases, namespace: "svc2", name: "svc-lock")
            lease[path: "spec", "holderIdentity"] = "intruder"
            lease[path: "spec", "leaseDurationSeconds"] = 3600
            _ = try await client.update(.leases, namespace: "svc2", lease)
            await #expect(throws: LeaderElectionLostError.self) { try await run.value }
            #expect(Set(recorder.all) == ["m-always:start", "m-always:stop", "m-leader:start", "m-leader:stop"])
            // The lease is not released on loss: it stays with the new holder.
            let after = try await client.get(.leases, namespace: "svc2", name: "svc-lock")
            #expect(after[path: "spec", "holderIdentity"] == "intruder")
        }
    }

    @Test func aFailingServiceStopsTheManagerWithItsError() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            let recorder = Recorder<String>()
            let m = Manager(client: client, options: ManagerOptions(), logger: Logger(label: "failing"))
            m.add(recordingService("leader", leader: true, into: recorder))
            m.add(
                ClosureService(name: "broken", needsLeaderElection: false) {
                    while !recorder.all.contains("leader:start") { try await Task.sleep(for: .milliseconds(10)) }
                    throw HTTPTestError(description: "bind failed")
                })
            await #expect(throws: HTTPTestError.self) { try await m.run() }
            #expect(recorder.all == ["leader:start", "leader:stop"])
        }
    }
}
