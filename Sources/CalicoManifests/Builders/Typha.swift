import KubeCore

/// Typha Deployment, Service, PodDisruptionBudget and the NetworkPolicy; all but the NetworkPolicy
/// only when Typha is enabled (`typha: {}` disables it, docs/usage.md).
enum TyphaDeployment {
    static func build(_ v: CalicoValues) -> JSON {
        var metadata: JSONObject = ["name": "calico-typha-deploy", "namespace": .string(K.namespace)]
        // Static mode: the reference renders `annotations: null`; an absent key is the same
        // object for the API server and keeps schema validators quiet.
        if v.preserveResources { metadata["annotations"] = K.preserveResources }
        metadata["labels"] = ["k8s-app": "calico-typha", "gardener.cloud/role": "system-component"]

        var templateLabels = K.networkingLabels()
        templateLabels["origin"] = "gardener"
        templateLabels["gardener.cloud/role"] = "system-component"
        templateLabels["k8s-app"] = "calico-typha"

        var ports: [JSON] = [["containerPort": 5473, "name": "calico-typha", "protocol": "TCP"]]
        var env: [JSON] = []
        if v.hostLocalIPAM { env.append(K.env("USE_POD_CIDR", "true")) }
        if v.monitoringEnabled {
            ports.append(["containerPort": .int(Int64(v.typhaMetricsPort)), "name": "metrics", "protocol": "TCP"])
            env.append(K.env("TYPHA_PROMETHEUSMETRICSENABLED", "true"))
            env.append(K.env("TYPHA_PROMETHEUSMETRICSPORT", String(v.typhaMetricsPort)))
        }
        env += [
            K.env("TYPHA_LOGSEVERITYSCREEN", "info"),
            K.env("TYPHA_LOGFILEPATH", "none"),
            K.env("TYPHA_LOGSEVERITYSYS", "none"),
            K.env("TYPHA_CONNECTIONREBALANCINGMODE", "kubernetes"),
            K.env("TYPHA_DATASTORETYPE", "kubernetes"),
            K.env("TYPHA_HEALTHENABLED", "true"),
            K.env("TYPHA_SHUTDOWNTIMEOUTSECS", "300"),
        ]

        let container: JSON = [
            "image": .string(v.images.calicoTypha),
            "imagePullPolicy": "IfNotPresent",
            "name": "calico-typha",
            "ports": .array(ports),
            "env": .array(env),
            "resources": K.requests(cpu: v.typhaCPURequest, memory: v.typhaMemoryRequest),
            "livenessProbe": [
                "httpGet": ["path": "/liveness", "port": 9098, "host": "localhost"],
                "periodSeconds": 30, "initialDelaySeconds": 30, "timeoutSeconds": 10,
            ],
            "securityContext": ["runAsNonRoot": true, "allowPrivilegeEscalation": false],
            "readinessProbe": [
                "httpGet": ["path": "/readiness", "port": 9098, "host": "localhost"],
                "periodSeconds": 10, "timeoutSeconds": 10,
            ],
        ]

        return K.object(
            "apps/v1", "Deployment", .object(metadata),
            [
                "spec": [
                    "revisionHistoryLimit": 2,
                    "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": "100%"]],
                    "selector": ["matchLabels": ["k8s-app": "calico-typha"]],
                    "template": [
                        "metadata": [
                            "annotations": ["cluster-autoscaler.kubernetes.io/safe-to-evict": "true"],
                            "labels": .object(templateLabels),
                        ],
                        "spec": [
                            "tolerations": K.tolerateAll,
                            "hostNetwork": true,
                            "terminationGracePeriodSeconds": 300,
                            "priorityClassName": "system-cluster-critical",
                            "serviceAccountName": "calico-typha",
                            "securityContext": [
                                "runAsUser": 65534, "fsGroup": 65534, "supplementalGroups": [1],
                                "seccompProfile": K.runtimeDefaultSeccomp,
                            ],
                            "containers": [container],
                        ],
                    ],
                ]
            ])
    }

    static func service() -> JSON {
        K.object(
            "v1", "Service", K.meta("calico-typha", labels: ["k8s-app": "calico-typha"]),
            [
                "spec": [
                    "ports": [["port": 5473, "protocol": "TCP", "targetPort": "calico-typha", "name": "calico-typha"]],
                    "selector": ["k8s-app": "calico-typha"],
                ]
            ])
    }

    static func podDisruptionBudget() -> JSON { K.podDisruptionBudget(app: "calico-typha") }

    /// Always rendered, also without Typha.
    static func networkPolicy() -> JSON {
        K.object(
            "networking.k8s.io/v1", "NetworkPolicy",
            K.meta(
                "gardener.cloud--allow-from-calico-node", labels: ["origin": "gardener"],
                annotations: ["gardener.cloud/description": "Allows traffic from calico node\n"]),
            [
                "spec": [
                    "ingress": [
                        [
                            "from": [["podSelector": ["matchLabels": ["k8s-app": "calico-node"]]]],
                            "ports": [["port": 5473, "protocol": "TCP"]],
                        ]
                    ],
                    "podSelector": ["matchLabels": ["k8s-app": "calico-typha"]],
                    "policyTypes": ["Ingress"],
                ]
            ])
    }
}

