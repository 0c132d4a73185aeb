import Foundation
import KubeCore
import Testing

@testable import CalicoManifests

@Suite("support: sha256, scripts, image vector, seed objects")
struct SupportTests {
    @Test func sha256KnownVectors() {
        #expect(SHA256Digest.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = String(repeating: "a", count: 1000)
        #expect(SHA256Digest.hex(long) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    /// Fingerprints of the helper scripts (length, line feeds, sha256), so an accidental edit is caught:
    /// the scripts are part of calico-node's pod template, and any change rolls it on every node.
    @Test(arguments: [
        (Scripts.cleanupRoutes, 83, 1, "e66052be935ed8e3a7e9020f09f50084940003983eb70ff72b75bff0eb70c3a2"),
        (Scripts.logMTUIssues, 955, 18, "31088c33ce31db2ba0988ae4bca6eb523bc9b8edea23f0ab50d6cdde222561b7"),
        (Scripts.addSNATRuleToUpstreamDNS, 1241, 21, "3259debd47fad18f391229323ef13014f092a7f681d5f668aab1f1de2c07eddb"),
        (Scripts.networkUnavailableConditionEnsurer, 294, 8, "cb37596b4312bb67080012a881363b4cca8ec1f00316637adaf7ff1c25cafb56"),
    ])
    func scriptFingerprints(_ script: String, _ length: Int, _ lineFeeds: Int, _ sha: String) {
        #expect(script.count == length)
        #expect(script.filter { $0 == "\n" }.count == lineFeeds)
        #expect(SHA256Digest.hex(script) == sha)
    }

    @Test func autoscalerConfigMapsAreValidJSON() throws {
        for text in [
            ClusterProportionalAutoscalers.nodeAutoscalerConfig, ClusterProportionalAutoscalers.typhaLadder,
            ClusterProportionalAutoscalers.typhaAutoscalerConfig,
        ] {
            #expect(throws: Never.self) { try JSON.parse(string: text) }
            #expect(!text.hasSuffix("\n"))
        }
    }

    @Test func cniConfigIsJSONAfterSubstitution() throws {
        var v = CalicoValues()
        v.ipam = .init(type: "host-local", subnet: "usePodCidr", ranges: [], assignIPv4: true, assignIPv6: false)
        let text = CNIConfig.networkConfig(v).replacingOccurrences(of: "__CNI_MTU__", with: "1440")
        let json = try JSON.parse(string: text)
        #expect(json[path: "plugins"]?[0]?["ipam"] == ["type": "host-local", "subnet": "usePodCidr", "assign_ipv4": "true", "assign_ipv6": "false"])
    }

    @Test func imageVectorDefaultsAndOverwrite() throws {
        let v = ImageVector.default
        #expect(try v.reference("calico-node") == "quay.io/calico/node:v3.31.6")
        #expect(try v.reference("calico-cpa") == "registry.k8s.io/cpa/cluster-proportional-autoscaler:v1.10.3")
        #expect(try v.reference("cni-plugins").hasPrefix("europe-docker.pkg.dev/gardener-project/releases/gardener/extensions/cni-plugins:v"))
        for name in ImageVector.chartImageNames { #expect(throws: Never.self) { try v.reference(name) } }
        let over = try v.overwritten(
            with: """
                images:
                - name: calico-node
                  repository: registry.example/calico/node
                  tag: "sha256:0123456789abcdef"
                - name: calico-typha
                  repository: quay.io/calico/typha
                  tag: v9.9.9
                  targetVersion: ">= 1.33"
                """)
        #expect(try over.reference("calico-node") == "registry.example/calico/node@sha256:0123456789abcdef")
        #expect(try over.reference("calico-typha", kubernetesVersion: "1.31.4") == "quay.io/calico/typha:v3.31.6")
        // The constrained entry has its own key, so it is appended; it wins where its constraint matches.
        #expect(try over.reference("calico-typha", kubernetesVersion: "1.33.2") == "quay.io/calico/typha:v9.9.9")
        #expect(throws: ImageVectorError.self) { try v.reference("nope") }
        #expect(throws: ImageVectorError.self) { try v.overwritten(with: "images: 3") }
    }

    @Test func seedObjects() throws {
        let objects = SeedMonitoring.objects(namespace: "shoot--a--b")
        #expect(
            objects.map { $0[path: "metadata", "name"]?.stringValue ?? "" } == [
                "calico-dashboards", "shoot-calico-felix", "shoot-calico-typha", "shoot-calico-bird",
            ])
        #expect(objects.allSatisfy { $0[path: "metadata", "namespace"] == "shoot--a--b" })
        let data = try #require(objects[0]["data"]?.objectValue)
        #expect(Array(data.keys) == SeedMonitoring.dashboardKeys)
        for (key, value) in data {
            let dashboard = try JSON.parse(string: value.stringValue ?? "")
            #expect(dashboard["uid"]?.stringValue?.isEmpty == false, "\(key)")
            #expect(value.stringValue?.hasSuffix("\n") == false)
        }
        let bird = objects[3]
        #expect(
            bird[path: "spec", "metricRelabelings"]?[0]?["regex"]
                == "bird_protocol_up.*|bird_protocol_prefix_export_count|bird_protocol_prefix_import_count")
        #expect(bird[path: "spec", "relabelings"]?.arrayValue?.count == 6)
    }

