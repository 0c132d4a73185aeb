import CalicoAPI
import KubeCore
import Testing

@testable import CalicoManifests

/// The render hot path copies pre-serialized YAML for static objects; these checks make sure
/// the copies are exactly what the single emitter (`KubeCore.YAMLWriter`) writes for them.
@Suite("YAML byte caches")
struct YAMLCacheTests {
    static var allStaticEntries: [ManifestEntry] {
        CalicoChart.staticCRDs + CalicoChart.staticRBAC + CalicoChart.staticKubeControllers + CalicoChart.staticTypha
            + CalicoChart.staticMultus + CalicoChart.staticNodeCPVA + CalicoChart.staticTyphaCPHA + CalicoChart.staticTyphaCPVA
            + [CalicoChart.staticKubeControllersVPA]
    }

    @Test("every cached static document equals a fresh emission of its object")
    func cachedDocumentsMatchTheEmitter() throws {
        let entries = Self.allStaticEntries
        #expect(entries.count > 40)
        for entry in entries {
            let cached = try #require(entry.yaml, "\(entry.sortKey.kind) \(entry.sortKey.name) has no cached YAML")
            #expect(cached == YAMLWriter().documentBytes(entry.json), "\(entry.sortKey.kind) \(entry.sortKey.name)")
        }
    }

    @Test("the rendered stream equals YAMLWriter's stream of the same objects, for every golden case")
    func renderedStreamMatchesTheEmitter() throws {
        for c in try GoldenCase.all() where !c.isErrorCase {
            let manifests = try c.render()
            #expect(manifests.yamlBytes() == YAMLWriter().streamBytes(manifests.objects), "\(c.name)")
            #expect(try JSON.parseYAMLDocuments(manifests.yaml()) == manifests.objects, "\(c.name)")
        }
    }

    @Test("rendered entries are strictly sorted (static and value-dependent lists merged)")
    func entriesAreSorted() throws {
        for c in try GoldenCase.all() where !c.isErrorCase {
            let entries = try c.render().entries
            for i in entries.indices.dropFirst() {
                #expect(entries[i - 1].sortKey < entries[i].sortKey, "\(c.name): \(entries[i - 1].sortKey) / \(entries[i].sortKey)")
            }
        }
        // Every static selection yields a sorted list with no duplicate keys.
        for bits in 0..<64 {
            var selection = CalicoChart.StaticSelection(CalicoValues())
            selection.bits = UInt8(bits)
            let list = CalicoChart.staticEntries(selection)
            #expect(zip(list, list.dropFirst()).allSatisfy { $0.sortKey < $1.sortKey }, "selection \(bits)")
        }
    }

    @Test("objects split into a static part and a value-dependent part keep their content and order")
    func splitBuildersKeepTheirObjects() {
        var v = CalicoValues()
        v.images.calicoCPVA = "cpva:v1"
        v.images.calicoCPA = "cpa:v1"
        v.images.multusCNI = "multus:v1"
        v.images.cniPlugins = "plugins:v1"
        v.multusInstallCNIPlugins = true
        let nodeCPVA = ClusterProportionalAutoscalers.nodeCPVAObjects(v)
        #expect(nodeCPVA.map { $0["kind"]?.stringValue } == ["ConfigMap", "Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"])
        #expect(nodeCPVA[1] == ClusterProportionalAutoscalers.nodeCPVADeployment(v))
        let cpha = ClusterProportionalAutoscalers.typhaCPHAObjects(v)
        #expect(cpha.count == 7)
        #expect(cpha[1] == ClusterProportionalAutoscalers.typhaCPHADeployment(v))
        let cpva = ClusterProportionalAutoscalers.typhaCPVAObjects(v)
        #expect(cpva.count == 5)
        #expect(cpva[1] == ClusterProportionalAutoscalers.typhaCPVADeployment(v))
        let multus = MultusObjects.build(v)
        #expect(
            multus.map { $0["kind"]?.stringValue } == [
                "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "DaemonSet",
            ])
        #expect(multus.last == MultusObjects.daemonSet(v))
        let initNames = multus.last?[path: "spec", "template", "spec", "initContainers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(initNames == ["install-multus-cni", "install-cni-plugins"])
    }

    @Test("image-only workloads from a template equal a full build, byte for byte")
    func templatedWorkloadsMatchFullBuilds() {
        var v = CalicoValues()
        v.images.calicoCPVA = "eu.gcr.io/x/cpvpa:v0.8.4"
        v.images.calicoCPA = "registry.k8s.io/cpa/cluster-proportional-autoscaler:v1.9.0"
        v.images.calicoKubeControllers = "quay.io/calico/kube-controllers:v3.29.3"
        let writer = YAMLWriter()
        let pairs: [(JSON, JSON)] = [
            (ClusterProportionalAutoscalers.nodeCPVADeployment(v), ClusterProportionalAutoscalers.nodeCPVADeployment(image: v.images.calicoCPVA)),
            (ClusterProportionalAutoscalers.typhaCPHADeployment(v), ClusterProportionalAutoscalers.typhaCPHADeployment(image: v.images.calicoCPA)),
            (ClusterProportionalAutoscalers.typhaCPVADeployment(v), ClusterProportionalAutoscalers.typhaCPVADeployment(image: v.images.calicoCPVA)),
            (KubeControllersDeployment.build(v), KubeControllersDeployment.build(image: v.images.calicoKubeControllers)),
        ]
        for (templated, full) in pairs {
            #expect(writer.documentBytes(templated) == writer.documentBytes(full))
            #expect(templated[path: "spec", "template", "spec", "containers"]?[0]?["image"]?.stringValue?.isEmpty == false)
        }
    }

    @Test("sort keys order by apiVersion, kind, namespace, name like the joined key did")
    func sortKeyOrder() {
        func key(_ a: String, _ k: String, _ ns: String, _ n: String) -> ManifestEntry.SortKey {
            .init(apiVersion: a, kind: k, namespace: ns, name: n)
        }
        #expect(key("apps/v1", "DaemonSet", "kube-system", "x") < key("apps/v1", "Deployment", "", "a"))
        #expect(key("v1", "Service", "a", "z") < key("v1", "Service", "b", "a"))
        #expect(key("v1", "Service", "", "z") < key("v1", "Service", "kube-system", "a"))
        #expect(key("apps/v1", "X", "", "") < key("apps/v1beta1", "A", "", ""))
        #expect(!(key("v1", "A", "b", "c") < key("v1", "A", "b", "c")))
    }

}
