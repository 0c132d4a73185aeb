import CalicoAPI
import KubeCore
import Testing

@testable import CalicoManifests

/// `Plan.impacts` (chart values only, what the admission warnings use) finds exactly the `dataplane` and
/// `outage-risk` impacts of the full `Plan.make`.
@Suite struct PlanImpactsTests {
    static let changes: [(String, String)] = [
        ("overlay: {enabled: true}", "overlay: {enabled: false}"),
        ("overlay: {enabled: false}", "overlay: {enabled: true}"),
        ("ipv4: {pool: ipip, mode: Always}", "ipv4: {pool: vxlan, mode: Always}"),
        ("ebpfDataplane: {enabled: false}", "ebpfDataplane: {enabled: true}"),
        ("backend: bird", "backend: none"),
        ("vethMTU: \"1440\"", "vethMTU: \"1400\""),
        ("typha: {enabled: true}", "typha: {enabled: false}"),
        ("wireguardEncryption: false", "wireguardEncryption: true"),
    ]

    @Test(arguments: changes) func sameAsTheFullPlan(_ change: (String, String)) throws {
        let cluster = try PlanTests.cluster()
        let old = Plan.Side(network: try PlanTests.network(change.0), cluster: cluster)
        let new = Plan.Side(network: try PlanTests.network(change.1), cluster: cluster)
        let full = try Plan.make(from: old, to: new, featureGates: FeatureGates()).impacts.filter { $0.disruption >= .dataplane }
        #expect(try Plan.impacts(from: old, to: new, atLeast: .dataplane, featureGates: FeatureGates()) == full)
        #expect(
            try Plan.impacts(from: old, to: new, atLeast: .outageRisk, featureGates: FeatureGates()) == full.filter { $0.disruption == .outageRisk })
    }
}
