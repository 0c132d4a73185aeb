import KubeCore

/// DaemonSet `calico-node`, the per-node agent. It encodes the privilege decision: privileged
/// unless the NonPrivilegedCalicoNode gate is on and eBPF is off (docs/operations.md), and the
/// BIRD exporter side-car only while privileged.
enum CalicoNodeDaemonSet {
    static func build(_ v: CalicoValues, configChecksum: String) -> JSON {
        var metadata: JSONObject = [
            "name": "calico-node", "namespace": .string(K.namespace),
            "labels": ["k8s-app": "calico-node", "gardener.cloud/role": "system-component", "node.gardener.cloud/critical-component": "true"],
        ]
        if v.preserveResources { metadata["annotations"] = K.preserveResources }

        var templateLabels: JSONObject = ["node.gardener.cloud/critical-component": "true"]
        templateLabels.merge(K.networkingLabels(), uniquingKeysWith: { a, _ in a })
        templateLabels["k8s-app"] = "calico-node"
        templateLabels["gardener.cloud/role"] = "system-component"

        let podSpec: JSONObject = [
            "nodeSelector": K.linuxNodeSelector,
            "hostNetwork": true,
            "tolerations": K.tolerateAll,
            "serviceAccountName": "calico-node",
            "securityContext": ["seccompProfile": K.runtimeDefaultSeccomp],
            "terminationGracePeriodSeconds": 0,
            "priorityClassName": "system-node-critical",
            "initContainers": .array(initContainers(v)),
            "containers": .array(containers(v)),
            "volumes": .array(volumes(v)),
        ]

        return K.object(
            "apps/v1", "DaemonSet", .object(metadata),
            [
                "spec": [
                    "revisionHistoryLimit": 2,
                    "selector": ["matchLabels": ["k8s-app": "calico-node"]],
                    "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 2]],
                    "template": [
                        "metadata": [
                            "labels": .object(templateLabels),
                            "annotations": ["checksum/configmap-calico": .string(configChecksum)],
                        ],
                        "spec": .object(podSpec),
                    ],
                ]
            ])
    }

    // MARK: init containers

    static func initContainers(_ v: CalicoValues) -> [JSON] {
        var list: [JSON] = []
        let privileged: JSON = ["privileged": true]
        if v.overlay == .disabled {
            list.append([
                "name": "cleanup-routes", "image": .string(v.images.calicoNode),
                "command": K.strings(["sh", "-c", Scripts.cleanupRoutes]),
                "securityContext": privileged,
            ])
        }
        if v.monitoringEnabled {
            list.append([
                "name": "log-mtu-issues", "image": .string(v.images.calicoNode),
                "command": K.strings(["/bin/sh", "-c", Scripts.logMTUIssues]),
                "securityContext": privileged,
            ])
        }
        list.append([
            "name": "install-cni", "image": .string(v.images.calicoCNI),
            "command": ["/opt/cni/bin/install"],
            "envFrom": [["configMapRef": ["name": "kubernetes-services-endpoint", "optional": true]]],
            "env": [
                K.env("CNI_CONF_NAME", "10-calico.conflist"),
                K.envConfigMap("CNI_NETWORK_CONFIG", key: "cni_network_config"),
                K.envField("KUBERNETES_NODE_NAME", "spec.nodeName"),
                K.envConfigMap("CNI_MTU", key: "veth_mtu"),
                K.env("SLEEP", "false"),
            ],
            "volumeMounts": [
                K.mount("cni-net-dir", "/host/etc/cni/net.d"),
                K.mount("cni-bin-dir", "/host/secondary-bin-dir"),
            ],
            "securityContext": privileged,
        ])
        if v.bpfEnabled {
            list.append([
                "name": "ebpf-bootstrap", "image": .string(v.images.calicoNode),
                "command": ["calico-node", "-init", "-best-effort"],
                "volumeMounts": [
                    K.mount("sys-fs", "/sys/fs", propagation: "Bidirectional"),
                    K.mount("var-run-calico", "/var/run/calico", propagation: "Bidirectional"),
                    K.mount("nodeproc", "/nodeproc", readOnly: true),
                ],
                "securityContext": privileged,
            ])
        }
        if !v.privileged {
            list.append([
                "name": "hostpath-init", "image": .string(v.images.calicoNode),
                "command": ["sh", "-c", "calico-node -hostpath-init"],
                "env": [K.env("NODE_USER_ID", "999")],
                "volumeMounts": [
                    K.mount("var-run", "/var/run", readOnly: false),
                    K.mount("var-lib", "/var/lib", readOnly: false),
                    K.mount("var-log", "/var/log", readOnly: false),
                ],
                "securityContext": ["allowPrivilegeEscalation": false, "runAsUser": 0],
            ])
        }
        return list
    }

