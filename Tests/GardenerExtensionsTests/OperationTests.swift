import Foundation
import KubeCore
import KubeRuntime
import Testing

@testable import GardenerExtensions

@Suite struct OperationTypeTests {
    func obj(annotation: String? = nil, deleting: Bool = false, last: (String, String)? = nil) -> JSON {
        var o: JSON = ["metadata": ["name": "n", "namespace": "ns", "generation": 3]]
        if let annotation { o[path: "metadata", "annotations", "gardener.cloud/operation"] = .string(annotation) }
        if deleting { o[path: "metadata", "deletionTimestamp"] = "2025-01-01T00:00:00Z" }
        if let last { o[path: "status", "lastOperation"] = ["type": .string(last.0), "state": .string(last.1)] }
        return o
    }

    @Test func firstMatchWins() {
        #expect(ExtensionOperation.operationType(obj(annotation: "migrate", deleting: true)) == .migrate)
        #expect(ExtensionOperation.operationType(obj(annotation: "restore", deleting: true)) == .delete)
        #expect(ExtensionOperation.operationType(obj(annotation: "restore")) == .restore)
        #expect(ExtensionOperation.operationType(obj()) == .create)
        #expect(ExtensionOperation.operationType(obj(last: ("Create", "Error"))) == .create)
        #expect(ExtensionOperation.operationType(obj(last: ("Create", "Succeeded"))) == .reconcile)
        #expect(ExtensionOperation.operationType(obj(last: ("Migrate", "Processing"))) == .migrate)
        #expect(ExtensionOperation.operationType(obj(last: ("Restore", "Error"))) == .restore)
        #expect(ExtensionOperation.operationType(obj(last: ("Reconcile", "Error"))) == .reconcile)
        #expect(ExtensionOperation.operationType(obj(annotation: "reconcile", last: ("Delete", "Error"))) == .reconcile)
        #expect(ExtensionOperation.isMigrated(obj(last: ("Migrate", "Succeeded"))))
        #expect(!ExtensionOperation.isMigrated(obj(last: ("Migrate", "Error"))))
    }

