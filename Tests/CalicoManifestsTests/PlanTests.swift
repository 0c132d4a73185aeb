import CalicoAPI
import Foundation
import KubeCore
import TestSupport
import Testing

@testable import CalicoManifests

/// `Plan.make`: diff, rollouts, disruption classes and preconditions on variations of the golden inputs.
@Suite struct PlanTests {
    static func golden(_ name: String) throws -> String {
        let url = try SharedFixtures.sharedDirectory().appendingPathComponent("golden").appendingPathComponent(name)
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The golden overlay cluster (Kubernetes 1.33) with text replacements.
    static func cluster(_ replacements: [(String, String)] = [], base: String = "ipv4-overlay-enabled") throws -> JSON {
        var text = try golden("\(base)/cluster.yaml")
        for (a, b) in replacements { text = text.replacingOccurrences(of: a, with: b) }
        return try JSON.parseYAML(text)
    }

    static func network(_ providerConfig: String, families: [String] = ["IPv4"]) throws -> JSON {
        try JSON.parseYAML(
            """
            apiVersion: extensions.gardener.cloud/v1alpha1
            kind: Network
            metadata: {name: overlay, namespace: shoot--dev--overlay}
            spec:
              type: calico
              podCIDR: 100.96.0.0/11
              serviceCIDR: 100.64.0.0/13
              ipFamilies: [\(families.joined(separator: ", "))]
              providerConfig: {apiVersion: calico.networking.extensions.gardener.cloud/v1alpha1, kind: NetworkConfig, \(providerConfig)}
            """)
    }

    static func plan(_ old: String, _ new: String, cluster: JSON? = nil, gates: String = "") throws -> Plan {
        let c = try cluster ?? Self.cluster()
        var g = FeatureGates()
        try g.set(gates)
        return try Plan.make(from: .init(network: network(old), cluster: c), to: .init(network: network(new), cluster: c), featureGates: g)
    }

    @Test func noChangeIsEmpty() throws {
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: true}")
        #expect(!p.hasChanges)
        #expect(p.disruption == .none)
        #expect(p.text() == "No changes.\n")
    }

