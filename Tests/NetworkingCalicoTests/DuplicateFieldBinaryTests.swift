import Foundation
import TestSupport
import Testing

/// A field given twice in a provider config is rejected by `validate`, `render` and `plan` as the
/// Go extension's strict decoder rejects it (`duplicate field "backend"`, nested fields with their path).
@Suite struct DuplicateFieldBinaryTests {
    static func network(providerConfig: String) -> String {
        #"{"apiVersion":"extensions.gardener.cloud/v1alpha1","kind":"Network","metadata":{"name":"n","namespace":"shoot--foo--bar"},"#
            + #""spec":{"type":"calico","podCIDR":"10.244.0.0/16","serviceCIDR":"10.96.0.0/24","ipFamilies":["IPv4"],"providerConfig":"#
            + providerConfig + "}}"
    }

    @Test func validateNamesEveryDuplicateOnce() throws {
        let config = try PlanBinaryTests.write(#"{"backend":"bird","ipam":{"type":"host-local","type":"host-local"},"backend":"none"}"#, "c.json")
        let network = try PlanBinaryTests.write(Self.network(providerConfig: #"{"backend":"bird","backend":"bird"}"#), "n.json")
        let r = try PlanBinaryTests.run(["validate", config, network])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(
            r.stdout == """
                \(config):1: ipam.type: strict decoding error: duplicate field "ipam.type"
                \(config):1: backend: strict decoding error: duplicate field "backend"
                \(network):1: spec.providerConfig.backend: strict decoding error: duplicate field "backend"

                """)
    }

    @Test func validateNamesAYAMLDuplicateWithItsPath() throws {
        let yaml = """
            apiVersion: extensions.gardener.cloud/v1alpha1
            kind: Network
            metadata: {name: n, namespace: shoot--foo--bar}
            spec:
              type: calico
              podCIDR: 10.244.0.0/16
              serviceCIDR: 10.96.0.0/24
              providerConfig:
                backend: bird
                backend: none
            """
        let file = try PlanBinaryTests.write(yaml, "n.yaml")
        let r = try PlanBinaryTests.run(["validate", file])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout == "\(file): strict decoding error: duplicate field \"spec.providerConfig.backend\" (line 9)\n")
    }

    @Test func renderAndPlanRejectTheDuplicate() throws {
        let cluster = try PlanBinaryTests.golden("ipv4-overlay-enabled/cluster.yaml")
        let good = try PlanBinaryTests.golden("ipv4-overlay-enabled/network.yaml")
        let dup = try PlanBinaryTests.write(Self.network(providerConfig: #"{"overlay":{"enabled":true,"enabled":false}}"#), "dup.json")
        let render = try PlanBinaryTests.run(["render", "--network", dup, "--cluster", cluster])
        #expect(render.status == 1)
        #expect(render.stdout.isEmpty)
        #expect(render.stderr.contains("strict decoding error: duplicate field \"overlay.enabled\""), "\(render.stderr)")
        let plan = try PlanBinaryTests.run(["plan", "--from-network", good, "--network", dup, "--cluster", cluster])
        #expect(plan.status == 1)
        #expect(plan.stderr.contains("new: strict decoding error: duplicate field \"overlay.enabled\""), "\(plan.stderr)")
    }
}
