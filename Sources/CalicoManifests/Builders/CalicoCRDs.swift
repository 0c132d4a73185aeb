import KubeCore

/// The 24 Calico / network-policy-api CRDs, rendered for every shoot, generated from a compact
/// table with an open structural schema, plus the Multus NetworkAttachmentDefinition CRD.
/// All of them are static: built once per process.
enum CalicoCRDs {
    struct Entry {
        var group: String
        var kind: String
        var plural: String
        var scope: String
        var version: String
        var shortNames: [String]
    }

    static let calicoGroup = "crd.projectcalico.org"
    static let anpGroup = "policy.networking.k8s.io"

    /// (kind, plural, namespaced) of Calico's v1 kinds.
    static let calicoKinds: [(String, String, Bool)] = [
        ("BGPConfiguration", "bgpconfigurations", false),
        ("BGPFilter", "bgpfilters", false),
        ("BGPPeer", "bgppeers", false),
        ("BlockAffinity", "blockaffinities", false),
        ("CalicoNodeStatus", "caliconodestatuses", false),
        ("ClusterInformation", "clusterinformations", false),
        ("FelixConfiguration", "felixconfigurations", false),
        ("GlobalNetworkPolicy", "globalnetworkpolicies", false),
        ("GlobalNetworkSet", "globalnetworksets", false),
        ("HostEndpoint", "hostendpoints", false),
        ("IPAMBlock", "ipamblocks", false),
        ("IPAMConfig", "ipamconfigs", false),
        ("IPAMHandle", "ipamhandles", false),
        ("IPPool", "ippools", false),
        ("IPReservation", "ipreservations", false),
        ("KubeControllersConfiguration", "kubecontrollersconfigurations", false),
        ("NetworkPolicy", "networkpolicies", true),
        ("NetworkSet", "networksets", true),
        ("StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies", false),
        ("StagedKubernetesNetworkPolicy", "stagedkubernetesnetworkpolicies", true),
        ("StagedNetworkPolicy", "stagednetworkpolicies", true),
        ("Tier", "tiers", false),
    ]

    static let table: [Entry] =
        [
            Entry(
                group: anpGroup, kind: "AdminNetworkPolicy", plural: "adminnetworkpolicies", scope: "Cluster", version: "v1alpha1",
                shortNames: ["anp"]),
            Entry(
                group: anpGroup, kind: "BaselineAdminNetworkPolicy", plural: "baselineadminnetworkpolicies", scope: "Cluster", version: "v1alpha1",
                shortNames: ["banp"]),
        ]
        + calicoKinds.map { kind, plural, namespaced in
            Entry(group: calicoGroup, kind: kind, plural: plural, scope: namespaced ? "Namespaced" : "Cluster", version: "v1", shortNames: [])
        }

    static let openSchema: JSON = ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]

    static func crd(_ e: Entry) -> JSON {
        let name = "\(e.plural).\(e.group)"
        var names: JSONObject = [
            "kind": .string(e.kind), "listKind": .string(e.kind + "List"), "plural": .string(e.plural),
            "singular": .string(e.kind.lowercased()),
        ]
        if !e.shortNames.isEmpty { names["shortNames"] = K.strings(e.shortNames) }
        var version: JSONObject = ["name": .string(e.version), "schema": openSchema, "served": true, "storage": true]
        var metadata: JSONObject = ["name": .string(name), "labels": ["gardener.cloud/role": "system-component"]]
        var spec: JSONObject = ["group": .string(e.group), "names": .object(names), "scope": .string(e.scope)]
        if e.group == anpGroup {
            metadata["annotations"] = ["api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/network-policy-api/pull/30"]
            version["subresources"] = ["status": [:]]
            var columns: [JSON] = []
            if e.kind == "AdminNetworkPolicy" {
                columns.append(["jsonPath": ".spec.priority", "name": "Priority", "type": "string"])
            }
            columns.append(["jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"])
            version["additionalPrinterColumns"] = .array(columns)
        } else {
            spec["preserveUnknownFields"] = false
        }
        spec["versions"] = [.object(version)]
        return K.object("apiextensions.k8s.io/v1", "CustomResourceDefinition", .object(metadata), ["spec": .object(spec)])
    }

    /// The 24 always-rendered CRDs, built once.
    static let all: [JSON] = table.map(crd)

    /// Multus' CRD with its small upstream schema.
    static let networkAttachmentDefinition: JSON = K.object(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", K.meta("network-attachment-definitions.k8s.cni.cncf.io", namespace: nil),
        [
            "spec": [
                "group": "k8s.cni.cncf.io",
                "scope": "Namespaced",
                "names": [
                    "plural": "network-attachment-definitions", "singular": "network-attachment-definition",
                    "kind": "NetworkAttachmentDefinition", "shortNames": ["net-attach-def"],
                ],
                "versions": [
                    [
                        "name": "v1", "served": true, "storage": true,
                        "schema": [
                            "openAPIV3Schema": [
                                "description":
                                    "NetworkAttachmentDefinition is a CRD schema specified by the Network Plumbing Working Group to express the intent for attaching pods to one or more logical or physical networks. More information available at: https://github.com/k8snetworkplumbingwg/multi-net-spec",
                                "type": "object",
                                "properties": [
                                    "apiVersion": [
                                        "description": "APIVersion defines the versioned schema of this representation of an object.",
                                        "type": "string",
                                    ],
                                    "kind": [
                                        "description": "Kind is a string value representing the REST resource this object represents.",
                                        "type": "string",
                                    ],
                                    "metadata": ["type": "object"],
                                    "spec": [
                                        "description": "NetworkAttachmentDefinition spec defines the desired state of a network attachment",
                                        "type": "object",
                                        "properties": [
                                            "config": [
                                                "description": "NetworkAttachmentDefinition config is a JSON-formatted CNI configuration",
                                                "type": "string",
                                            ]
                                        ],
                                    ],
                                ],
                            ]
                        ],
                    ]
                ],
            ]
        ])
}
