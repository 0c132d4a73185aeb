import KubeCore

/// Calico IPPools. The IPv4 pool is rendered only when the provider config has an `overlay` key
/// (otherwise calico-node creates its default pool); without overlay a disabled pool for the node
/// CIDR keeps node traffic from being masqueraded (docs/overlay.md).
enum IPPools {
    static func pool(_ name: String, _ spec: JSON) -> JSON {
        K.object("crd.projectcalico.org/v1", "IPPool", K.meta(name, namespace: nil), ["spec": spec])
    }

    static func build(_ v: CalicoValues) -> [JSON] {
        var pools: [JSON] = []
        if v.ipv4.enabled && v.overlay != .unset {
            let (ipip, vxlan): (String, String) =
                v.overlay == .disabled ? ("Never", "Never") : (v.vxlanOverlay ? ("Never", "Always") : ("Always", "Never"))
            pools.append(
                pool(
                    "default-ipv4-ippool",
                    [
                        "allowedUses": ["Workload", "Tunnel"],
                        "blockSize": 26,
                        "cidr": .string(v.podCIDR),
                        "ipipMode": .string(ipip),
                        "natOutgoing": true,
                        "nodeSelector": "all()",
                        "vxlanMode": .string(vxlan),
                    ]))
            if v.overlay == .disabled, let nodeCIDR = v.nodeCIDR, !nodeCIDR.isEmpty {
                pools.append(pool("no-snat-for-node-cidr", ["cidr": .string(nodeCIDR), "disabled": true, "disableBGPExport": true]))
            }
        }
        if v.ipv6.enabled {
            pools.append(
                pool(
                    "default-ipv6-ippool",
                    [
                        "allowedUses": ["Workload", "Tunnel"],
                        "blockSize": 122,
                        "cidr": .string(v.podCIDRv6),
                        "ipipMode": "Never",
                        "natOutgoing": .bool(v.ipv6.natOutgoing),
                        "nodeSelector": "all()",
                        "vxlanMode": "Never",
                    ]))
        }
        return pools
    }
}

/// The metrics Services: no labels, no type, no protocol, exactly as the reference renders them.
enum MonitoringServices {
    static func service(_ name: String, port: Int, app: String) -> JSON {
        K.object(
            "v1", "Service", K.meta(name),
            [
                "spec": [
                    "ports": [["port": .int(Int64(port)), "targetPort": .int(Int64(port))]],
                    "selector": ["k8s-app": .string(app)],
                ]
            ])
    }

    static func build(_ v: CalicoValues) -> [JSON] {
        guard v.monitoringEnabled else { return [] }
        var list = [
            service("calico-felix-monitoring", port: v.felixMetricsPort, app: "calico-node"),
            service("calico-typha-monitoring", port: v.typhaMetricsPort, app: "calico-typha"),
        ]
        if v.birdExporterEnabled {
            list.append(service("calico-bird-monitoring", port: v.birdMetricsPort, app: "calico-node"))
        }
        return list
    }
}

/// Multus DaemonSet, RBAC, ServiceAccount and CRD, rendered only when `multus.enabled`.
enum MultusObjects {
    static func build(_ v: CalicoValues) -> [JSON] {
        let cnibin = K.mount("cnibin", "/host/opt/cni/bin")
        let privileged: JSON = ["privileged": true]
        let initRequests = K.requests(cpu: "10m", memory: "15Mi")
        var inits: [JSON] = [
            [
                "name": "install-multus-cni", "image": .string(v.images.multusCNI),
                "command": ["/install_multus"], "args": ["--type", "thin"],
                "resources": initRequests, "volumeMounts": [["name": "cnibin", "mountPath": "/host/opt/cni/bin"]],
                "securityContext": privileged,
            ]
        ]
        if v.multusInstallCNIPlugins {
            inits.append([
                "name": "install-cni-plugins", "image": .string(v.images.cniPlugins),
                "command": ["/bin/sh"], "args": K.strings(["-c", Scripts.installCNIPlugins]),
                "resources": initRequests, "volumeMounts": [cnibin],
                "securityContext": privileged,
            ])
        }
        var templateLabels: JSONObject = ["node.gardener.cloud/critical-component": "true"]
        templateLabels.merge(K.networkingLabels(publicNetworks: false), uniquingKeysWith: { a, _ in a })
        templateLabels["k8s-app"] = "multus"
        templateLabels["gardener.cloud/role"] = "system-component"

        let daemonSet = K.object(
            "apps/v1", "DaemonSet",
            K.meta(
                "multus",
                labels: [
                    "k8s-app": "multus", "gardener.cloud/role": "system-component", "node.gardener.cloud/critical-component": "true",
                ]),
            [
                "spec": [
                    "revisionHistoryLimit": 2,
                    "selector": ["matchLabels": ["k8s-app": "multus"]],
                    "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 2]],
                    "template": [
                        "metadata": ["labels": .object(templateLabels)],
                        "spec": [
                            "nodeSelector": K.linuxNodeSelector,
                            "hostNetwork": true,
                            "tolerations": K.tolerateAll,
                            "serviceAccountName": "multus",
                            "securityContext": ["seccompProfile": K.runtimeDefaultSeccomp],
                            "terminationGracePeriodSeconds": 0,
                            "priorityClassName": "system-node-critical",
                            "initContainers": .array(inits),
                            "containers": [
                                [
                                    "name": "multus", "image": .string(v.images.multusCNI),
                                    "command": ["/thin_entrypoint"],
                                    "args": [
                                        "--cleanup-config-on-exit", "--cni-bin-dir=/host/opt/cni/bin", "--cni-conf-dir=/host/etc/cni/net.d",
                                        "--cni-version=0.3.1", "--multus-autoconfig-dir=/host/etc/cni/net.d",
                                        "--multus-cni-conf-dir=/etc/cni/multus/net.d", "--multus-conf-file=auto",
                                        "--multus-log-file=/var/log/multus.log", "--multus-log-level=error", "--multus-log-to-stderr=true",
                                        "--multus-master-cni-file-name=10-calico.conflist",
                                        "--readiness-indicator-file=/etc/cni/net.d/10-calico.conflist",
                                    ],
                                    "securityContext": privileged,
                                    "resources": K.requests(cpu: "100m", memory: "200Mi"),
                                    "env": [K.envField("MULTUS_NODE_NAME", "spec.nodeName")],
                                    "volumeMounts": [K.mount("cni", "/host/etc/cni/net.d"), cnibin],
                                ]
                            ],
                            "volumes": [K.hostPath("cni", "/etc/cni/net.d"), K.hostPath("cnibin", "/opt/cni/bin")],
                        ],
                    ],
                ]
            ])
        var objects = staticObjects
        objects.append(daemonSet)
        return objects
    }

    /// The Multus objects that never depend on the values, built once per process.
    static let staticObjects: [JSON] = [
        CalicoCRDs.networkAttachmentDefinition,
        K.clusterRole(
            "multus",
            [
                K.rule(["k8s.cni.cncf.io"], ["*"], ["*"]),
                K.rule([""], ["pods", "pods/status"], ["get", "list", "update", "watch"]),
                K.rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
            ]),
        K.clusterRoleBinding("multus", subjects: [K.saSubject("multus")]),
        K.serviceAccount("multus"),
    ]

    /// The Multus DaemonSet (images and the CNI-plugins init container depend on the values).
    static func daemonSet(_ v: CalicoValues) -> JSON {
        build(v).last ?? .null
    }
}
