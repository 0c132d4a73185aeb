import Foundation
import KubeCore

/// Discovery and version documents: what kubectl reads before its first request (OpenAPI: see OpenAPIService).
enum Discovery {
    static func version() -> JSON {
        [
            "major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33", "minCompatibilityMajor": "1",
            "minCompatibilityMinor": "32", "gitVersion": "v1.33.0", "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-04-23T00:00:00Z", "goVersion": "go1.24.2", "compiler": "gc",
            "platform": "linux/amd64",
        ]
    }

    /// Kubernetes version priority: GA > beta > alpha, higher numbers first.
    static func versionPriority(_ v: String) -> (Int, Int, Int) {
        let b = Array(v)
        guard b.first == "v" else { return (0, 0, 0) }
        var i = 1
        var major = ""
        while i < b.count, b[i].isNumber {
            major.append(b[i])
            i += 1
        }
        guard let m = Int(major) else { return (0, 0, 0) }
        if i == b.count { return (3, m, 0) }
        let rest = String(b[i...])
        for (prefix, rank) in [("beta", 2), ("alpha", 1)] where rest.hasPrefix(prefix) {
            if let n = Int(rest.dropFirst(prefix.count)) { return (rank, m, n) }
        }
        return (0, 0, 0)
    }

    static func sortedVersions(_ versions: [String]) -> [String] {
        Array(Set(versions)).sorted { a, b in
            let pa = versionPriority(a)
            let pb = versionPriority(b)
            if pa.0 != pb.0 { return pa.0 > pb.0 }
            if pa.1 != pb.1 { return pa.1 > pb.1 }
            if pa.2 != pb.2 { return pa.2 > pb.2 }
            return a < b
        }
    }

    static func apiVersions(hostPort: String) -> JSON {
        ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(hostPort)]]]
    }

    static func groupVersions(_ resources: [ResourceInfo]) -> [(group: String, versions: [String])] {
        var byGroup: [String: [String]] = [:]
        for r in resources where !r.group.isEmpty { byGroup[r.group, default: []].append(r.version) }
        return byGroup.keys.sorted().map { ($0, sortedVersions(byGroup[$0] ?? [])) }
    }

    static func apiGroup(_ group: String, _ versions: [String]) -> JSON {
        let vs: [JSON] = versions.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }
        return ["name": .string(group), "versions": .array(vs), "preferredVersion": vs.first ?? .null]
    }

    static func apiGroupList(_ resources: [ResourceInfo]) -> JSON {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groupVersions(resources).map { apiGroup($0.group, $0.versions) })]
    }

    static let allVerbs: JSON = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    static func resourceList(group: String, version: String, _ resources: [ResourceInfo]) -> JSON {
        var entries: [JSON] = []
        for r in resources.filter({ $0.group == group && $0.version == version }).sorted(by: { $0.plural < $1.plural }) {
            var e: JSON = [
                "name": .string(r.plural), "singularName": .string(r.singular), "namespaced": .bool(r.namespaced),
                "kind": .string(r.kind), "verbs": r.createOnly ? ["create"] : allVerbs,
            ]
            if !r.shortNames.isEmpty { e["shortNames"] = .array(r.shortNames.map(JSON.string)) }
            if !r.categories.isEmpty { e["categories"] = .array(r.categories.map(JSON.string)) }
            entries.append(e)
            entries += AuthResources.subresourceEntries(r)
            if r.hasStatus {
                entries.append([
                    "name": .string("\(r.plural)/status"), "singularName": "", "namespaced": .bool(r.namespaced),
                    "kind": .string(r.kind), "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .array(entries),
        ]
    }
}
