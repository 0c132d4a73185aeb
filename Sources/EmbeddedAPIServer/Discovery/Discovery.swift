import Foundation
import KubeCore

/// Discovery, version and OpenAPI documents: what kubectl reads before its first request.
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

    // MARK: OpenAPI v3 (minimal documents kubectl accepts)

    static func openAPIIndex(_ resources: [ResourceInfo]) -> JSON {
        var paths: JSONObject = [:]
        let hash = documentHash(resources)
        paths["api/v1"] = ["serverRelativeURL": .string("/openapi/v3/api/v1?hash=\(hash)")]
        for (g, vs) in groupVersions(resources) {
            for v in vs { paths["apis/\(g)/\(v)"] = ["serverRelativeURL": .string("/openapi/v3/apis/\(g)/\(v)?hash=\(hash)")] }
        }
        return ["paths": .object(paths)]
    }

    static func documentHash(_ resources: [ResourceInfo]) -> String {
        var h: UInt64 = 1_469_598_103_934_665_603
        for r in resources.sorted(by: { "\($0.group)/\($0.version)/\($0.plural)" < "\($1.group)/\($1.version)/\($1.plural)" }) {
            for b in "\(r.group)/\(r.version)/\(r.plural)/\(r.kind)/\(r.namespaced);".utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
        }
        return String(h, radix: 16, uppercase: true)
    }

    static func openAPIDocument(group: String, version: String, _ resources: [ResourceInfo]) -> JSON {
        var paths: JSONObject = [:]
        for r in resources where r.group == group && r.version == version {
            let path = r.namespaced ? "\(r.basePath)/namespaces/{namespace}/\(r.plural)/{name}" : "\(r.basePath)/\(r.plural)/{name}"
            let gvk: JSON = ["group": .string(r.group), "version": .string(r.version), "kind": .string(r.kind)]
            let body: JSON = [
                "content": [
                    "application/json-patch+json": ["schema": .emptyObject],
                    "application/merge-patch+json": ["schema": .emptyObject],
                    "application/apply-patch+yaml": ["schema": .emptyObject],
                ]
            ]
            let params: JSON = [
                ["name": "dryRun", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]],
                ["name": "force", "in": "query", "schema": ["type": "boolean"]],
            ]
            paths[path] = [
                "patch": [
                    "operationId": .string("patch\(r.kind)"), "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk, "parameters": params, "requestBody": body,
                    "responses": ["200": ["description": "OK"]],
                ]
            ]
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.33.0"], "paths": .object(paths),
            "components": ["schemas": .emptyObject],
        ]
    }
}
