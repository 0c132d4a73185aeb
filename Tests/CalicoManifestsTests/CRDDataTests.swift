import CalicoAPI
import Foundation
import KubeCore
import TestSupport
import Testing

@testable import CalicoManifests

/// The bundled Calico / network-policy CRDs (`Resources/crds.json`): real structural schemas,
/// no prose, cached as YAML bytes, and in step with `hack/generate-crds.py`.
@Suite("Calico CRD data file")
struct CRDDataTests {
    @Test("the data file holds the 24 CRDs, each with a structural schema")
    func structuralSchemas() throws {
        let crds = try CalicoCRDs.loadBundled()
        #expect(crds.count == 24)
        let names = crds.compactMap { $0[path: "metadata", "name"]?.stringValue }
        #expect(Set(names).count == 24)
        #expect(names == names.sorted())
        for crd in crds {
            let name = crd[path: "metadata", "name"]?.stringValue ?? "?"
            let group = crd[path: "spec", "group"]?.stringValue
            #expect(group == "crd.projectcalico.org" || group == "policy.networking.k8s.io", "\(name)")
            #expect(crd[path: "metadata", "labels", "gardener.cloud/role"] == "system-component", "\(name)")
            let versions = try #require(crd[path: "spec", "versions"]?.arrayValue, "\(name)")
            #expect(versions.count == 1, "\(name)")
            let schema = try #require(versions.first?[path: "schema", "openAPIV3Schema"], "\(name)")
            #expect(schema["type"] == "object", "\(name)")
            #expect(schema["x-kubernetes-preserve-unknown-fields"] == nil, "\(name) has an open schema")
            #expect(schema[path: "properties", "spec"] != nil || schema[path: "properties", "status"] != nil, "\(name)")
        }
        let felix = try #require(crds.first { $0[path: "metadata", "name"] == "felixconfigurations.crd.projectcalico.org" })
        let felixSpec = try #require(felix[path: "spec", "versions"]?[0]?[path: "schema", "openAPIV3Schema", "properties", "spec"])
        #expect(felixSpec[path: "properties", "bpfEnabled", "type"] == "boolean")
        #expect(felixSpec[path: "properties", "logSeverityScreen", "type"] == "string")
        #expect(felixSpec[path: "properties", "bpfLogLevel", "pattern"]?.stringValue?.isEmpty == false)
        let anp = try #require(crds.first { $0[path: "spec", "names", "kind"] == "AdminNetworkPolicy" })
        let columns = anp[path: "spec", "versions"]?[0]?["additionalPrinterColumns"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(columns == ["Priority", "Age"])
        #expect(anp[path: "spec", "versions"]?[0]?[path: "subresources", "status"] == [:])
    }

    @Test("descriptions are left out: no string-valued `description` anywhere")
    func noProse() throws {
        func prosePaths(_ node: JSON, _ path: String) -> [String] {
            switch node {
            case .object(let object):
                return object.flatMap { key, value in
                    key == "description" && value.stringValue != nil ? [path + "." + key] : prosePaths(value, path + "." + key)
                }
            case .array(let items): return items.flatMap { prosePaths($0, path + "[]") }
            default: return []
            }
        }
        for crd in try CalicoCRDs.loadBundled() {
            let name = crd[path: "metadata", "name"]?.stringValue ?? "?"
            #expect(prosePaths(crd, name).isEmpty)
        }
    }

    @Test("a data file without a `crds` list or with a non-CRD entry is rejected")
    func rejectsMalformedData() {
        #expect(throws: CalicoCRDs.CRDDataError.self) { try CalicoCRDs.parse(Array(#"{"items":[]}"#.utf8)) }
        #expect(throws: CalicoCRDs.CRDDataError.self) { try CalicoCRDs.parse(Array(#"{"crds":[{"kind":"ConfigMap"}]}"#.utf8)) }
    }

    @Test("every render reuses the CRDs' YAML serialized once per process")
    func renderedCRDsAreCachedBytes() throws {
        func storage(_ bytes: [UInt8]?) -> UnsafeRawPointer? { bytes?.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        var cached: [String: UnsafeRawPointer] = [:]
        for entry in CalicoChart.staticCRDs { cached[entry.sortKey.name] = storage(entry.yaml) }
        #expect(cached.count == 24)
        for c in try GoldenCase.all() where !c.isErrorCase {
            let crds = try c.render().entries.filter {
                $0.sortKey.kind == "CustomResourceDefinition" && !$0.sortKey.name.hasSuffix(".k8s.cni.cncf.io")
            }
            #expect(crds.count == 24, "\(c.name)")
            for entry in crds {
                // The very buffer built at first use, not a fresh serialization.
                let buffer = try #require(storage(entry.yaml), "\(c.name): \(entry.sortKey.name) has no cached YAML")
                #expect(buffer == cached[entry.sortKey.name], "\(c.name): \(entry.sortKey.name)")
            }
        }
    }

    @Test("the committed data file equals the generator's output from the golden cases")
    func generatorOutputIsCommitted() throws {
        let script = SharedFixtures.packageRoot.appendingPathComponent("hack/generate-crds.py").path
        let golden = try SharedFixtures.sharedDirectory().appendingPathComponent("golden").path
        let (status, output) = try run(testPython(), [script, "--check", "--golden", golden])
        #expect(status == 0, "hack/generate-crds.py --check:\n\(output)")
    }
}