    @Test func crdTable() {
        #expect(CalicoCRDs.all.count == 24)
        let names = Set(CalicoCRDs.all.compactMap { $0[path: "metadata", "name"]?.stringValue })
        #expect(names.count == 24)
        #expect(names.contains("stagedkubernetesnetworkpolicies.crd.projectcalico.org"))
        let anp = CalicoCRDs.all.first { $0[path: "spec", "names", "kind"] == "AdminNetworkPolicy" }
        #expect(anp?[path: "spec", "names", "shortNames"] == ["anp"])
        #expect(anp?[path: "spec", "versions"]?[0]?["name"] == "v1alpha1")
    }

}

@Suite("managed resource secret")
struct ManagedResourceTests {
    @Test func secretLayout() throws {
        let m = try Scenario(providerConfig: ["overlay": ["enabled": true]]).render()
        let data = ManagedResourceSecretData(manifests: m)
        #expect(Array(data.data.keys) == ["config.yaml"])
        #expect(data.secretName.hasPrefix("managedresource-extension-networking-calico-config-"))
        #expect(data.secretName.count == "managedresource-extension-networking-calico-config-".count + 8)
        let text = String(decoding: data.data["config.yaml"] ?? [], as: UTF8.self)
        #expect(text.hasPrefix("\n---\n# Source: calico/templates/"))
        // Helm install order: NetworkPolicy first, CRDs before the DaemonSet, IPPool last.
        let kinds = try JSON.parseYAMLDocuments(text).compactMap { $0["kind"]?.stringValue }
        #expect(kinds.first == "NetworkPolicy")
        #expect(kinds.last == "VerticalPodAutoscaler" || kinds.last == "IPPool")
        #expect((kinds.firstIndex(of: "CustomResourceDefinition") ?? 99) < (kinds.firstIndex(of: "DaemonSet") ?? 0))
        #expect(Set(kinds).count == Set(m.objects.compactMap { $0["kind"]?.stringValue }).count)
        let secret = data.secret(namespace: "shoot--a--b")
        let encoded = try #require(secret[path: "data", "config.yaml"]?.stringValue)
        #expect(Data(base64Encoded: encoded) == Data(data.data["config.yaml"] ?? []))
        #expect(secret["immutable"] == true)
        let ref = ManagedResourceSecretData.referenceAnnotation(secretName: data.secretName)
        #expect(ref.key.hasPrefix("reference.resources.gardener.cloud/secret-") && ref.value == data.secretName)
        // Same input, same name; different input, different name.
        #expect(
            ManagedResourceSecretData(manifests: try Scenario(providerConfig: ["overlay": ["enabled": true]]).render()).secretName == data.secretName)
        #expect(ManagedResourceSecretData(manifests: try Scenario().render()).secretName != data.secretName)
    }
}
