import Foundation
import KubeCore
import NIOCore
import Testing

@testable import KubeClient

/// Status decoding, watch framing, rate limiter arithmetic, time formats, model views — pure.
@Suite struct DecodingTests {
    @Test func statusReasonsMapToKinds() throws {
        let cases: [(Int, String, KubeError.Kind)] = [
            (404, "NotFound", .notFound), (409, "AlreadyExists", .alreadyExists), (409, "Conflict", .conflict),
            (410, "Expired", .gone), (410, "Gone", .gone), (403, "Forbidden", .forbidden), (401, "Unauthorized", .unauthorized),
            (429, "TooManyRequests", .tooManyRequests), (504, "Timeout", .serverTimeout), (500, "InternalError", .internal),
            (400, "BadRequest", .badRequest), (405, "MethodNotAllowed", .methodNotAllowed), (415, "UnsupportedMediaType", .unsupportedMediaType),
            // No reason: decided by code (the create-with-resourceVersion 500 has none).
            (500, "", .internal), (503, "", .internal), (418, "", .other),
        ]
        for (code, reason, kind) in cases {
            var status: JSON = [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": "m", "code": .int(Int64(code)),
            ]
            if !reason.isEmpty { status["reason"] = .string(reason) }
            let error = KubeError.fromResponse(code: code, body: status)
            #expect(error.kind == kind, "\(code) \(reason)")
            #expect(error.code == code)
            #expect(error.message == "m")
        }
    }

    @Test func invalidCarriesCauses() {
        let status: JSON = [
            "kind": "Status", "status": "Failure", "reason": "Invalid", "code": 422,
            "message": "Network.extensions.gardener.cloud \"n\" is invalid: spec.type: Required value",
            "details": [
                "name": "n", "kind": "Network", "causes": [["reason": "FieldValueRequired", "message": "Required value", "field": "spec.type"]],
            ],
        ]
        let error = KubeError.fromResponse(code: 422, body: status)
        #expect(error.isInvalid)
        #expect(error.causes == [StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.type")])
        #expect(error.detailsName == "n")
        #expect(error.description.hasPrefix("Invalid: Network.extensions"))
    }

    @Test func nonStatusBodyFallsBackToCodeAndText() {
        let error = KubeError.fromResponse(code: 502, body: nil, retryAfterHeader: 3, fallbackMessage: "bad gateway")
        #expect(error.kind == .internal)
        #expect(error.message == "bad gateway")
        #expect(error.retryAfterSeconds == 3)
        #expect(error.status == nil)
    }

    @Test func retryAfterFromDetails() {
        let status: JSON = [
            "kind": "Status", "reason": "Timeout", "code": 504, "message": "Too large resource version",
            "details": ["retryAfterSeconds": 1],
        ]
        #expect(KubeError.fromResponse(code: 504, body: status).retryAfterSeconds == 1)
    }

