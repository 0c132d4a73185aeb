import CalicoManifests
import Foundation
import KubeCore
import TestSupport
import Testing

/// `IMAGEVECTOR_OVERWRITE` with Gardener's semantics, using overwrite documents as landscapes
/// write them: a mirror registry, digest pinning with `ref`, version-constrained entries.
struct ImageVectorOverwriteTests {
    let base = ImageVector.default

    @Test func mirrorRegistryKeepsTagsAndLabels() throws {
        let base = try ImageVector(
            images: ImageVector.parse(
                yaml: """
                    images:
                    - name: calico-node
                      sourceRepository: github.com/projectcalico/calico
                      repository: quay.io/calico/node
                      tag: v3.31.6
                      labels:
                      - name: gardener.cloud/cve-categorisation
                        value: {network_exposure: protected}
                    """), extensionVersion: "v1.60.0-dev")
        let over = try base.overwritten(
            with: """
                images:
                - name: calico-node
                  repository: registry.mirror.example/quay.io/calico/node
                """)
        #expect(try over.reference("calico-node", kubernetesVersion: "1.32.0") == "registry.mirror.example/quay.io/calico/node:v3.31.6")
        let entry = try over.find("calico-node")
        #expect(entry.labels?[0]?["name"]?.stringValue == "gardener.cloud/cve-categorisation")
        #expect(entry.sourceRepository == "github.com/projectcalico/calico")
        #expect(over.images.count == 1, "same key: merged in place")
    }

    @Test func digestPinningWithRefWinsOverRepositoryAndTag() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let over = try base.overwritten(
            with: """
                images:
                - name: calico-node
                  ref: registry.mirror.example/calico/node@\(digest)
                - name: cni-plugins
                  ref: registry.mirror.example/gardener/cni-plugins:v1.60.0-pinned
                - name: calico-typha
                  repository: registry.mirror.example/calico/typha
                  tag: "\(digest)"
                """)
        #expect(try over.reference("calico-node", kubernetesVersion: "1.32.0") == "registry.mirror.example/calico/node@\(digest)")
        let node = try over.find("calico-node")
        #expect(node.repository == nil && node.tag == nil, "ref clears repository and tag")
        // ref is verbatim: the extension's version is not appended to cni-plugins.
        #expect(try over.reference("cni-plugins", kubernetesVersion: "1.32.0") == "registry.mirror.example/gardener/cni-plugins:v1.60.0-pinned")
        #expect(try over.reference("calico-typha", kubernetesVersion: "1.32.0") == "registry.mirror.example/calico/typha@\(digest)")

