import KubeCore

/// The cluster-proportional autoscalers: node CPVA, typha CPHA, typha CPVA, and their
/// ConfigMaps. They size calico-node and Typha by the cluster's node count in the default
/// `cluster-proportional` mode (docs/usage.md): the node CPVA unless calico-node runs under VPA or
/// static requests, the Typha CPHA whenever Typha runs, the Typha CPVA under the same condition as
/// the node's. The ConfigMap texts are constant, so are their checksums.
enum ClusterProportionalAutoscalers {
    static let nodeAutoscalerConfig = """
        {
          "calico-node": {
            "requests": {
              "memory": {
                "base": "50Mi",
                "step": "50Mi",
                "nodesPerStep": 10,
                "max": "1400Mi"
              }
            }
          }
        }
        """

    static let typhaLadder = """
        {
          "coresToReplicas": [],
          "nodesToReplicas":
          [
            [1, 1],
            [2, 2],
            [100, 3],
            [250, 4],
            [500, 5],
            [1000, 6],
            [1500, 7],
            [2000, 8]
          ]
        }
        """

    static let typhaAutoscalerConfig = """
        {
          "calico-typha": {
            "requests": {
              "cpu": {
                "base": "180m",
                "step": "140m",
                "nodesPerStep": 17,
                "max": "1000m"
              },
              "memory": {
                "base": "180Mi",
                "step": "70Mi",
                "nodesPerStep": 17,
                "max": "2000Mi"
              }
            }
          }
        }
        """

    // Checksums of the reference's (static) ConfigMap template files, carried as the pod templates'
    // `checksum/*` annotations; the texts never change, so these are constants.
    static let nodeCPVAChecksum = "9a65d8d800e500d161b6f71c94d595bde22e4298440090ffe84f8825ce4bb68c"
    static let typhaCPHAChecksum = "b21ef7275f00076843b06e865267c507dbb7b26b842e4edaa63624878c816a4a"
    static let typhaCPVAChecksum = "1ec407391e096737c7426baceded6bc66ee59816db9ee542914d5b8663114017"

    static func configMap(_ name: String, key: String, _ text: String) -> JSON {
        K.object("v1", "ConfigMap", K.meta(name), ["data": [key: .string(text)]])
    }

    static let autoscalerRequests = K.requests(cpu: "10m", memory: "50Mi")

    // MARK: node CPVA

    static func nodeCPVAObjects(_ v: CalicoValues) -> [JSON] {
        var objects = nodeCPVAStatic
        objects.insert(nodeCPVADeployment(v), at: 1)
        return objects
    }

    /// The nodeCPVA objects that never depend on the values, built once per process.
    static let nodeCPVAStatic: [JSON] = [
        configMap("calico-node-vertical-autoscaler", key: "node-autoscaler", nodeAutoscalerConfig),
        K.serviceAccount("calico-node-cpva"),
        K.clusterRole(
            "calico-node-cpva",
            [
                K.rule([""], ["nodes"], ["list"]),
                K.rule(["apps", "extensions"], ["deployments", "daemonsets"], ["patch"]),
            ]),
        K.clusterRoleBinding("calico-node-cpva", subjects: [K.saSubject("calico-node-cpva")]),
    ]

    static func nodeCPVADeployment(_ v: CalicoValues) -> JSON {
        K.settingImage(of: nodeCPVATemplate, to: v.images.calicoCPVA)
    }

    /// Everything but the image is constant: built once, the render only sets the image.
    static let nodeCPVATemplate = nodeCPVADeployment(image: "")

    static func nodeCPVADeployment(image: String) -> JSON {
        var templateLabels: JSONObject = ["k8s-app": "calico-node-autoscaler"]
        templateLabels.merge(K.networkingLabels(), uniquingKeysWith: { a, _ in a })
        let deployment = K.object(
            "apps/v1", "Deployment", K.meta("calico-node-vertical-autoscaler", labels: ["k8s-app": "calico-node-autoscaler"]),
            [
                "spec": [
                    "revisionHistoryLimit": 2,
                    "replicas": 1,
                    "selector": ["matchLabels": ["k8s-app": "calico-node-autoscaler"]],
                    "template": [
                        "metadata": [
                            "annotations": ["checksum/configmap-calico-node-vertical-autoscaler": .string(nodeCPVAChecksum)],
                            "labels": .object(templateLabels),
                        ],
                        "spec": [
                            "priorityClassName": "system-cluster-critical",
                            "securityContext": [
                                "runAsNonRoot": true, "runAsUser": 65534, "fsGroup": 1, "supplementalGroups": [1],
                                "seccompProfile": K.runtimeDefaultSeccomp,
                            ],
                            "dnsPolicy": "Default",
                            "containers": [
                                [
                                    "image": .string(image),
                                    "name": "autoscaler",
                                    "command": [
                                        "/cpvpa", "--target=daemonset/calico-node", "--namespace=kube-system", "--logtostderr=true",
                                        "--poll-period-seconds=30", "--v=2", "--config-file=/etc/config/node-autoscaler",
                                    ],
                                    "securityContext": ["allowPrivilegeEscalation": false],
                                    "resources": autoscalerRequests,
                                    "volumeMounts": [["name": "config", "mountPath": "/etc/config"]],
                                ]
                            ],
                            "volumes": [["name": "config", "configMap": ["name": "calico-node-vertical-autoscaler"]]],
                            "serviceAccountName": "calico-node-cpva",
                        ],
                    ],
                ]
            ])
        return deployment
    }

