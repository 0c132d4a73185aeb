import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import Testing

/// The OpenAPI v2 and v3 documents: their shape, the built-in and CRD schemas, caching, and the
/// strict field validation of built-in kinds that kubectl relies on.
@Suite struct OpenAPITests {
    /// Every `$ref` of a document, with the prefix it must resolve under.
    func refs(_ value: JSON, into out: inout [String]) {
        switch value {
        case .object(let o):
            if let r = o["$ref"]?.stringValue { out.append(r) }
            for (_, v) in o { refs(v, into: &out) }
        case .array(let a):
            for v in a { refs(v, into: &out) }
        default:
            break
        }
    }

    @Test func v3IndexAndDocumentsCoverEveryServedKind() async throws {
        try await withServer { _, c in
            let index = try await c.get("/openapi/v3").json["paths"]?.objectValue ?? [:]
            let groups = try await c.get("/apis").json["groups"]?.arrayValue ?? []
            var gvs = ["api/v1"]
            for g in groups { for v in g["versions"]?.arrayValue ?? [] { gvs.append("apis/\(v["groupVersion"]?.stringValue ?? "")") } }
            #expect(Set(index.keys) == Set(gvs))
            for gv in gvs {
                guard let url = index[gv]?["serverRelativeURL"]?.stringValue else {
                    Issue.record("no URL for \(gv)")
                    continue
                }
                let doc = try await c.get(url).json
                #expect(doc["openapi"] == "3.0.0")
                let schemas = doc[path: "components", "schemas"]?.objectValue ?? [:]
                // Every reference resolves inside the document.
                var all: [String] = []
                refs(doc, into: &all)
                for r in all {
                    #expect(r.hasPrefix("#/components/schemas/") && schemas[String(r.dropFirst(21))] != nil, "\(gv): dangling \(r)")
                }
                // Every served kind and its list kind have a schema tagged with their GVK.
                let discovery = try await c.get(gv == "api/v1" ? "/api/v1" : "/\(gv)").json
                let tagged = Set(
                    schemas.values.flatMap { $0["x-kubernetes-group-version-kind"]?.arrayValue ?? [] }.compactMap { $0["kind"]?.stringValue })
                for r in discovery["resources"]?.arrayValue ?? [] where !(r["name"]?.stringValue ?? "").contains("/") {
                    let kind = r["kind"]?.stringValue ?? ""
                    #expect(tagged.contains(kind) && tagged.contains(kind + "List"), "\(gv): \(kind)")
                }
            }
        }
    }

