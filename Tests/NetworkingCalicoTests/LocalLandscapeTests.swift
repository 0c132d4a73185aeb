import Foundation
import KubeCore
import TestSupport
import Testing

@testable import LocalMode

/// The pure parts of local mode's landscape (the end-to-end stories are in
/// test/interop/test_local_landscape.py).
@Suite struct LocalLandscapeTests {
    @Test func technicalIDAndItsInverse() {
        #expect(Gardenlet.technicalID(namespace: "garden-foo", name: "bar") == "shoot--foo--bar")
        #expect(Gardenlet.technicalID(namespace: "garden", name: "bar") == "shoot--garden--bar")
        #expect(Gardenlet.shootRequest(seedNamespace: "shoot--foo--bar")?.key == "garden-foo/bar")
        #expect(Gardenlet.shootRequest(seedNamespace: "shoot--garden--bar")?.key == "garden/bar")
        #expect(Gardenlet.shootRequest(seedNamespace: "kube-system") == nil)
    }

    @Test func standInPlurals() {
        #expect(ShootAPI.plural(of: "VerticalPodAutoscaler") == "verticalpodautoscalers")
        #expect(ShootAPI.plural(of: "NetworkPolicy") == "networkpolicies")
        #expect(ShootAPI.plural(of: "IngressClass") == "ingressclasses")
    }

    @Test func maxUnavailableAsNumberOrPercentage() {
        #expect(RolloutReconciler.maxUnavailable(.int(2), of: 10) == 2)
        #expect(RolloutReconciler.maxUnavailable(.string("25%"), of: 10) == 2)
        #expect(RolloutReconciler.maxUnavailable(.string("10%"), of: 3) == 1)
        #expect(RolloutReconciler.maxUnavailable(nil, of: 3) == 1)
    }

    @Test func conditionsKeepTheirTransitionTime() {
        var conditions: [JSON] = []
        ResourceManager.setCondition(&conditions, "ResourcesApplied", "True", "ApplySucceeded", "All resources are applied.", "t1")
        ResourceManager.setCondition(&conditions, "ResourcesApplied", "True", "ApplySucceeded", "All resources are applied.", "t2")
        #expect(conditions.count == 1 && conditions[0]["lastUpdateTime"]?.stringValue == "t1")
        ResourceManager.setCondition(&conditions, "ResourcesApplied", "True", "ApplySucceeded", "other", "t3")
        #expect(conditions[0]["lastTransitionTime"]?.stringValue == "t1" && conditions[0]["lastUpdateTime"]?.stringValue == "t3")
        ResourceManager.setCondition(&conditions, "ResourcesApplied", "False", "ApplyFailed", "boom", "t4")
        #expect(conditions[0]["lastTransitionTime"]?.stringValue == "t4")
    }

    @Test func theStateDirectoryLockNamesItsHolder() throws {
        let dir = try TestDirectories.make("local-lock")
        let layout = LandscapeLayout(root: dir)
        do {
            let lock = try StateDirectoryLock(path: layout.lockFile)
            #expect {
                _ = try StateDirectoryLock(path: layout.lockFile)
            } throws: { error in
                "\(error)".contains("in use by process \(getpid())")
            }
            withExtendedLifetime(lock) {}
        }
        // Released with its holder: the next one gets it.
        _ = try StateDirectoryLock(path: layout.lockFile)
    }

    @Test func portsAreRememberedAndResetKeepsTheLock() throws {
        let dir = try TestDirectories.make("local-layout")
        let layout = LandscapeLayout(root: dir)
        #expect(!layout.hasState)
        try layout.rememberPorts(["garden": 1234, "seed": 2345])
        #expect(layout.rememberedPorts() == ["garden": 1234, "seed": 2345])
        try FileManager.default.createDirectory(atPath: layout.dataDirectory(.shoot), withIntermediateDirectories: true)
        #expect(layout.hasState)
        let lock = try StateDirectoryLock(path: layout.lockFile)
        try layout.reset()
        #expect(!layout.hasState && layout.rememberedPorts().isEmpty)
        #expect(FileManager.default.fileExists(atPath: layout.lockFile))
        withExtendedLifetime(lock) {}
    }
}