    // MARK: typha CPHA

    static func typhaCPHAObjects(_ v: CalicoValues) -> [JSON] {
        var objects = typhaCPHAStatic
        objects.insert(typhaCPHADeployment(v), at: 1)
        return objects
    }

    /// The typhaCPHA objects that never depend on the values, built once per process.
    static let typhaCPHAStatic: [JSON] = [
        configMap("calico-typha-horizontal-autoscaler", key: "ladder", typhaLadder),
        K.serviceAccount("typha-cpha"),
        K.clusterRole("typha-cpha", [K.rule([""], ["nodes"], ["list", "watch", "get"])]),
        K.clusterRoleBinding("typha-cpha", subjects: [K.saSubject("typha-cpha")]),
        K.object(
            "rbac.authorization.k8s.io/v1", "Role", K.meta("typha-cpha"),
            [
                "rules": [
                    K.rule([""], ["configmaps"], ["get"]),
                    K.rule(["apps", "extensions"], ["deployments/scale"], ["get", "update"]),
                ]
            ]),
        K.object(
            "rbac.authorization.k8s.io/v1", "RoleBinding", K.meta("typha-cpha"),
            [
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "typha-cpha"],
                "subjects": [K.saSubject("typha-cpha")],
            ]),
    ]

    static func typhaCPHADeployment(_ v: CalicoValues) -> JSON {
        K.settingImage(of: typhaCPHATemplate, to: v.images.calicoCPA)
    }

    /// Everything but the image is constant: built once, the render only sets the image.
    static let typhaCPHATemplate = typhaCPHADeployment(image: "")

    static func typhaCPHADeployment(image: String) -> JSON {
        var templateLabels = K.networkingLabels()
        templateLabels["origin"] = "gardener"
        templateLabels["k8s-app"] = "calico-typha-horizontal-autoscaler"
        let deployment = K.object(
            "apps/v1", "Deployment",
            K.meta(
                "calico-typha-horizontal-autoscaler", labels: ["k8s-app": "calico-typha-horizontal-autoscaler"],
                annotations: K.deleteOnInvalidUpdate),
            [
                "spec": [
                    "revisionHistoryLimit": 2,
                    "replicas": 1,
                    "selector": ["matchLabels": ["k8s-app": "calico-typha-horizontal-autoscaler"]],
                    "template": [
                        "metadata": [
                            "annotations": ["checksum/configmap-calico-typha-horizontal-autoscaler": .string(typhaCPHAChecksum)],
                            "labels": .object(templateLabels),
                        ],
                        "spec": [
                            "priorityClassName": "gardener-shoot-system-800",
                            "dnsPolicy": "Default",
                            "securityContext": [
                                "supplementalGroups": [65532], "fsGroup": 65532, "runAsUser": 65532, "runAsNonRoot": true,
                                "seccompProfile": K.runtimeDefaultSeccomp,
                            ],
                            "containers": [
                                [
                                    "image": .string(image),
                                    "name": "autoscaler",
                                    "command": [
                                        "/cluster-proportional-autoscaler", "--namespace=kube-system",
                                        "--configmap=calico-typha-horizontal-autoscaler", "--target=deployment/calico-typha-deploy",
                                        "--logtostderr=true", "--v=2",
                                    ],
                                    "securityContext": ["allowPrivilegeEscalation": false],
                                    "resources": autoscalerRequests,
                                ]
                            ],
                            "serviceAccountName": "typha-cpha",
                        ],
                    ],
                ]
            ])
        return deployment
    }

    // MARK: typha CPVA

    static func typhaCPVAObjects(_ v: CalicoValues) -> [JSON] {
        var objects = typhaCPVAStatic
        objects.insert(typhaCPVADeployment(v), at: 1)
        return objects
    }

    /// The typhaCPVA objects that never depend on the values, built once per process.
    static let typhaCPVAStatic: [JSON] = [
        configMap("calico-typha-vertical-autoscaler", key: "typha-autoscaler", typhaAutoscalerConfig),
        K.serviceAccount("typha-cpva"),
        K.clusterRole(
            "typha-cpva",
            [
                K.rule([""], ["nodes"], ["list"]),
                K.rule(["apps", "extensions"], ["deployments"], ["patch"]),
            ]),
        K.clusterRoleBinding("typha-cpva", subjects: [K.saSubject("typha-cpva")]),
    ]

    static func typhaCPVADeployment(_ v: CalicoValues) -> JSON {
        K.settingImage(of: typhaCPVATemplate, to: v.images.calicoCPVA)
    }

    /// Everything but the image is constant: built once, the render only sets the image.
    static let typhaCPVATemplate = typhaCPVADeployment(image: "")

    static func typhaCPVADeployment(image: String) -> JSON {
        var templateLabels = K.networkingLabels()
        templateLabels["origin"] = "gardener"
        templateLabels["k8s-app"] = "calico-typha-vertical-autoscaler"
        let deployment = K.object(
            "apps/v1", "Deployment",
            K.meta(
                "calico-typha-vertical-autoscaler", labels: ["k8s-app": "calico-typha-vertical-autoscaler"],
                annotations: K.deleteOnInvalidUpdate),
            [
                "spec": [
                    "revisionHistoryLimit": 2,
                    "replicas": 1,
                    "selector": ["matchLabels": ["k8s-app": "calico-typha-vertical-autoscaler"]],
                    "template": [
                        "metadata": [
                            "annotations": ["checksum/configmap-calico-typha-vertical-autoscaler": .string(typhaCPVAChecksum)],
                            "labels": .object(templateLabels),
                        ],
                        "spec": [
                            "priorityClassName": "gardener-shoot-system-800",
                            "dnsPolicy": "Default",
                            "securityContext": [
                                "runAsUser": 65534, "runAsNonRoot": true, "supplementalGroups": [1], "fsGroup": 1,
                                "seccompProfile": K.runtimeDefaultSeccomp,
                            ],
                            "containers": [
                                [
                                    "image": .string(image),
                                    "name": "autoscaler",
                                    "command": [
                                        "/cpvpa", "--target=deployment/calico-typha-deploy", "--namespace=kube-system",
                                        "--logtostderr=true", "--poll-period-seconds=30", "--v=2",
                                        "--config-file=/etc/config/typha-autoscaler",
                                    ],
                                    "securityContext": ["allowPrivilegeEscalation": false],
                                    "resources": autoscalerRequests,
                                    "volumeMounts": [["name": "config", "mountPath": "/etc/config"]],
                                ]
                            ],
                            "volumes": [["name": "config", "configMap": ["name": "calico-typha-vertical-autoscaler"]]],
                            "serviceAccountName": "typha-cpva",
                        ],
                    ],
                ]
            ])
        return deployment
    }
}