        // A later repository in an overwrite replaces an earlier ref (Gardener's merge).
        let again = try over.overwritten(with: "images:\n- name: calico-node\n  repository: quay.io/calico/node\n")
        #expect(try again.find("calico-node").ref == nil)
    }

    @Test func versionConstrainedEntries() throws {
        let over = try base.overwritten(
            with: """
                images:
                - name: calico-node
                  repository: registry.mirror.example/calico/node
                  tag: v3.30.9
                  targetVersion: "< 1.33"
                - name: calico-node
                  repository: registry.mirror.example/calico/node
                  tag: v3.31.6-patched
                  targetVersion: "1.33.x"
                - name: calico-node
                  repository: registry.mirror.example/calico/node
                  tag: v3.31.6-hotfix
                  targetVersion: "1.33.4"
                - name: calico-typha
                  repository: registry.mirror.example/calico/typha
                  tag: v3.31.6
                  runtimeVersion: ">= 1.30, < 1.32 || >= 1.34"
                """)
        #expect(try over.reference("calico-node", kubernetesVersion: "1.31.7") == "registry.mirror.example/calico/node:v3.30.9")
        #expect(try over.reference("calico-node", kubernetesVersion: "1.33.1") == "registry.mirror.example/calico/node:v3.31.6-patched")
        // An exact constraint beats a range (Gardener scores it higher).
        #expect(try over.reference("calico-node", kubernetesVersion: "1.33.4") == "registry.mirror.example/calico/node:v3.31.6-hotfix")
        // Outside every constraint: the unconstrained built-in entry.
        #expect(try over.reference("calico-node", kubernetesVersion: "1.34.0") == "quay.io/calico/node:v3.31.6")
        #expect(try over.reference("calico-typha", kubernetesVersion: "1.31.0") == "registry.mirror.example/calico/typha:v3.31.6")
        #expect(try over.reference("calico-typha", kubernetesVersion: "1.32.0") == "quay.io/calico/typha:v3.31.6")
        #expect(try over.reference("calico-typha", kubernetesVersion: "1.35.2") == "registry.mirror.example/calico/typha:v3.31.6")
        // Same name and constraint as an earlier overwrite entry: merged into it, not added.
        let merged = try over.overwritten(with: "images:\n- name: calico-node\n  repository: other.example/node\n  targetVersion: \"< 1.33\"\n")
        #expect(merged.images.count == over.images.count)
        #expect(try merged.reference("calico-node", kubernetesVersion: "1.31.7") == "other.example/node:v3.30.9")
    }

    @Test func architectures() throws {
        let over = try base.overwritten(
            with: """
                images:
                - name: bird-exporter
                  repository: registry.mirror.example/bird_exporter
                  tag: v1.5.0-arm
                  architectures: [arm64]
                - name: multus-cni
                  repository: registry.mirror.example/multus-cni
                  tag: v4.3.0-amd64
                  architectures: [amd64]
                """)
        // The shoot's images are looked up for amd64, as the Go extension does: arm64-only entries
        // never match, a single-architecture amd64 entry beats the multi-arch built-in one.
        #expect(try over.reference("bird-exporter", kubernetesVersion: "1.32.0") == "ghcr.io/czerwonk/bird_exporter:v1.5.0")
        #expect(try over.reference("multus-cni", kubernetesVersion: "1.32.0") == "registry.mirror.example/multus-cni:v4.3.0-amd64")
        #expect(try over.find("bird-exporter").architectures == nil)
        #expect(over.images.contains { $0.architectures == ["arm64"] })
    }

    @Test func untaggedEntriesFollowGardenersRule() throws {
        let vector = ImageVector(
            images: [
                ImageSource(name: "cni-plugins", repository: "r.example/cni-plugins"),
                ImageSource(name: "calico-cpa", repository: "r.example/cpa"),
            ], extensionVersion: "v9.8.7")
        #expect(try vector.reference("cni-plugins", kubernetesVersion: "1.32.0") == "r.example/cni-plugins:v9.8.7")
        #expect(try vector.reference("calico-cpa", kubernetesVersion: "1.32.0") == "r.example/cpa:v1.32.0")
    }

    @Test func unknownKeysWarnAndInvalidEntriesFail() throws {
        let over = try base.overwritten(
            with: """
                images:
                - name: calico-node
                  repository: registry.mirror.example/calico/node
                  tagg: v3.31.7
                imagez: []
                """)
        #expect(over.warnings.count == 2)
        #expect(over.warnings.contains { $0.contains("\"tagg\"") && $0.contains("images[0]") })
        #expect(over.warnings.contains { $0.contains("\"imagez\"") })
        #expect(base.warnings.isEmpty)

        func failure(_ yaml: String) -> String {
            do {
                _ = try base.overwritten(with: yaml)
                return ""
            } catch { return "\(error)" }
        }
        #expect(failure("images:\n- name: calico-node\n  tag: v1\n").contains("either image ref or repository+tag is required"))
        #expect(failure("images:\n- name: calico-node\n  ref: a/b:c\n  repository: a/b\n").contains("cannot specify repository when ref is set"))
        #expect(failure("images:\n- name: calico-node\n  ref: a/b:c\n  tag: c\n").contains("cannot specify tag when ref is set"))
        #expect(failure("images:\n- name: calico-node\n  repository: a\n  targetVersion: \"> banana\"\n").contains("targetVersion"))
        #expect(failure("images:\n- repository: a\n").contains("images[0].name"))
        #expect(failure("images:\n- name: calico-node\n  repository: a\n  architectures: amd64\n").contains("architectures"))
    }

    @Test func fromEnvironmentReadsTheFileAndNamesItInErrors() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("images_overwrite-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "images:\n- name: calico-cni\n  repository: registry.mirror.example/calico/cni\n".write(toFile: path, atomically: true, encoding: .utf8)
        let vector = try ImageVector.fromEnvironment(["IMAGEVECTOR_OVERWRITE": path])
        #expect(try vector.reference("calico-cni", kubernetesVersion: "1.32.0") == "registry.mirror.example/calico/cni:v3.31.6")
        try "images:\n- name: calico-cni\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try ImageVector.fromEnvironment(["IMAGEVECTOR_OVERWRITE": path])
        } throws: { "\($0)".contains(path) }
    }
}