    // MARK: containers

    static func containers(_ v: CalicoValues) -> [JSON] {
        var list: [JSON] = []
        if v.snatToUpstreamDNS {
            let securityContext: JSON =
                v.privileged
                ? ["privileged": true]
                : ["privileged": false, "allowPrivilegeEscalation": false, "capabilities": ["add": ["NET_ADMIN"]]]
            list.append([
                "name": "add-snat-rule-to-upstream-dns", "image": .string(v.images.calicoNode),
                "imagePullPolicy": "IfNotPresent",
                "securityContext": securityContext,
                "env": [K.env("POD_CIDR", v.podCIDR)],
                "command": K.strings(["/bin/sh", "-c", Scripts.addSNATRuleToUpstreamDNS]),
                "volumeMounts": [K.mount("xtables-lock", "/run/xtables.lock", readOnly: false)],
            ])
        }
        if v.backend != "none" {
            var env: [JSON] = [
                K.envConfigMap("CALICO_NETWORKING_BACKEND", key: "calico_backend"),
                K.env("IP", v.ipv4.enabled ? "autodetect" : "none"),
            ]
            if v.ipv4.enabled, let m = v.ipv4.autoDetectionMethod, !m.isEmpty { env.append(K.env("IP_AUTODETECTION_METHOD", m)) }
            if v.ipv6.enabled { env.append(K.env("IP6", "autodetect")) }
            if v.ipv6.enabled, let m = v.ipv6.autoDetectionMethod, !m.isEmpty { env.append(K.env("IP6_AUTODETECTION_METHOD", m)) }
            env.append(K.env("NO_DEFAULT_POOLS", "true"))
            env.append(K.envField("NODENAME", "spec.nodeName"))
            list.append([
                "name": "network-unavailable-condition-ensurer", "image": .string(v.images.calicoNode),
                "imagePullPolicy": "IfNotPresent",
                "securityContext": ["privileged": false, "allowPrivilegeEscalation": false],
                "env": .array(env),
                "command": K.strings(["/bin/bash", "-c", Scripts.networkUnavailableConditionEnsurer]),
            ])
        }
        list.append(calicoNodeContainer(v))
        if v.birdExporterContainer {
            var args = ["-format.new=true", "-bird.socket=/var/run/calico/bird.ctl"]
            if !v.ipv6.enabled { args.append("-bird.ipv6=false") }
            args.append("-web.listen-address=:\(v.birdMetricsPort)")
            list.append([
                "name": "bird-exporter", "image": .string(v.images.birdExporter),
                "args": K.strings(args),
                "resources": K.requests(cpu: "10m", memory: "32Mi"),
                "volumeMounts": [["name": "var-run-calico", "mountPath": "/var/run/calico", "readOnly": true]],
                "ports": [["containerPort": .int(Int64(v.birdMetricsPort)), "name": "bird-metrics", "protocol": "TCP"]],
            ])
        }
        return list
    }

    static func calicoNodeContainer(_ v: CalicoValues) -> JSON {
        var c: JSONObject = [
            "name": "calico-node", "image": .string(v.images.calicoNode),
            "envFrom": Fixed.envFromServicesEndpoint,
        ]
        if v.monitoringEnabled {
            c["ports"] = [["containerPort": .int(Int64(v.felixMetricsPort)), "name": "metrics", "protocol": "TCP"]]
        }
        c["env"] = .array(env(v))
        c["securityContext"] =
            v.privileged
            ? ["privileged": true]
            : [
                "runAsUser": 999, "runAsGroup": 0, "privileged": false, "allowPrivilegeEscalation": false,
                "capabilities": ["add": ["NET_RAW", "NET_ADMIN", "NET_BIND_SERVICE"]],
            ]
        c["resources"] = K.requests(cpu: v.nodeCPURequest, memory: v.nodeMemoryRequest)
        c["lifecycle"] = Fixed.lifecycle
        let bird = v.backend == "bird"
        c["livenessProbe"] = bird ? Fixed.livenessProbeBird : Fixed.livenessProbe
        c["readinessProbe"] = bird ? Fixed.readinessProbeBird : Fixed.readinessProbe
        var mounts: [JSON] = Fixed.nodeMounts
        if v.privileged {
            mounts.append(contentsOf: Fixed.privilegedNodeMounts)
        } else {
            mounts.append(K.mount("var-run", "/var/run", readOnly: false))
            mounts.append(K.mount("var-lib", "/var/lib", readOnly: false))
            mounts.append(K.mount("var-log", "/var/log", readOnly: false))
        }
        mounts.append(["name": "policysync", "mountPath": "/var/run/nodeagent"])
        if v.bpfEnabled { mounts.append(["name": "bpffs", "mountPath": "/sys/fs/bpf"]) }
        mounts.append(["name": "cni-log-dir", "mountPath": "/var/log/calico/cni", "readOnly": true])
        c["volumeMounts"] = .array(mounts)
        return .object(c)
    }

