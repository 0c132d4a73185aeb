import CalicoAPI
import Foundation
import KubeCore
import Testing

@testable import CalicoManifests

/// A small scenario builder over the ipv4-default shape (IPv4, nodes 10.250.0.0/16,
/// kube-proxy IPTables, shoot VPA on) with overridable pieces.
struct Scenario {
    var providerConfig: JSON? = nil
    var families: [String] = ["IPv4"]
    var podCIDR = "100.96.0.0/11"
    var statusPods: [String] = ["100.96.0.0/11"]
    var statusNodes: [String]? = ["10.250.0.0/16"]
    var nodes: String? = "10.250.0.0/16"
    var kubeProxy: JSON? = ["enabled": true, "mode": "IPTables"]
    var wantsVPA = true
    var version = "1.31.4"
    var constraints: JSON? = nil
    var gates = FeatureGates()

    var network: JSON {
        var spec: JSONObject = [
            "type": "calico", "podCIDR": .string(podCIDR), "serviceCIDR": "100.64.0.0/13",
            "ipFamilies": .array(families.map(JSON.string)),
        ]
        if var pc = providerConfig {
            pc["apiVersion"] = "calico.networking.extensions.gardener.cloud/v1alpha1"
            pc["kind"] = "NetworkConfig"
            spec["providerConfig"] = pc
        }
        return [
            "apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Network",
            "metadata": ["name": "n", "namespace": "shoot--dev--n"], "spec": .object(spec),
        ]
    }

    var cluster: JSON {
        var kubernetes: JSONObject = ["version": .string(version)]
        if let kubeProxy { kubernetes["kubeProxy"] = kubeProxy }
        kubernetes["verticalPodAutoscaler"] = ["enabled": .bool(wantsVPA)]
        var networking: JSONObject = ["type": "calico", "ipFamilies": .array(families.map(JSON.string))]
        if let nodes { networking["nodes"] = .string(nodes) }
        var statusNetworking: JSONObject = ["pods": .array(statusPods.map(JSON.string))]
        if let statusNodes { statusNetworking["nodes"] = .array(statusNodes.map(JSON.string)) }
        var status: JSONObject = ["networking": .object(statusNetworking)]
        if let constraints { status["constraints"] = constraints }
        let shoot: JSON = [
            "apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot", "metadata": ["name": "n", "namespace": "garden-dev"],
            "spec": ["kubernetes": .object(kubernetes), "networking": .object(networking)],
            "status": .object(status),
        ]
        return [
            "apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Cluster", "metadata": ["name": "shoot--dev--n"], "spec": ["shoot": shoot],
        ]
    }

    func render() throws -> RenderedManifests {
        try renderShootManifests(network: network, cluster: cluster, featureGates: gates)
    }
}

