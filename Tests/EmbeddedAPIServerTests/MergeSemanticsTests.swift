import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

@testable import EmbeddedAPIServer

private let smp = "application/strategic-merge-patch+json"
private let apply = "application/apply-patch+yaml"
private let deployments = "/apis/apps/v1/namespaces/default/deployments"
private let pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"

/// A server that also serves PodDisruptionBudget without a schema, as local mode's shoot does.
private func withSchemalessPDBs<T>(_ body: (LoopbackHTTPClient) async throws -> T) async throws -> T {
    var configuration = EmbeddedAPIServerConfiguration()
    configuration.additionalBuiltinResources = [
        [
            "spec": [
                "group": "policy", "scope": "Namespaced", "names": ["kind": "PodDisruptionBudget", "plural": "poddisruptionbudgets"],
                "versions": [["name": "v1", "served": true, "storage": true]],
            ]
        ]
    ]
    return try await withServer(crd: false, configuration) { _, c in try await body(c) }
}

private func fields(_ obj: JSON, _ manager: String) -> JSON? {
    obj[path: "metadata", "managedFields"]?.arrayValue?.first { $0["manager"]?.stringValue == manager }?["fieldsV1"]
}

/// Strategic merge patch and server-side apply of built-in kinds follow the kind's OpenAPI
/// definition at the path of each list, not the list's field name.
@Suite struct MergeSemanticsTests {
    @Test func theDefinitionsAnswerPerPath() throws {
        let defs = OpenAPIDefinitions.builtin
        let deployment = try #require(defs.schema(group: "apps", version: "v1", kind: "Deployment"))
        let container = try #require(deployment.property("spec")?.property("template")?.property("spec")?.property("containers")?.items)
        let ports = try #require(container.property("ports"))
        #expect(ports.patchMergeKey == "containerPort" && ports.hasPatchStrategy("merge"))
        #expect(ports.listType == "map" && ports.listMapKeys == ["containerPort", "protocol"])
        let servicePorts = try #require(defs.schema(group: "", version: "v1", kind: "Service")?.property("spec")?.property("ports"))
        #expect(servicePorts.patchMergeKey == "port" && servicePorts.listMapKeys == ["port", "protocol"])
        // The same field name elsewhere: a load balancer's port statuses are atomic.
        let ingressPorts = try #require(
            defs.schema(group: "", version: "v1", kind: "Service")?.property("status")?.property("loadBalancer")?.property("ingress")?.items?
                .property("ports"))
        #expect(ingressPorts.listType == "atomic" && ingressPorts.patchMergeKey == nil && !ingressPorts.hasPatchStrategy("merge"))
        // A property's strategy next to its reference, a type's map type behind it.
        #expect(deployment.property("spec")?.property("strategy")?.hasPatchStrategy("retainKeys") == true)
        #expect(deployment.property("spec")?.property("selector")?.isAtomicMap == true)
        #expect(container.property("volumeMounts")?.patchMergeKey == "mountPath")
        // Every served kind but the reviews has a definition.
        for info in BuiltinResources.all where !info.createOnly {
            #expect(defs.schema(group: info.group, version: info.version, kind: info.kind) != nil, "\(info.kind)")
        }
        // A kind without one still has the standard metadata.
        let schemaless = defs.objectSchema(group: "policy", version: "v1", kind: "PodDisruptionBudget")
        #expect(schemaless.property("metadata")?.property("finalizers")?.listType == "set")
        #expect(schemaless.property("status") == nil)
    }

    @Test func strategicMergeFollowsTheDefinitionAlongThePatch() async throws {
        try await withServer(crd: false) { _, c in
            let created = try await c.post(
                deployments,
                [
                    "metadata": ["name": "d"],
                    "spec": [
                        "selector": ["matchLabels": ["app": "d"]],
                        "template": [
                            "metadata": ["labels": ["app": "d"]],
                            "spec": [
                                "containers": [
                                    [
                                        "name": "a", "image": "i:1", "args": ["--x", "--y"],
                                        "ports": [["containerPort": 80, "name": "http"], ["containerPort": 443, "name": "https"]],
                                    ]
                                ],
                                "topologySpreadConstraints": [
                                    ["topologyKey": "zone", "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"]
                                ],
                            ],
                        ],
                    ],
                ])
            #expect(created.status == 201, "\(created.text)")
            let patched = try await c.patch(
                "\(deployments)/d",
                [
                    "spec": [
                        "template": [
                            "spec": [
                                "containers": [
                                    ["name": "a", "args": ["--z"], "ports": [["containerPort": 80, "name": "web"], ["containerPort": 8080]]]
                                ],
                                "topologySpreadConstraints": [
                                    ["topologyKey": "host", "maxSkew": 2, "whenUnsatisfiable": "ScheduleAnyway"]
                                ],
                            ]
                        ]
                    ]
                ], type: smp)
            #expect(patched.status == 200, "\(patched.text)")
            let spec = try #require(patched.json[path: "spec", "template", "spec"])
            let container = try #require(spec["containers"]?[0])
            // Ports merge by containerPort: 80 renamed, 443 kept, 8080 added.
            #expect(
                container["ports"]
                    == [["containerPort": 80, "name": "web"], ["containerPort": 443, "name": "https"], ["containerPort": 8080]])
            // args has no patch strategy: replaced.
            #expect(container["args"] == ["--z"])
            #expect(container["image"] == "i:1")
            // Merged by topologyKey (a list no field-name table knew).
            #expect(spec["topologySpreadConstraints"]?.arrayValue?.compactMap { $0["topologyKey"]?.stringValue } == ["zone", "host"])
        }
    }

    @Test func strategicMergeOnAKindWithoutADefinitionReplacesItsLists() async throws {
        try await withSchemalessPDBs { c in
            let created = try await c.post(
                pdbs,
                [
                    "metadata": ["name": "p", "finalizers": ["a.io/x"]], "spec": ["maxUnavailable": 1],
                    "status": ["conditions": [["type": "DisruptionAllowed", "status": "True"]]],
                ])
            #expect(created.status == 201, "\(created.text)")
            let patched = try await c.patch(
                "\(pdbs)/p",
                [
                    "metadata": ["finalizers": ["b.io/y"]],
                    "status": ["conditions": [["type": "Other", "status": "False"]]],
                ], type: smp)
            #expect(patched.status == 200, "\(patched.text)")
            // `conditions` here has no merge key: replaced, not merged by type.
            #expect(patched.json[path: "status", "conditions"] == [["type": "Other", "status": "False"]])
            // The standard metadata keeps its semantics.
            #expect(patched.json[path: "metadata", "finalizers"] == ["a.io/x", "b.io/y"])
        }
    }

    @Test func serverSideApplyKeysListsAsTheDefinitionSays() async throws {
        try await withServer(crd: false) { _, c in
            let services = "/api/v1/namespaces/default/services"
            let service: JSON = [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "dns"],
                "spec": ["ports": [["name": "dns", "port": 53, "protocol": "UDP"], ["name": "dns-tcp", "port": 53, "protocol": "TCP"]]],
            ]
            let applied = try await c.patch("\(services)/dns?fieldManager=a", service, type: apply)
            #expect(applied.status == 201, "\(applied.text)")
            let owned = try #require(fields(applied.json, "a")?[path: "f:spec", "f:ports"]?.objectValue)
            #expect(Set(owned.keys) == [#"k:{"port":53,"protocol":"TCP"}"#, #"k:{"port":53,"protocol":"UDP"}"#])

            // ServiceAccount secrets: patch strategy merge by name and no list type, so apply keys
            // them by name and two managers each own their own item.
            let accounts = "/api/v1/namespaces/default/serviceaccounts"
            func account(_ secret: String) -> JSON {
                ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "sa"], "secrets": [["name": .string(secret)]]]
            }
            #expect(try await c.patch("\(accounts)/sa?fieldManager=a", account("one"), type: apply).status == 201)
            let both = try await c.patch("\(accounts)/sa?fieldManager=b", account("two"), type: apply)
            #expect(both.status == 200, "\(both.text)")
            #expect(both.json["secrets"] == [["name": "one"], ["name": "two"]])
            // An ObjectReference is atomic: the item is owned as a whole.
            #expect(fields(both.json, "b")?[path: "f:secrets"] == [#"k:{"name":"two"}"#: .emptyObject])
        }
    }

    @Test func serverSideApplyOnAKindWithoutADefinitionTreatsListsAsAtomic() async throws {
        try await withSchemalessPDBs { c in
            func pdb(_ condition: String) -> JSON {
                [
                    "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": ["name": "p"],
                    "status": ["conditions": [["type": .string(condition), "status": "True"]]],
                ]
            }
            #expect(try await c.patch("\(pdbs)/p?fieldManager=a", pdb("A"), type: apply).status == 201)
            // One list owned as a whole: another manager's different list conflicts.
            let conflict = try await c.patch("\(pdbs)/p?fieldManager=b", pdb("B"), type: apply)
            #expect(conflict.status == 409, "\(conflict.text)")
        }
    }
}