/// The three VerticalPodAutoscalers: kube-controllers' whenever the shoot runs VPA, calico-node's
/// and Typha's in `vpa` mode, with the configured requests as `minAllowed`.
enum VerticalPodAutoscalers {
    static func minAllowed(_ r: EffectiveNetworkConfig.Requests) -> JSON? {
        if r.isEmpty { return nil }
        var o: JSONObject = [:]
        if let cpu = r.cpu { o["cpu"] = .string(cpu) }
        if let memory = r.memory { o["memory"] = .string(memory) }
        return .object(o)
    }

    static func vpa(_ name: String, kind: String, target: String, policies: [JSON]) -> JSON {
        K.object(
            "autoscaling.k8s.io/v1", "VerticalPodAutoscaler", K.meta(name),
            [
                "spec": [
                    "targetRef": ["apiVersion": "apps/v1", "kind": .string(kind), "name": .string(target)],
                    "updatePolicy": ["updateMode": "InPlaceOrRecreate"],
                    "resourcePolicy": ["containerPolicies": .array(policies)],
                ]
            ])
    }

    static func calicoNode(_ v: CalicoValues) -> JSON {
        var main: JSONObject = ["containerName": "calico-node", "controlledValues": "RequestsOnly"]
        if let m = minAllowed(v.nodeRequests) { main["minAllowed"] = m }
        return vpa(
            "calico-node", kind: "DaemonSet", target: "calico-node",
            policies: [
                .object(main),
                ["containerName": "add-snat-rule-to-upstream-dns", "mode": "Off"],
                ["containerName": "network-unavailable-condition-ensurer", "mode": "Off"],
                ["containerName": "bird-exporter", "mode": "Off"],
            ])
    }

    static func typha(_ v: CalicoValues) -> JSON {
        var main: JSONObject = ["containerName": "*", "controlledValues": "RequestsOnly"]
        if let m = minAllowed(v.typhaRequests) { main["minAllowed"] = m }
        return vpa("calico-typha", kind: "Deployment", target: "calico-typha-deploy", policies: [.object(main)])
    }

    /// Constant: built once per process.
    static let kubeControllersVPA = kubeControllers()

    static func kubeControllers() -> JSON {
        vpa(
            "calico-kube-controllers", kind: "Deployment", target: "calico-kube-controllers",
            policies: [
                ["containerName": "*", "controlledValues": "RequestsOnly"]
            ])
    }
}