extension RenderedManifests {
    func find(_ kind: String, _ name: String) -> JSON? {
        objects.first { $0["kind"]?.stringValue == kind && $0[path: "metadata", "name"]?.stringValue == name }
    }
    func has(_ kind: String, _ name: String) -> Bool { find(kind, name) != nil }
    var daemonSet: JSON { find("DaemonSet", "calico-node") ?? .null }
    func container(_ name: String) -> JSON? {
        daemonSet[path: "spec", "template", "spec", "containers"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }
    func initContainer(_ name: String) -> JSON? {
        daemonSet[path: "spec", "template", "spec", "initContainers"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }
    /// Env of the calico-node container as name → value (valueFrom entries as "<ref>").
    var nodeEnv: [(String, String)] {
        (container("calico-node")?["env"]?.arrayValue ?? []).map {
            ($0["name"]?.stringValue ?? "", $0["value"]?.stringValue ?? "<ref>")
        }
    }
    func env(_ name: String) -> String? { nodeEnv.first { $0.0 == name }?.1 }
    var volumeNames: [String] {
        (daemonSet[path: "spec", "template", "spec", "volumes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }
    var cni: String { find("ConfigMap", "calico-config")?[path: "data", "cni_network_config"]?.stringValue ?? "" }
}

@Suite("rendering conditions")
struct ConditionTests {
    @Test func defaultIPv4() throws {
        let m = try Scenario(providerConfig: nil).render()
        #expect(m.objects.count == 64)
        #expect(!m.has("IPPool", "default-ipv4-ippool"))
        #expect(m.initContainer("cleanup-routes") == nil)
        #expect(m.container("add-snat-rule-to-upstream-dns") == nil)
        #expect(m.container("network-unavailable-condition-ensurer") != nil)
        #expect(m.env("FELIX_IPINIPENABLED") == "true")
        #expect(m.env("IP_AUTODETECTION_METHOD") == "cidr=10.250.0.0/16")
        #expect(m.has("Deployment", "calico-node-vertical-autoscaler"))
        #expect(m.has("VerticalPodAutoscaler", "calico-kube-controllers"))
    }

    @Test func overlayDisabledWithPodRoutesKeepsBird() throws {
        let m = try Scenario(providerConfig: ["overlay": ["enabled": false, "createPodRoutes": true]]).render()
        #expect(m.values.backend == "bird")
        #expect(m.values.kubeControllersEnabled)
        #expect(m.has("Deployment", "calico-kube-controllers"))
        #expect(m.container("network-unavailable-condition-ensurer") != nil)
        #expect(m.initContainer("cleanup-routes") != nil)
        #expect(m.container("add-snat-rule-to-upstream-dns") != nil)
        #expect(m.env("CALICO_IPV4POOL_IPIP") == "Never")
        let probe = m.container("calico-node")?[path: "livenessProbe", "exec", "command"]
        #expect(probe == ["/bin/calico-node", "-felix-live", "-bird-live"])
        #expect(m.find("IPPool", "default-ipv4-ippool")?[path: "spec", "ipipMode"] == "Never")
        #expect(m.find("IPPool", "no-snat-for-node-cidr")?[path: "spec", "cidr"] == "10.250.0.0/16")
    }

    @Test func overlayDisabledWithoutSNAT() throws {
        let m = try Scenario(providerConfig: ["overlay": ["enabled": false], "snatToUpstreamDNS": ["enabled": false]]).render()
        #expect(m.container("add-snat-rule-to-upstream-dns") == nil)
        #expect(m.env("FELIX_CHAININSERTMODE") == nil)
        #expect(!m.has("Deployment", "calico-kube-controllers"))
        #expect(m.find("ConfigMap", "calico-config")?[path: "data", "calico_backend"] == "none")
    }

    @Test func overlayDisabledWithoutNodeCIDRHasNoNoSNATPool() throws {
        var s = Scenario(providerConfig: ["overlay": ["enabled": false]])
        s.nodes = nil
        s.statusNodes = nil
        let m = try s.render()
        #expect(m.has("IPPool", "default-ipv4-ippool"))
        #expect(!m.has("IPPool", "no-snat-for-node-cidr"))
        #expect(m.env("IP_AUTODETECTION_METHOD") == nil)
    }

    @Test func typhaDisabled() throws {
        let m = try Scenario(providerConfig: ["typha": ["enabled": false]]).render()
        #expect(m.find("ConfigMap", "calico-config")?[path: "data", "typha_service_name"] == "none")
        for (kind, name) in [
            ("Deployment", "calico-typha-deploy"), ("Service", "calico-typha"), ("PodDisruptionBudget", "calico-typha"),
            ("ServiceAccount", "calico-typha"), ("Deployment", "calico-typha-horizontal-autoscaler"),
            ("Deployment", "calico-typha-vertical-autoscaler"), ("ClusterRole", "typha-cpha"), ("ServiceAccount", "typha-cpva"),
        ] {
            #expect(!m.has(kind, name), "\(kind) \(name)")
        }
        #expect(m.has("NetworkPolicy", "gardener.cloud--allow-from-calico-node"))
        #expect(m.has("Service", "calico-typha-monitoring"))
        #expect(m.find("ClusterRoleBinding", "calico-node")?["subjects"]?.arrayValue?.count == 1)
    }

    @Test func emptyTyphaObjectMeansDisabled() throws {
        let m = try Scenario(providerConfig: ["typha": [:]]).render()
        #expect(!m.has("Deployment", "calico-typha-deploy"))
    }

    @Test func vpaModeWithoutShootVPAFallsBackToCPVA() throws {
        var s = Scenario(providerConfig: ["autoScaling": ["mode": "vpa", "resources": ["node": ["cpu": "300m"]]]])
        s.wantsVPA = false
        let m = try s.render()
        #expect(m.has("Deployment", "calico-node-vertical-autoscaler"))
        #expect(m.has("Deployment", "calico-typha-vertical-autoscaler"))
        #expect(!m.objects.contains { $0["kind"] == "VerticalPodAutoscaler" })
        #expect(m.container("calico-node")?[path: "resources", "requests", "cpu"] == "250m")
    }

    @Test func vpaModeWithoutTypha() throws {
        let m = try Scenario(providerConfig: ["autoScaling": ["mode": "vpa"], "typha": ["enabled": false]]).render()
        #expect(m.has("VerticalPodAutoscaler", "calico-node"))
        #expect(!m.has("VerticalPodAutoscaler", "calico-typha"))
        #expect(!m.has("Deployment", "calico-typha-vertical-autoscaler"))
        #expect(!m.has("Deployment", "calico-node-vertical-autoscaler"))
        let policy = m.find("VerticalPodAutoscaler", "calico-node")?[path: "spec", "resourcePolicy", "containerPolicies"]?[0]
        #expect(policy?["minAllowed"] == nil)
    }

    @Test func staticModeCanonicalisesQuantities() throws {
        let m = try Scenario(providerConfig: [
            "autoScaling": ["mode": "static", "resources": ["node": ["cpu": "0.5", "memory": "2048Mi"], "typha": ["memory": "1.5Gi"]]]
        ]).render()
        #expect(m.container("calico-node")?[path: "resources", "requests"] == ["cpu": "500m", "memory": "2Gi"])
        let typha = m.find("Deployment", "calico-typha-deploy")?[path: "spec", "template", "spec", "containers"]?[0]
        #expect(typha?[path: "resources", "requests"] == ["cpu": "200m", "memory": "1536Mi"])
        #expect(m.daemonSet[path: "metadata", "annotations"] == nil)
        #expect(m.find("Deployment", "calico-typha-deploy")?[path: "metadata", "annotations"] == nil)
        #expect(m.has("VerticalPodAutoscaler", "calico-kube-controllers"))
        #expect(!m.has("ConfigMap", "calico-node-vertical-autoscaler"))
    }

    @Test func birdExporterPrivilegedAndNonPrivileged() throws {
        let m = try Scenario(providerConfig: ["birdExporter": ["enabled": true]]).render()
        #expect(
            m.container("bird-exporter")?["args"] == [
                "-format.new=true", "-bird.socket=/var/run/calico/bird.ctl", "-bird.ipv6=false", "-web.listen-address=:9094",
            ])
        #expect(m.has("Service", "calico-bird-monitoring"))
        var s = Scenario(providerConfig: ["birdExporter": ["enabled": true]])
        try s.gates.set("NonPrivilegedCalicoNode=true")
        let n = try s.render()
        #expect(n.container("bird-exporter") == nil)
        #expect(n.has("Service", "calico-bird-monitoring"))
    }

    @Test func nonPrivilegedCalicoNode() throws {
        var s = Scenario()
        try s.gates.set("NonPrivilegedCalicoNode=true")
        let m = try s.render()
        #expect(m.initContainer("hostpath-init")?["env"] == [["name": "NODE_USER_ID", "value": "999"]])
        #expect(m.container("calico-node")?[path: "securityContext", "runAsUser"] == 999)
        #expect(m.volumeNames.contains("var-run") && m.volumeNames.contains("var-log") && !m.volumeNames.contains("var-run-calico"))
    }

    @Test func ebpfForcesPrivilegedAndKubeProxyHealthPorts() throws {
        var s = Scenario(providerConfig: ["ebpfDataplane": ["enabled": true]])
        try s.gates.set("NonPrivilegedCalicoNode=true")
        let m = try s.render()
        #expect(m.values.privileged)
        #expect(m.initContainer("hostpath-init") == nil)
        #expect(m.initContainer("ebpf-bootstrap") != nil)
        #expect(m.env("FELIX_BPFKUBEPROXYHEALTZPORT") == "10257")
        #expect(m.env("FELIX_BPFKUBEPROXYHEALTHZPORT") == "10257")
        #expect(m.env("FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED") == "false")
        #expect(
            m.volumeNames == [
                "lib-modules", "var-run-calico", "var-lib-calico", "xtables-lock", "sys-fs", "bpffs", "nodeproc", "cni-bin-dir",
                "cni-net-dir", "cni-log-dir", "policysync",
            ])
    }

    @Test func kubeProxyModes() throws {
        var s = Scenario()
        s.kubeProxy = ["enabled": true, "mode": "NFTables"]
        #expect(try s.render().env("FELIX_NFTABLESMODE") == "Enabled")
        s.kubeProxy = ["enabled": true, "mode": "IPVS"]
        #expect(try s.render().env("FELIX_NFTABLESMODE") == nil)
        s.kubeProxy = ["enabled": false, "mode": "IPTables"]
        s.providerConfig = ["ebpfDataplane": ["enabled": true]]
        #expect(throws: RenderError.self) { try s.render() }
        do { _ = try s.render() } catch let e as RenderError {
            #expect(e.message == "error when generating calico config: kube-proxy mode must not be set if kube-proxy is disabled")
        }
        s.kubeProxy = ["enabled": false]
        #expect(try s.render().env("FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED") == "true")
        s.providerConfig = nil
        #expect(throws: RenderError.self) { try s.render() }
    }

    @Test func wireguardServiceLoopPreventionMTU() throws {
        let m = try Scenario(providerConfig: ["wireguardEncryption": true, "serviceLoopPrevention": "Drop", "vethMTU": "1400"]).render()
        #expect(m.env("FELIX_WIREGUARDENABLED") == "true")
        #expect(m.env("FELIX_WIREGUARDENABLEDV6") == "true")
        #expect(m.values.ipv6.natOutgoing)
        #expect(m.env("FELIX_SERVICELOOPPREVENTION") == "Drop")
        #expect(m.find("ConfigMap", "calico-config")?[path: "data", "veth_mtu"] == "1400")
    }

    @Test func ipamCIDRIsPassedVerbatim() throws {
        let m = try Scenario(providerConfig: ["ipam": ["type": "host-local", "cidr": "usePodCIDR"]]).render()
        #expect(m.cni.contains("\"subnet\": \"usePodCIDR\","))
        let c = try Scenario(providerConfig: ["ipam": ["type": "calico-ipam"]]).render()
        #expect(c.cni.contains("\"type\": \"calico-ipam\","))
        #expect(c.env("USE_POD_CIDR") == nil)
    }

    @Test func vxlanWithoutOverlayKeepsIPIPEnv() throws {
        let m = try Scenario(providerConfig: ["vxlan": ["enabled": true]]).render()
        #expect(m.env("CALICO_IPV4POOL_VXLAN") == "Always")
        #expect(m.env("FELIX_IPINIPENABLED") == "true")
        #expect(m.env("FELIX_VXLANENABLED") == nil)
        #expect(m.cni.contains("calico-ipam"))
        #expect(!m.has("IPPool", "default-ipv4-ippool"))
    }

    @Test func vxlanOverlayEnvOrder() throws {
        let m = try Scenario(providerConfig: ["overlay": ["enabled": true], "vxlan": ["enabled": true]]).render()
        let names = m.nodeEnv.map(\.0)
        #expect(names.suffix(3) == ["CALICO_MANAGE_CNI", "CALICO_IPV4POOL_IPIP", "FELIX_VXLANENABLED"])
        #expect(m.find("ConfigMap", "calico-config")?[path: "data", "calico_backend"] == "vxlan")
        #expect(m.find("IPPool", "default-ipv4-ippool")?[path: "spec", "vxlanMode"] == "Always")
    }

    @Test func dualStackTruncatedWhileMigrating() throws {
        var s = Scenario()
        s.families = ["IPv4", "IPv6"]
        s.statusPods = ["100.96.0.0/11", "2001:db8:2::/56"]
        s.statusNodes = ["10.250.0.0/16", "2001:db8:1::/56"]
        s.constraints = [["type": "DualStackNodesMigrationReady", "status": "False"]]
        let m = try s.render()
        #expect(!m.values.ipv6.enabled)
        #expect(m.values.backend == "bird")
        s.constraints = nil
        let d = try s.render()
        #expect(d.values.ipv6.enabled && d.values.ipv4.enabled)
        #expect(d.env("IP6_AUTODETECTION_METHOD") == "cidr=2001:db8:1::/56")
        #expect(d.env("CALICO_IPV4POOL_IPIP") == "Never")
        #expect(d.cni.contains("\"ranges\": [[{\"subnet\":\"usePodCidrIPv6\"}],[{\"subnet\":\"usePodCidr\"}]],"))
        #expect(!d.cni.contains("\"subnet\": "))
    }

    @Test func statusNodesWithoutIPv4SuppressAutodetection() throws {
        var s = Scenario()
        s.statusNodes = ["2001:db8:1::/56"]
        let m = try s.render()
        #expect(m.env("IP_AUTODETECTION_METHOD") == nil)
        #expect(m.values.ipv4.autoDetectionMethod == "")
    }

    @Test func ipv6RenderOnlyErrors() throws {
        var s = Scenario()
        s.families = ["IPv6"]
        s.podCIDR = "2001:db8:2::/56"
        s.statusPods = ["2001:db8:2::/56"]
        s.nodes = "2001:db8:1::/56"
        s.statusNodes = ["2001:db8:1::/56"]
        s.providerConfig = ["ipv6": ["pool": "ipip"]]
        #expect(
            throws: RenderError(field: "spec.providerConfig.ipv6.pool", "error when generating calico config: unsupported value for ipv6 pool: ipip")
        ) {
            try s.render()
        }
        s.providerConfig = ["ipv6": ["mode": "Off"]]
        // Overlay unset on IPv6 forces ipv6.mode Never before the values run, so Off never reaches them.
        #expect(try s.render().values.ipv6.mode == "Never")
        s.providerConfig = ["ipv4": ["pool": "ipip"]]
        #expect(throws: RenderError.self) { try s.render() }
        s.providerConfig = ["ipv6": ["sourceNATEnabled": true]]
        let m = try s.render()
        #expect(m.find("IPPool", "default-ipv6-ippool")?[path: "spec", "natOutgoing"] == true)
        #expect(m.env("CALICO_IPV6POOL_NAT_OUTGOING") == "true")
        #expect(m.env("IP") == "none")
    }

    @Test func validationErrorsCarryTheField() throws {
        let s = Scenario(providerConfig: ["ipv4": ["mode": "Sometimes"]])
        do {
            _ = try s.render()
            Issue.record("rendered")
        } catch let e as RenderError {
            #expect(e.field == "spec.providerConfig.ipv4.mode")
            #expect(e.message.hasPrefix("invalid network config: spec.providerConfig.ipv4.mode: Invalid value"))
        }
        let unknown = Scenario(providerConfig: ["foo": 1])
        #expect(throws: RenderError.self) { try unknown.render() }
    }

    @Test func multusWithoutCNIPlugins() throws {
        let m = try Scenario(providerConfig: ["multus": ["enabled": true]]).render()
        let ds = m.find("DaemonSet", "multus")
        #expect(ds?[path: "spec", "template", "spec", "initContainers"]?.arrayValue?.count == 1)
        #expect(m.has("CustomResourceDefinition", "network-attachment-definitions.k8s.cni.cncf.io"))
        #expect(m.has("ClusterRole", "multus") && m.has("ServiceAccount", "multus"))
        let withPlugins = try Scenario(providerConfig: ["multus": ["enabled": true, "installCNIPlugins": true]]).render()
        let args = withPlugins.find("DaemonSet", "multus")?[path: "spec", "template", "spec", "initContainers"]?[1]?["args"]?[1]?.stringValue
        #expect(args?.hasSuffix("\\;") == true)
    }

    @Test func checksumFollowsConfigMapContent() throws {
        let a = try Scenario().render()
        let b = try Scenario(providerConfig: ["vethMTU": "1380"]).render()
        let key = ["spec", "template", "metadata", "annotations", "checksum/configmap-calico"]
        let ca = a.daemonSet[path: key]?.stringValue
        #expect(ca?.count == 64)
        #expect(ca != b.daemonSet[path: key]?.stringValue)
        let cm = try #require(a.find("ConfigMap", "calico-config"))
        #expect(ca == SHA256Digest.hex(ManifestYAML.document(cm)))
        #expect(ManifestYAML.document(cm) == Array(YAMLWriter().document(cm).utf8))
    }

    @Test func outputIsSortedAndDeterministic() throws {
        let m = try Scenario().render()
        let keys = m.objects.map {
            [
                $0["apiVersion"]?.stringValue ?? "", $0["kind"]?.stringValue ?? "", $0[path: "metadata", "namespace"]?.stringValue ?? "",
                $0[path: "metadata", "name"]?.stringValue ?? "",
            ]
        }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(m.yaml() == (try Scenario().render().yaml()))
        let parsed = try JSON.parseYAMLDocuments(m.yaml())
        #expect(parsed == m.objects)
    }
}