    @Test func overlayOffWithoutSeamlessSwitchIsOutageRisk() throws {
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: false}")
        #expect(p.disruption == .outageRisk)
        #expect(p.impacts.contains { $0.change == "overlay IP-in-IP → off" && $0.disruption == .outageRisk })
        #expect(p.unmetPreconditions.contains { $0.contains("feature gate is off") })
        #expect(p.rollouts.contains { $0.workload == "DaemonSet/calico-node" && $0.how.contains("2 node(s) at a time") })
        #expect(p.objects.contains { $0.key.kind == "IPPool" && $0.action == .changed })
    }

    @Test func overlayOffWithSeamlessSwitchOnOldKubernetesNamesTheMissingPrecondition() throws {
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: false}", gates: "SeamlessOverlaySwitch=true")
        #expect(p.disruption == .outageRisk)
        #expect(p.unmetPreconditions.contains { $0.contains("1.36") })
    }

    @Test func overlayOffHeldBySeamlessSwitchIsDataplane() throws {
        let c = try Self.cluster([("version: 1.33.2", "version: 1.36.0")])
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: false}", cluster: c, gates: "SeamlessOverlaySwitch=true")
        #expect(p.disruption == .dataplane)
        #expect(p.unmetPreconditions.isEmpty)
    }

    @Test func ipipToVXLANIsDataplane() throws {
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: true}, vxlan: {enabled: true}")
        #expect(p.impacts.contains { $0.change == "encapsulation IP-in-IP → VXLAN" && $0.disruption == .dataplane })
        #expect(p.disruption == .dataplane)
        let back = try Self.plan("overlay: {enabled: true}, vxlan: {enabled: true}", "overlay: {enabled: true}")
        #expect(back.impacts.contains { $0.change == "encapsulation VXLAN → IP-in-IP" })
    }

    @Test func overlayOnIsDataplane() throws {
        let p = try Self.plan("overlay: {enabled: false}", "overlay: {enabled: true}")
        #expect(p.disruption == .dataplane)
        #expect(p.impacts.contains { $0.change == "overlay off → IP-in-IP" })
    }

    @Test func enablingEBPFIsDataplane() throws {
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: true}, ebpfDataplane: {enabled: true}")
        #expect(p.impacts.contains { $0.change == "eBPF dataplane off → on" && $0.disruption == .dataplane })
    }

    @Test func mtuChangeIsRestartAndNamesNewPodsOnly() throws {
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: true}, vethMTU: \"1400\"")
        #expect(p.disruption == .restart)
        #expect(p.impacts.contains { $0.reason.contains("new pods only") })
        let cm = try #require(p.objects.first { $0.key.kind == "ConfigMap" && $0.key.name == "calico-config" })
        #expect(cm.fields.contains { $0.path == "data.veth_mtu" && $0.old == "0" && $0.new == "1400" })
        let ds = try #require(p.objects.first { $0.key.name == "calico-node" && $0.key.kind == "DaemonSet" })
        #expect(ds.checksumOnly)
    }

    @Test func typhaOffOnSmallClusterIsRestart() throws {
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: true}, typha: {enabled: false}")
        #expect(p.impacts.contains { $0.change == "typha on → off" && $0.disruption == .restart })
        #expect(p.objects.contains { $0.key.name == "calico-typha-deploy" && $0.action == .removed })
    }

    @Test func typhaOffOnLargeClusterIsOutageRisk() throws {
        let c = try Self.cluster([("maximum: 5", "maximum: 500")])
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: true}, typha: {enabled: false}", cluster: c)
        #expect(p.disruption == .outageRisk)
    }

    @Test func vpaModeWithoutShootVPAIsUnmet() throws {
        let c = try Self.cluster([("verticalPodAutoscaler:\n          enabled: true", "verticalPodAutoscaler:\n          enabled: false")])
        let p = try Self.plan("overlay: {enabled: true}", "overlay: {enabled: true}, autoScaling: {mode: vpa}", cluster: c)
        #expect(p.unmetPreconditions.contains { $0.contains("verticalPodAutoscaler") })
    }

    static func dualStack(constraint: String) throws -> Plan {
        let c = try cluster([("status: 'True'", "status: '\(constraint)'")], base: "dual-stack")
        func network(_ families: [String]) throws -> JSON {
            var text = try golden("dual-stack/network.yaml")
            if families.count == 1 { text = text.replacingOccurrences(of: "  - IPv6\n", with: "").replacingOccurrences(of: "  - IPv6", with: "") }
            return try JSON.parseYAML(text)
        }
        return try Plan.make(
            from: .init(network: network(["IPv4"]), cluster: c), to: .init(network: network(["IPv4", "IPv6"]), cluster: c), featureGates: .init())
    }

    @Test func dualStackWithConstraintIsDataplane() throws {
        let p = try Self.dualStack(constraint: "True")
        #expect(p.impacts.contains { $0.change == "IP families IPv4 → IPv4,IPv6" && $0.disruption == .dataplane })
        #expect(!p.unmetPreconditions.contains { $0.contains("DualStackNodesMigrationReady") })
        // Without an explicit overlay key the IPv4 pool of a dual-stack shoot runs without IP-in-IP.
        #expect(p.impacts.contains { $0.change == "overlay IP-in-IP → off" })
    }

    @Test func dualStackWithoutConstraintStaysSingleStackAndSaysWhy() throws {
        let p = try Self.dualStack(constraint: "False")
        #expect(!p.impacts.contains { $0.change.hasPrefix("IP families") })
        #expect(p.unmetPreconditions.contains { $0.contains("DualStackNodesMigrationReady") })
    }

    @Test func shootSideDerivesNetworkAndCluster() throws {
        let cluster = try Self.cluster()
        let shoot = try #require(cluster[path: "spec", "shoot"])
        let side = try Plan.Side(shoot: shoot)
        #expect(side.network[path: "metadata", "namespace"]?.stringValue?.hasPrefix("shoot--dev--") == true)
        #expect(side.network[path: "spec", "podCIDR"]?.stringValue == "100.96.0.0/11")
        #expect(side.cluster[path: "spec", "shoot"] == shoot)
        #expect(!(try Plan.make(from: side, to: side, featureGates: .init())).hasChanges)
    }

    @Test func badInputThrows() throws {
        #expect(throws: PlanError.self) { try Self.plan("overlay: {enabled: true}", "ipv4: {pool: bogus}") }
    }

    @Test func diffOfLargeArraysIsLinear() {
        let a: JSON = .array((0..<20000).map { .object(["name": .string("n\($0)"), "v": .int(Int64($0))]) })
        let b: JSON = .array((0..<20000).map { .object(["name": .string("n\($0)"), "v": .int(Int64($0 == 7 ? -1 : $0))]) })
        var out: [Plan.FieldChange] = []
        Plan.diffValues(a, b, path: "x", into: &out)
        #expect(out == [Plan.FieldChange(path: "x[name=n7].v", old: .int(7), new: .int(-1))])
    }
}