    /// Environment of the `calico-node` container, in the reference's order (a reordering alone would
    /// roll the DaemonSet on every node when switching implementations).
    static func env(_ v: CalicoValues) -> [JSON] {
        var e: [JSON] = []
        e.reserveCapacity(40)
        let vxlan = v.vxlanOverlay
        if v.hostLocalIPAM { e.append(K.env("USE_POD_CIDR", "true")) }
        if v.monitoringEnabled {
            e.append(Fixed.felixMetricsEnabled)
            e.append(K.env("FELIX_PROMETHEUSMETRICSPORT", String(v.felixMetricsPort)))
        }
        e.append(contentsOf: Fixed.datastoreEnv)
        e.append(K.env("IP", v.ipv4.enabled ? "autodetect" : "none"))
        if v.ipv4.enabled {
            e.append(K.env("CALICO_IPV4POOL_\(v.ipv4.pool.uppercased())", v.ipv4.mode))
            e.append(K.env("CALICO_IPV4POOL_CIDR", v.podCIDR))
            if let m = v.ipv4.autoDetectionMethod, !m.isEmpty { e.append(K.env("IP_AUTODETECTION_METHOD", m)) }
        }
        if v.ipv6.enabled {
            e.append(K.env("IP6", "autodetect"))
            e.append(K.env("CALICO_IPV6POOL_\(v.ipv6.pool.uppercased())", v.ipv6.mode))
            e.append(K.env("CALICO_IPV6POOL_CIDR", v.podCIDRv6))
            if let m = v.ipv6.autoDetectionMethod, !m.isEmpty { e.append(K.env("IP6_AUTODETECTION_METHOD", m)) }
            e.append(K.env("CALICO_IPV6POOL_NAT_OUTGOING", String(v.ipv6.natOutgoing)))
            e.append(K.env("CALICO_ROUTER_ID", "hash"))
        }
        e.append(K.env("FELIX_IPV6SUPPORT", String(v.ipv6.enabled)))
        e.append(contentsOf: Fixed.mtuEnv)
        if !vxlan { e.append(K.env("FELIX_IPINIPENABLED", String(v.ipinipEnabled))) }
        e.append(K.env("FELIX_BPFENABLED", String(v.bpfEnabled)))
        if v.bpfEnabled && !v.kubeProxyIPTablesCleanup {
            e.append(K.env("FELIX_BPFKUBEPROXYHEALTZPORT", "10257"))
            e.append(K.env("FELIX_BPFKUBEPROXYHEALTHZPORT", "10257"))
        }
        e.append(K.env("FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED", String(v.kubeProxyIPTablesCleanup)))
        e.append(contentsOf: Fixed.healthEnv)
        if let slp = v.serviceLoopPrevention { e.append(K.env("FELIX_SERVICELOOPPREVENTION", slp)) }
        if v.nftablesEnabled { e.append(K.env("FELIX_NFTABLESMODE", "Enabled")) }
        if v.snatToUpstreamDNS { e.append(K.env("FELIX_CHAININSERTMODE", "Append")) }
        if v.ipv4.wireguard { e.append(K.env("FELIX_WIREGUARDENABLED", "true")) }
        if v.ipv6.wireguard { e.append(K.env("FELIX_WIREGUARDENABLEDV6", "true")) }
        e.append(Fixed.manageCNI)
        if vxlan {
            e.append(K.env("CALICO_IPV4POOL_IPIP", "Never"))
            e.append(K.env("FELIX_VXLANENABLED", "true"))
        }
        return e
    }

    // MARK: volumes