    @Test func statusTransitionsHaveExactShapes() {
        let now = Date(timeIntervalSince1970: 1_738_324_800)  // 2025-01-31T12:00:00Z
        let previous: JSON = ["lastError": ["description": "old"], "observedGeneration": 1, "providerStatus": ["kind": "X"]]
        let processing = ExtensionOperation.processing(previous, type: .create, description: "Reconciling the Network", now: now)
        #expect(
            processing["lastOperation"] == [
                "description": "Reconciling the Network", "lastUpdateTime": "2025-01-31T12:00:00Z", "progress": 1,
                "state": "Processing", "type": "Create",
            ])
        #expect(processing["lastError"] == ["description": "old"])  // untouched while processing
        #expect(processing["observedGeneration"] == 1)
        let success = ExtensionOperation.succeeded(processing, type: .create, description: "Successfully reconciled Network", generation: 3, now: now)
        #expect(success["lastError"] == nil)
        #expect(success["observedGeneration"] == 3)
        #expect(success[path: "lastOperation", "progress"] == 100)
        #expect(success[path: "lastOperation", "state"] == "Succeeded")
        #expect(success["providerStatus"] == ["kind": "X"])
        // The status patch for success sends lastError: null.
        let patch = MergePatch.diff(from: processing, to: success)
        #expect(patch?["lastError"] == .null)
    }

    @Test func errorStatusCarriesCodesAndExactText() {
        let now = Date(timeIntervalSince1970: 0)
        let cause = ErrorWithCodes(
            MessageError("invalid network resource: spec.podCIDR: Required value: field is required"), codes: [.configurationProblem])
        let err = WrappedError.wrap("outer", cause)
        let s = ExtensionOperation.failed(
            .emptyObject, type: .reconcile, description: "Error reconciling Network", error: err, generation: 2, now: now)
        let text = "Error reconciling Network: outer: invalid network resource: spec.podCIDR: Required value: field is required"
        #expect(s[path: "lastOperation", "description"] == .string(text))
        #expect(s[path: "lastOperation", "state"] == "Error")
        #expect(s[path: "lastOperation", "progress"] == 50)
        #expect(s["lastError"] == ["description": .string(text), "codes": ["ERR_CONFIGURATION_PROBLEM"], "lastUpdateTime": "1970-01-01T00:00:00Z"])
        #expect(s["observedGeneration"] == 2)
        // RequeueAfterError: the cause's text is shown.
        let requeue = RequeueAfterError(cause: MessageError("waiting for routes"), requeueAfter: .seconds(30))
        #expect(ExtensionOperation.errorDescription("Error reconciling Network", error: requeue) == "Error reconciling Network: waiting for routes")
        #expect(requeue.description == "requeue in 30s due to waiting for routes")
        // Lower-case descriptions get their first letter upper-cased.
        #expect(ExtensionOperation.errorDescription("error x", error: MessageError("y")) == "Error x: y")
    }

    @Test func codesComeFromTheChainNotFromText() {
        #expect(errorCodes(of: MessageError("Unauthorized")) == [])
        let multi = MultiError([
            ErrorWithCodes(MessageError("a"), codes: [.infraQuotaExceeded]),
            WrappedError.wrap("b", ErrorWithCodes(MessageError("c"), codes: [.configurationProblem, .infraQuotaExceeded])),
        ])
        #expect(errorCodes(of: multi) == [.infraQuotaExceeded, .configurationProblem, .infraQuotaExceeded])
        let matchers: [(ErrorCode, @Sendable (String) -> Bool)] = [
            (.infraRateLimitsExceeded, { $0.contains("requestlimitexceeded") }),
            (.configurationProblem, { $0.contains("invalidparameter") }),
        ]
        let determined = determineErrorCodes(MessageError("RequestLimitExceeded; InvalidParameter"), matchers: matchers)
        #expect(determined == [.configurationProblem, .infraRateLimitsExceeded])
    }
}

@Suite struct PredicateTests {
    func network(
        op: String? = nil, deleting: Bool = false, lastState: String? = nil, generation: Int = 1, cls: String? = nil, type: String = "calico"
    ) -> JSON {
        var o: JSON = ["metadata": ["name": "n", "namespace": "ns", "generation": .int(Int64(generation))], "spec": ["type": .string(type)]]
        if let cls { o[path: "spec", "class"] = .string(cls) }
        if let op { o[path: "metadata", "annotations", "gardener.cloud/operation"] = .string(op) }
        if deleting { o[path: "metadata", "deletionTimestamp"] = "2025-01-01T00:00:00Z" }
        if let lastState { o[path: "status", "lastOperation"] = ["type": "Reconcile", "state": .string(lastState)] }
        return o
    }

    @Test func classAndType() {
        #expect(ExtensionPredicates.hasClass(network()))
        #expect(ExtensionPredicates.hasClass(network(cls: "")))
        #expect(ExtensionPredicates.hasClass(network(cls: "shoot")))
        #expect(!ExtensionPredicates.hasClass(network(cls: "seed")))
        #expect(ExtensionPredicates.hasType(network(), "calico"))
        #expect(!ExtensionPredicates.hasType(network(type: "cilium"), "calico"))
    }