    @Test func builtinSchemasHaveKubernetesNamesFieldsAndMergeKeys() async throws {
        try await withServer(crd: false) { _, c in
            let core = try await c.get("/openapi/v3/api/v1").json
            let schemas = core[path: "components", "schemas"] ?? .null
            let secret = schemas["io.k8s.api.core.v1.Secret"] ?? .null
            #expect(secret["x-kubernetes-group-version-kind"] == [["group": "", "kind": "Secret", "version": "v1"]])
            #expect(secret[path: "properties", "data", "additionalProperties", "format"] == "byte")
            #expect(
                secret[path: "properties", "metadata", "allOf"] == [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]])
            let meta = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]?["properties"]?.objectValue ?? [:]
            for f in ["annotations", "creationTimestamp", "finalizers", "labels", "managedFields", "name", "namespace", "ownerReferences", "uid"] {
                #expect(meta[f] != nil, "ObjectMeta.\(f)")
            }
            #expect(schemas[path: "io.k8s.apimachinery.pkg.apis.meta.v1.Time", "format"] == "date-time")
            let secretPatch = core[path: "paths", "/api/v1/namespaces/{namespace}/secrets/{name}", "patch"] ?? .null
            let params = Set(secretPatch["parameters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            #expect(params.isSuperset(of: ["dryRun", "fieldManager", "fieldValidation", "force"]))
            #expect(secretPatch[path: "requestBody", "content", "application/strategic-merge-patch+json"] != nil)

            let apps = try await c.get("/openapi/v3/apis/apps/v1").json[path: "components", "schemas"] ?? .null
            let pod = apps[path: "io.k8s.api.core.v1.PodSpec", "properties"] ?? .null
            #expect(pod["containers"]?["x-kubernetes-patch-merge-key"] == "name")
            #expect(pod["containers"]?["x-kubernetes-patch-strategy"] == "merge")
            #expect(pod["volumes"]?["x-kubernetes-patch-strategy"] == "merge,retainKeys")
            let ports = apps[path: "io.k8s.api.core.v1.Container", "properties", "ports"] ?? .null
            #expect(ports["x-kubernetes-list-type"] == "map" && ports["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"])
            #expect(
                apps[path: "io.k8s.api.apps.v1.DeploymentList", "properties", "items", "items", "$ref"]
                    == "#/components/schemas/io.k8s.api.apps.v1.Deployment")

            // v2: the same definitions, referenced as v2 does.
            let v2 = try await c.get("/openapi/v2", accept: "application/json")
            #expect(v2.status == 200 && v2.header("Etag")?.hasPrefix("\"") == true)
            let defs = v2.json["definitions"] ?? .null
            #expect(
                defs[path: "io.k8s.api.core.v1.Secret", "properties", "metadata", "$ref"]
                    == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            #expect(defs[path: "io.k8s.apimachinery.pkg.util.intstr.IntOrString", "type"] == "string")
            var all: [String] = []
            refs(v2.json, into: &all)
            for r in all { #expect(r.hasPrefix("#/definitions/") && defs[String(r.dropFirst(14))] != nil, "dangling \(r)") }
            // kubectl asks for protobuf only: declined, so that it goes on without v2.
            #expect(try await c.get("/openapi/v2", accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf").status == 406)
        }
    }

    @Test func crdSchemasAppearAndChangesGiveNewHashes() async throws {
        try await withServer { server, c in
            let index = try await c.get("/openapi/v3").json
            let url = index[path: "paths", "apis/demo.example.com/v1", "serverRelativeURL"]?.stringValue ?? ""
            let first = try await c.get(url)
            #expect(first.header("Cache-Control") == "public, immutable" && first.header("Expires") != nil)
            let schemas = first.json[path: "components", "schemas"] ?? .null
            let widget = schemas["com.example.demo.v1.Widget"] ?? .null
            #expect(widget["x-kubernetes-group-version-kind"] == [["group": "demo.example.com", "kind": "Widget", "version": "v1"]])
            #expect(
                widget[path: "properties", "metadata", "allOf"]?[0]?["$ref"] == "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
            )
            #expect(schemas[path: "com.example.demo.v1.WidgetList", "x-kubernetes-group-version-kind"]?[0]?["kind"] == "WidgetList")
            let etag = first.header("Etag") ?? ""
            #expect(try await c.request("GET", url, headers: [("If-None-Match", etag)]).status == 304)
            // Fetched again and again: built once.
            let builds = server.openAPIDocumentBuilds
            for _ in 0..<3 { _ = try await c.get("/openapi/v3") }
            _ = try await c.get("/openapi/v2")
            #expect(server.openAPIDocumentBuilds == builds)

            // A changed schema and a new served version: new hashes, the old one redirected.
            var crd = try await c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.demo.example.com").json
            var v1 = crd[path: "spec", "versions"]?[0] ?? .null
            v1["storage"] = false
            v1["schema"] = [
                "openAPIV3Schema": [
                    "type": "object",
                    "properties": ["spec": ["type": "object", "properties": ["size": ["type": "integer", "description": "How big."]]]],
                ]
            ]
            var v2 = v1
            v2["name"] = "v2"
            v2["storage"] = true
            crd[path: "spec", "versions"] = [v1, v2]
            #expect(try await c.put("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.demo.example.com", crd).status == 200)
            let after = try await c.get("/openapi/v3").json["paths"] ?? .null
            #expect(after[path: "apis/demo.example.com/v1", "serverRelativeURL"]?.stringValue != url)
            let v2URL = after[path: "apis/demo.example.com/v2", "serverRelativeURL"]?.stringValue ?? ""
            let v2Doc = try await c.get(v2URL).json
            #expect(
                v2Doc[path: "components", "schemas", "com.example.demo.v2.Widget", "properties", "spec", "properties", "size", "type"] == "integer")
            #expect(server.openAPIDocumentBuilds == builds + 1)
            let stale = try await c.get(url)
            #expect(stale.status == 301 && stale.header("Location")?.hasPrefix("/openapi/v3/apis/demo.example.com/v1?hash=") == true)
            let v2Swagger = try await c.get("/openapi/v2").json
            #expect(v2Swagger[path: "definitions", "com.example.demo.v2.Widget", "properties", "spec", "properties", "size", "type"] == "integer")
        }
    }

    @Test func unknownFieldsOfBuiltinKindsFollowFieldValidation() async throws {
        try await withServer(crd: false) { _, c in
            let deployment: JSON = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d", "bogusMeta": 1],
                "spec": [
                    "bogus": true, "selector": ["matchLabels": ["app": "a"]],
                    "template": [
                        "metadata": ["labels": ["app": "a"]],
                        "spec": ["containers": [["name": "c", "image": "i", "bogus2": "x", "resources": ["limits": ["cpu": "1"]]]]],
                    ],
                ],
            ]
            let base = "/apis/apps/v1/namespaces/default/deployments"
            let strict = try await c.post(base + "?fieldValidation=Strict", deployment)
            #expect(strict.status == 400)
            #expect(
                strict.json["message"]?.stringValue
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"metadata.bogusMeta\", "
                    + "unknown field \"spec.bogus\", unknown field \"spec.template.spec.containers[0].bogus2\"")
            // Warn (also the default): created, the fields dropped, one warning each.
            let warned = try await c.post(base, deployment)
            #expect(warned.status == 201)
            let warnings = warned.headers.filter { $0.0 == "Warning" }.map(\.1)
            #expect(warnings.contains("299 - \"unknown field \\\"spec.bogus\\\"\""))
            #expect(warnings.count == 3)
            let stored = try await c.get(base + "/d").json
            #expect(stored[path: "spec", "bogus"] == nil && stored[path: "metadata", "bogusMeta"] == nil)
            let container = stored[path: "spec", "template", "spec", "containers"]?[0] ?? .null
            #expect(container["bogus2"] == nil && container[path: "resources", "limits", "cpu"] == "1")
            // Ignore: dropped without a warning; patches are checked on the patched object.
            let ignored = try await c.patch(base + "/d?fieldValidation=Ignore", ["spec": ["other": 1]])
            #expect(ignored.status == 200 && !ignored.headers.contains { $0.0 == "Warning" })
            #expect(try await c.get(base + "/d").json[path: "spec", "other"] == nil)
            let patchStrict = try await c.patch(base + "/d?fieldValidation=Strict", ["spec": ["other": 1]])
            #expect(patchStrict.status == 400)
            // Maps and free-form values are not fields.
            let cm: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "m", "labels": ["any-key": "v"]], "data": ["k": "v"]]
            #expect(try await c.post("/api/v1/namespaces/default/configmaps?fieldValidation=Strict", cm).status == 201)
        }
    }
}