    static func volumes(_ v: CalicoValues) -> [JSON] {
        var vols: [JSON] = [Fixed.libModulesVolume]
        if v.privileged {
            vols.append(contentsOf: Fixed.privilegedVolumes)
        } else {
            vols.append(K.hostPath("var-run", "/var/run"))
            vols.append(K.hostPath("var-lib", "/var/lib"))
            vols.append(K.hostPath("var-log", "/var/log"))
        }
        vols.append(K.hostPath("xtables-lock", "/run/xtables.lock", type: "FileOrCreate"))
        if v.bpfEnabled {
            vols.append(K.hostPath("sys-fs", "/sys/fs/", type: "DirectoryOrCreate"))
            vols.append(K.hostPath("bpffs", "/sys/fs/bpf", type: "Directory"))
            vols.append(K.hostPath("nodeproc", "/proc"))
        }
        vols.append(contentsOf: Fixed.trailingVolumes)
        return vols
    }

    /// Parts of the DaemonSet that never depend on the values, built once per process: the
    /// render hot path then only retains them instead of building (and freeing) the same
    /// small objects on every render.
    enum Fixed {
        static let felixMetricsEnabled = K.env("FELIX_PROMETHEUSMETRICSENABLED", "true")
        static let datastoreEnv: [JSON] = [
            K.env("DATASTORE_TYPE", "kubernetes"),
            K.envConfigMap("FELIX_TYPHAK8SSERVICENAME", key: "typha_service_name"),
            K.env("WAIT_FOR_DATASTORE", "true"),
            K.envField("NODENAME", "spec.nodeName"),
            K.envConfigMap("CALICO_NETWORKING_BACKEND", key: "calico_backend"),
            K.env("CLUSTER_TYPE", "k8s,bgp"),
        ]
        static let mtuEnv: [JSON] = [
            K.envConfigMap("FELIX_IPINIPMTU", key: "veth_mtu"),
            K.envConfigMap("FELIX_VXLANMTU", key: "veth_mtu"),
            K.envConfigMap("FELIX_WIREGUARDMTU", key: "veth_mtu"),
            K.env("CALICO_DISABLE_FILE_LOGGING", "true"),
            K.env("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
        ]
        static let healthEnv: [JSON] = [K.env("FELIX_HEALTHENABLED", "true"), K.env("FELIX_NATPORTRANGE", "32768:65535")]
        static let manageCNI = K.env("CALICO_MANAGE_CNI", "true")
        static let envFromServicesEndpoint: JSON = [["configMapRef": ["name": "kubernetes-services-endpoint", "optional": true]]]
        static let lifecycle: JSON = ["preStop": ["exec": ["command": ["/bin/calico-node", "-shutdown"]]]]
        static func livenessProbe(bird: Bool) -> JSON {
            [
                "exec": ["command": K.strings(["/bin/calico-node", "-felix-live"] + (bird ? ["-bird-live"] : []))],
                "periodSeconds": 10, "initialDelaySeconds": 10, "failureThreshold": 6, "timeoutSeconds": 10,
            ]
        }
        static func readinessProbe(bird: Bool) -> JSON {
            [
                "exec": ["command": K.strings(["/bin/calico-node", "-felix-ready"] + (bird ? ["-bird-ready"] : []))],
                "periodSeconds": 10, "timeoutSeconds": 10,
            ]
        }
        static let livenessProbe = livenessProbe(bird: false)
        static let livenessProbeBird = livenessProbe(bird: true)
        static let readinessProbe = readinessProbe(bird: false)
        static let readinessProbeBird = readinessProbe(bird: true)
        static let nodeMounts: [JSON] = [
            K.mount("cni-net-dir", "/host/etc/cni/net.d", readOnly: false),
            K.mount("lib-modules", "/lib/modules", readOnly: true),
            K.mount("xtables-lock", "/run/xtables.lock", readOnly: false),
        ]
        static let privilegedNodeMounts: [JSON] = [
            K.mount("var-run-calico", "/var/run/calico", readOnly: false),
            K.mount("var-lib-calico", "/var/lib/calico", readOnly: false),
        ]
        static let libModulesVolume = K.hostPath("lib-modules", "/lib/modules")
        static let privilegedVolumes: [JSON] = [
            K.hostPath("var-run-calico", "/var/run/calico", type: "DirectoryOrCreate"),
            K.hostPath("var-lib-calico", "/var/lib/calico", type: "DirectoryOrCreate"),
        ]
        static let trailingVolumes: [JSON] = [
            K.hostPath("cni-bin-dir", "/opt/cni/bin", type: "DirectoryOrCreate"),
            K.hostPath("cni-net-dir", "/etc/cni/net.d"),
            K.hostPath("cni-log-dir", "/var/log/calico/cni"),
            K.hostPath("policysync", "/var/run/nodeagent", type: "DirectoryOrCreate"),
        ]
    }
}