/// calico-kube-controllers Deployment and PodDisruptionBudget, rendered only while the backend is
/// not `none` (so an overlay switch without pod routes removes it, docs/overlay.md).
enum KubeControllersDeployment {
    static func build(_ v: CalicoValues) -> JSON {
        K.settingImage(of: template, to: v.images.calicoKubeControllers)
    }

    /// Everything but the image is constant: built once, the render only sets the image.
    static let template = build(image: "")

    static func build(image: String) -> JSON {
        var templateLabels = K.networkingLabels()
        templateLabels["origin"] = "gardener"
        templateLabels["k8s-app"] = "calico-kube-controllers"
        templateLabels["gardener.cloud/role"] = "system-component"
        return K.object(
            "apps/v1", "Deployment",
            K.meta(
                "calico-kube-controllers", labels: ["k8s-app": "calico-kube-controllers", "gardener.cloud/role": "system-component"]),
            [
                "spec": [
                    "replicas": 1,
                    "revisionHistoryLimit": 2,
                    "selector": ["matchLabels": ["k8s-app": "calico-kube-controllers"]],
                    "strategy": ["type": "Recreate"],
                    "template": [
                        "metadata": [
                            "name": "calico-kube-controllers", "namespace": .string(K.namespace),
                            "labels": .object(templateLabels),
                        ],
                        "spec": [
                            "tolerations": [["effect": "NoSchedule", "operator": "Exists"]],
                            "serviceAccountName": "calico-kube-controllers",
                            "priorityClassName": "system-cluster-critical",
                            "dnsPolicy": "Default",
                            "securityContext": ["seccompProfile": K.runtimeDefaultSeccomp],
                            "containers": [
                                [
                                    "name": "calico-kube-controllers",
                                    "image": .string(image),
                                    "env": [K.env("ENABLED_CONTROLLERS", "node,loadbalancer"), K.env("DATASTORE_TYPE", "kubernetes")],
                                    "resources": K.requests(cpu: "10m", memory: "50Mi"),
                                    "livenessProbe": [
                                        "exec": ["command": ["/usr/bin/check-status", "-l"]],
                                        "periodSeconds": 10, "initialDelaySeconds": 10, "failureThreshold": 6, "timeoutSeconds": 10,
                                    ],
                                    "readinessProbe": [
                                        "exec": ["command": ["/usr/bin/check-status", "-r"]],
                                        "periodSeconds": 10, "timeoutSeconds": 10,
                                    ],
                                    "securityContext": ["allowPrivilegeEscalation": false, "readOnlyRootFilesystem": false, "runAsNonRoot": true],
                                ]
                            ],
                        ],
                    ],
                ]
            ])
    }

    static func podDisruptionBudget() -> JSON { K.podDisruptionBudget(app: "calico-kube-controllers") }
}