    @Test func watchLinesDecode() throws {
        let added = try KubernetesClient.decodeWatchLine(Array(#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7"}}}"#.utf8))
        #expect(added?.type == .added)
        #expect(added?.resourceVersion == "7")
        let bookmark = try KubernetesClient.decodeWatchLine(
            Array(#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"9"}}}"#.utf8))
        #expect(bookmark?.type == .bookmark)
        #expect(try KubernetesClient.decodeWatchLine(Array("  \r".utf8)) == nil)
        do {
            _ = try KubernetesClient.decodeWatchLine(
                Array(
                    #"{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 5 (42)","reason":"Expired","code":410}}"#
                        .utf8))
            Issue.record("ERROR event must throw")
        } catch let error as KubeError {
            #expect(error.isGone)
            #expect(error.message == "too old resource version: 5 (42)")
        }
        #expect(throws: KubeError.self) { try KubernetesClient.decodeWatchLine(Array(#"{"type":"WEIRD","object":{}}"#.utf8)) }
        #expect(throws: KubeError.self) { try KubernetesClient.decodeWatchLine(Array("{not json".utf8)) }
    }

    @Test func lineSplitterHandlesEventsAcrossChunks() {
        var splitter = LineSplitter()
        var lines: [[UInt8]] = []
        for part in ["{\"a\":", "1}\n{\"b\"", ":2}\n\n{\"c\":3}"] {
            lines += splitter.append(ByteBuffer(string: part))
        }
        #expect(lines.map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}", ""])
        #expect(splitter.finish().map { String(decoding: $0, as: UTF8.self) } == "{\"c\":3}")
    }

    @Test func tokenBucketAllowsBurstThenPaces() {
        let bucket = TokenBucket(qps: 10, burst: 3)
        let delays = (0..<5).map { _ in bucket.reserve() }
        #expect(delays[0] == .zero && delays[1] == .zero && delays[2] == .zero)
        // Fourth request waits ~100 ms, fifth ~200 ms (reservations queue up).
        #expect(delays[3] > .milliseconds(80) && delays[3] <= .milliseconds(100))
        #expect(delays[4] > .milliseconds(180) && delays[4] <= .milliseconds(200))
    }

    @Test func queryEncodingEscapesSelectors() {
        let q = KubernetesClient.encodeQuery([("labelSelector", "app in (a,b),!x"), ("fieldSelector", "metadata.name=n")])
        #expect(q == "?labelSelector=app%20in%20%28a%2Cb%29%2C%21x&fieldSelector=metadata.name%3Dn")
    }

    @Test func resourcePaths() {
        #expect(Resource.configMaps.objectPath(namespace: "ns", name: "c", subresource: "status") == "/api/v1/namespaces/ns/configmaps/c/status")
        #expect(Resource.configMaps.collectionPath(namespace: nil) == "/api/v1/configmaps")
        #expect(Resource.leases.collectionPath(namespace: "x") == "/apis/coordination.k8s.io/v1/namespaces/x/leases")
        #expect(Resource.namespaces.objectPath(namespace: "ignored", name: "kube-system") == "/api/v1/namespaces/kube-system")
        #expect(Resource.leases.apiVersion == "coordination.k8s.io/v1")
        #expect(Resource.configMaps.qualifiedName == "configmaps")
        #expect(Resource.daemonSets.qualifiedName == "daemonsets.apps")
    }

    @Test func viewsKeepUnknownFieldsAndOrder() throws {
        let raw = try JSON.parse(
            string: """
                {"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"n","labels":{"z":"1","a":"2"},"managedFields":[{"manager":"x"}]},
                 "type":"Opaque","data":{"k":"dmFsdWU="},"futureField":{"nested":[1,2,3]}}
                """)
        var secret = Secret(raw: raw)
        #expect(secret.string("k") == "value")
        secret.metadata.labels["m"] = "3"
        secret.metadata.addFinalizer("example.com/f")
        var data = secret.data
        data["new"] = Array("x".utf8)
        secret.data = data
        #expect(secret.raw["futureField"] == raw["futureField"])
        #expect(secret.raw[path: "metadata", "managedFields"] == raw[path: "metadata", "managedFields"])
        // Existing label order is kept, new keys appended.
        #expect(secret.raw[path: "metadata", "labels"]?.objectValue.map { Array($0.keys) } == ["z", "a", "m"])
        #expect(secret.metadata.finalizers == ["example.com/f"])
        #expect(secret.metadata.removeFinalizerCopy("example.com/f").finalizers.isEmpty)
    }

    @Test func leaseUsesMicroTime() throws {
        var lease = Lease(name: "l", namespace: "kube-system")
        lease.holderIdentity = "me"
        lease.leaseDurationSeconds = 15
        lease.renewTime = Date(timeIntervalSince1970: 1_738_324_800.5)
        #expect(lease.raw[path: "spec", "renewTime"]?.stringValue == "2025-01-31T12:00:00.500000Z")
        #expect(lease.raw["apiVersion"]?.stringValue == "coordination.k8s.io/v1")
        #expect(lease.raw[path: "metadata", "namespace"]?.stringValue == "kube-system")
        lease.holderIdentity = nil
        #expect(lease.raw[path: "spec", "holderIdentity"] == nil)
    }

    @Test func nodeAndDaemonSetViews() throws {
        let node = Node(raw: [
            "metadata": ["name": "n1"],
            "status": [
                "conditions": [
                    ["type": "Ready", "status": "True"], ["type": "NetworkUnavailable", "status": "False", "reason": "CalicoIsUp"],
                ]
            ],
        ])
        #expect(node.condition("Ready")?.isTrue == true)
        #expect(node.condition("NetworkUnavailable")?.reason == "CalicoIsUp")
        let ds = DaemonSet(raw: [
            "metadata": ["name": "calico-node", "generation": 3],
            "status": ["observedGeneration": 3, "desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2, "numberReady": 2],
        ])
        #expect(ds.isRolledOut)
        var stale = ds
        stale.raw[path: "status", "observedGeneration"] = 2
        #expect(!stale.isRolledOut)
    }
}

extension ObjectMeta {
    func removeFinalizerCopy(_ f: String) -> ObjectMeta {
        var copy = self
        copy.removeFinalizer(f)
        return copy
    }
}