    @Test func defaultModeRules() {
        #expect(ExtensionPredicates.defaultMode(.create(network())))  // no lastOperation
        #expect(!ExtensionPredicates.defaultMode(.create(network(lastState: "Succeeded"))))
        #expect(ExtensionPredicates.defaultMode(.create(network(lastState: "Error"))))
        #expect(ExtensionPredicates.defaultMode(.create(network(op: "reconcile", lastState: "Succeeded"))))
        #expect(ExtensionPredicates.defaultMode(.create(network(deleting: true, lastState: "Succeeded"))))
        // Updates: only the annotation or a deletion without status change.
        let old = network(lastState: "Succeeded")
        #expect(!ExtensionPredicates.defaultMode(.update(old: old, new: network(lastState: "Error"))))
        #expect(!ExtensionPredicates.defaultMode(.update(old: old, new: network(lastState: "Succeeded", generation: 2))))
        #expect(ExtensionPredicates.defaultMode(.update(old: old, new: network(op: "restore", lastState: "Succeeded"))))
        #expect(!ExtensionPredicates.defaultMode(.update(old: old, new: network(op: "wait-for-state", lastState: "Succeeded"))))
        #expect(ExtensionPredicates.defaultMode(.update(old: old, new: network(deleting: true, lastState: "Succeeded"))))
        #expect(
            !ExtensionPredicates.defaultMode(.update(old: network(lastState: "Processing"), new: network(deleting: true, lastState: "Succeeded"))))
        #expect(!ExtensionPredicates.defaultMode(.delete(old)))
        #expect(!ExtensionPredicates.defaultMode(.generic(network(op: "reconcile"))))
    }

    @Test func ignoreModeRules() {
        #expect(ExtensionPredicates.ignoreOperationAnnotationMode(.create(network(lastState: "Succeeded"))))
        #expect(ExtensionPredicates.ignoreOperationAnnotationMode(.update(old: network(generation: 1), new: network(generation: 2))))
        #expect(
            !ExtensionPredicates.ignoreOperationAnnotationMode(.update(old: network(generation: 1), new: network(op: "reconcile", generation: 1))))
        #expect(ExtensionPredicates.ignoreOperationAnnotationMode(.delete(network())))
    }
}

@Suite struct ManagedResourceNamingTests {
    @Test func sha256KnownVectors() {
        #expect(SHA256Digest.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array(String(repeating: "a", count: 1000).utf8)
        #expect(SHA256Digest.hex(long) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func secretNameFollowsGardenerChecksum() {
        let data: [String: [UInt8]] = ["config.yaml": Array("a: 1\n".utf8), "b": Array("x".utf8)]
        let expectedChecksum = SHA256Digest.hex(Array((SHA256Digest.hex(Array("x".utf8)) + SHA256Digest.hex(Array("a: 1\n".utf8))).utf8))
        #expect(ManagedResources.checksum(data) == expectedChecksum)
        let name = ManagedResources.secretName(managedResourceName: "extension-networking-calico-config", data: data)
        #expect(name == "managedresource-extension-networking-calico-config-" + String(expectedChecksum.prefix(8)))
        #expect(ManagedResources.secretName(managedResourceName: "x-", data: data) == "managedresource-x-" + String(expectedChecksum.prefix(8)))
        #expect(
            ManagedResources.secretReferenceAnnotation(name) == "reference.resources.gardener.cloud/secret-"
                + String(SHA256Digest.hex(Array(name.utf8)).prefix(8)))
    }

    @Test func desiredStateReplacesSpecAndReferenceAnnotations() {
        let existing: JSON = [
            "metadata": [
                "name": "mr", "labels": ["keep": "me"], "annotations": ["reference.resources.gardener.cloud/secret-deadbeef": "old", "other": "x"],
            ],
            "spec": ["class": "seed", "secretRefs": [["name": "old"]], "keepObjects": true, "forceOverwriteAnnotations": true],
        ]
        let d = ManagedResources.applyDesired(to: existing, origin: "extension-networking-calico", keepObjects: false, secretName: "new")
        #expect(d[path: "metadata", "labels"] == ["keep": "me", "origin": "extension-networking-calico"])
        #expect(d[path: "metadata", "annotations"] == ["other": "x", ManagedResources.secretReferenceAnnotation("new"): "new"])
        #expect(d["spec"] == ["secretRefs": [["name": "new"]], "injectLabels": ["shoot.gardener.cloud/no-cleanup": "true"], "keepObjects": false])
        #expect(ManagedResources.matchesConfigurationProblem("x: Error during apply of object \"apps/v1/DaemonSet\" is invalid: foo"))
        #expect(!ManagedResources.matchesConfigurationProblem("resource still exists"))
    }
}
