import KubeCore

/// Builds the OpenAPI v3 documents (one per group-version) and the v2 document from the served
/// resources, the built-in catalogue and the schemas of the stored CRDs.
enum OpenAPIDocuments {
    /// A served resource and, for a custom resource, the CRD defining it.
    struct Served: Sendable {
        var info: ResourceInfo
        var crd: JSON?
    }

    static let objectMetaName = OpenAPIDefinitions.fullName("meta.ObjectMeta")
    static let statusName = OpenAPIDefinitions.fullName("meta.Status")
    static let deleteOptionsName = OpenAPIDefinitions.fullName("meta.DeleteOptions")
    static let patchName = OpenAPIDefinitions.fullName("meta.Patch")

    /// `extensions.gardener.cloud` → `cloud.gardener.extensions`, the prefix kube-apiserver gives
    /// the schemas of a CRD group.
    static func reversedGroup(_ group: String) -> String { group.split(separator: ".").reversed().joined(separator: ".") }

    /// The built-in catalogue plus the schemas (and list kinds) of the served custom resources.
    static func definitions(_ served: [Served]) -> OpenAPIDefinitions {
        var defs = OpenAPIDefinitions.builtin
        for s in served {
            guard let crd = s.crd else { continue }
            let info = s.info
            let version = crd[path: "spec", "versions"]?.arrayValue?.first { $0["name"]?.stringValue == info.version }
            let name = "\(reversedGroup(info.group)).\(info.version).\(info.kind)"
            defs.add(name, customResourceSchema(version?[path: "schema", "openAPIV3Schema"], info))
            defs.addList(group: info.group, version: info.version, kind: info.kind, listKind: info.listKind)
        }
        return defs
    }

    /// A CRD version's schema as kube-apiserver publishes it: apiVersion, kind and metadata (as
    /// ObjectMeta) declared, and the group-version-kind attached.
    static func customResourceSchema(_ schema: JSON?, _ info: ResourceInfo) -> JSON {
        var s = schema?.objectValue ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
        var props = s["properties"]?.objectValue ?? [:]
        props["apiVersion"] = ["type": "string", "description": .string(OpenAPIDefinitions.apiVersionDescription)]
        props["kind"] = ["type": "string", "description": .string(OpenAPIDefinitions.kindDescription)]
        props["metadata"] = OpenAPIDefinitions.refProperty(objectMetaName, description: "Standard object's metadata.")
        s["properties"] = .object(props)
        s["type"] = "object"
        s["x-kubernetes-group-version-kind"] = OpenAPIDefinitions.gvkList(info.group, info.version, info.kind)
        return .object(s)
    }

    // MARK: paths

    /// `CoreV1`, `AppsV1`, `ExtensionsGardenerCloudV1alpha1`: the group-version part of operation IDs.
    static func operationGroup(_ info: ResourceInfo) -> String {
        func cap(_ s: Substring) -> String { s.prefix(1).uppercased() + s.dropFirst() }
        let v = cap(info.version[...])
        if info.group.isEmpty { return "CoreV1" }
        if info.group.hasSuffix(".k8s.io") { return cap(info.group.split(separator: ".")[0]) + v }
        return info.group.split(separator: ".").map(cap).joined() + v
    }

    static let queryParameters: [String: (type: String, description: String)] = [
        "allowWatchBookmarks": ("boolean", "Requests BOOKMARK events in a watch."),
        "continue": ("string", "The continue token of the previous page of a list."),
        "dryRun": ("string", "All: process the request without storing the result."),
        "fieldManager": ("string", "Name of the actor making the change (required for apply)."),
        "fieldSelector": ("string", "Restricts the list by fields."),
        "fieldValidation": ("string", "Ignore, Warn or Strict handling of unknown and duplicate fields."),
        "force": ("boolean", "Apply: take over fields owned by other managers."),
        "gracePeriodSeconds": ("integer", "Seconds before the object is deleted."),
        "ignoreStoreReadErrorWithClusterBreakingPotential": ("boolean", "Delete a corrupt object that cannot be read (unsafe)."),
        "labelSelector": ("string", "Restricts the list by labels."),
        "limit": ("integer", "Maximum number of items of a list page."),
        "orphanDependents": ("boolean", "Deprecated: use propagationPolicy."),
        "pretty": ("string", "Pretty-print the output."),
        "propagationPolicy": ("string", "Orphan, Background or Foreground garbage collection."),
        "resourceVersion": ("string", "Which version of the data the request may be answered from."),
        "resourceVersionMatch": ("string", "How resourceVersion applies to a list."),
        "sendInitialEvents": ("boolean", "Start a watch with the current state as ADDED events."),
        "timeoutSeconds": ("integer", "Timeout of a list or watch."),
        "watch": ("boolean", "Watch for changes instead of listing."),
    ]

    static func parameter(_ name: String, in location: String = "query") -> JSON {
        if location == "path" {
            return [
                "name": .string(name), "in": "path", "required": true, "description": .string("name of the \(name == "name" ? "object" : name)"),
                "schema": ["type": "string", "uniqueItems": true],
            ]
        }
        let p = queryParameters[name] ?? ("string", "")
        return [
            "name": .string(name), "in": "query", "description": .string(p.description),
            "schema": ["type": .string(p.type), "uniqueItems": true],
        ]
    }

    static let listParameters = [
        "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch",
        "sendInitialEvents", "timeoutSeconds", "watch",
    ]
    static let deleteParameters = [
        "dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential", "orphanDependents", "propagationPolicy",
    ]

    static func content(_ schemaName: String, types: [String] = ["application/json", "application/yaml"]) -> JSON {
        var c = JSONObject()
        for t in types { c[t] = ["schema": OpenAPIDefinitions.ref(schemaName)] }
        return .object(c)
    }

    static func operation(
        _ action: String, id: String, description: String, info: ResourceInfo, parameters: [String], body: JSON? = nil,
        responses: [(String, String)]
    ) -> JSON {
        var op: JSONObject = [
            "tags": .array([.string(tag(info))]), "description": .string(description), "operationId": .string(id),
        ]
        if !parameters.isEmpty { op["parameters"] = .array(parameters.map { parameter($0) }) }
        if let body { op["requestBody"] = ["content": body, "required": true] }
        var r = JSONObject()
        for (code, schema) in responses {
            r[code] = ["description": code == "201" ? "Created" : code == "202" ? "Accepted" : "OK", "content": content(schema)]
        }
        r["401"] = ["description": "Unauthorized"]
        op["responses"] = .object(r)
        op["x-kubernetes-action"] = .string(action)
        op["x-kubernetes-group-version-kind"] = ["group": .string(info.group), "kind": .string(info.kind), "version": .string(info.version)]
        return .object(op)
    }

    static func tag(_ info: ResourceInfo) -> String {
        let g = operationGroup(info)
        return info.group.isEmpty ? "core_v1" : g.prefix(1).lowercased() + g.dropFirst().dropLast(info.version.count) + "_\(info.version)"
    }

    /// The paths of one resource (collection, object, status, list across namespaces).
    static func paths(_ info: ResourceInfo, schemaName: String, listName: String, into paths: inout JSONObject) {
        let ns = info.namespaced ? "Namespaced" : ""
        let g = operationGroup(info)
        let k = info.kind
        let collection = info.namespaced ? "\(info.basePath)/namespaces/{namespace}/\(info.plural)" : "\(info.basePath)/\(info.plural)"
        var pathParams: [JSON] = info.namespaced ? [parameter("namespace", in: "path")] : []
        pathParams.append(parameter("pretty"))
        let write = ["dryRun", "fieldManager", "fieldValidation"]
        let objectBody = content(schemaName)
        paths[collection] = [
            "get": operation(
                "list", id: "list\(g)\(ns)\(k)", description: "list or watch objects of kind \(k)", info: info, parameters: listParameters,
                responses: [("200", listName)]),
            "post": operation(
                "post", id: "create\(g)\(ns)\(k)", description: "create a \(k)", info: info, parameters: write, body: objectBody,
                responses: [("200", schemaName), ("201", schemaName), ("202", schemaName)]),
            "delete": operation(
                "deletecollection", id: "delete\(g)Collection\(ns)\(k)", description: "delete collection of \(k)", info: info,
                parameters: deleteParameters + listParameters, body: content(deleteOptionsName), responses: [("200", statusName)]),
            "parameters": .array(pathParams),
        ]
        let itemParams: [JSON] = [parameter("name", in: "path")] + pathParams
        let patchBody = JSON.object(JSONObject(uniqueKeysWithValues: info.patchTypes.map { ($0, ["schema": OpenAPIDefinitions.ref(patchName)]) }))
        paths["\(collection)/{name}"] = [
            "get": operation(
                "get", id: "read\(g)\(ns)\(k)", description: "read the specified \(k)", info: info, parameters: [], responses: [("200", schemaName)]),
            "put": operation(
                "put", id: "replace\(g)\(ns)\(k)", description: "replace the specified \(k)", info: info, parameters: write, body: objectBody,
                responses: [("200", schemaName), ("201", schemaName)]),
            "delete": operation(
                "delete", id: "delete\(g)\(ns)\(k)", description: "delete a \(k)", info: info, parameters: deleteParameters,
                body: content(deleteOptionsName), responses: [("200", statusName), ("202", statusName)]),
            "patch": operation(
                "patch", id: "patch\(g)\(ns)\(k)", description: "partially update the specified \(k)", info: info, parameters: write + ["force"],
                body: patchBody, responses: [("200", schemaName), ("201", schemaName)]),
            "parameters": .array(itemParams),
        ]
        if info.hasStatus {
            paths["\(collection)/{name}/status"] = [
                "get": operation(
                    "get", id: "read\(g)\(ns)\(k)Status", description: "read status of the specified \(k)", info: info, parameters: [],
                    responses: [("200", schemaName)]),
                "put": operation(
                    "put", id: "replace\(g)\(ns)\(k)Status", description: "replace status of the specified \(k)", info: info, parameters: write,
                    body: objectBody, responses: [("200", schemaName), ("201", schemaName)]),
                "patch": operation(
                    "patch", id: "patch\(g)\(ns)\(k)Status", description: "partially update status of the specified \(k)", info: info,
                    parameters: write + ["force"], body: patchBody, responses: [("200", schemaName), ("201", schemaName)]),
                "parameters": .array(itemParams),
            ]
        }
        if info.namespaced {
            paths["\(info.basePath)/\(info.plural)"] = [
                "get": operation(
                    "list", id: "list\(g)\(k)ForAllNamespaces", description: "list or watch objects of kind \(k)", info: info,
                    parameters: listParameters, responses: [("200", listName)]),
                "parameters": [parameter("pretty")],
            ]
        }
    }

    // MARK: documents

    static let info: JSON = ["title": "Kubernetes", "version": "v1.33.0"]

    /// The v3 document of one group-version ("" for the core group).
    static func v3(group: String, version: String, _ served: [Served], _ defs: OpenAPIDefinitions) -> JSON {
        var paths = JSONObject()
        var roots = [statusName, deleteOptionsName, patchName]
        for s in served where s.info.group == group && s.info.version == version {
            guard let name = defs.names[OpenAPIDefinitions.gvkKey(group, version, s.info.kind)],
                let listName = defs.names[OpenAPIDefinitions.gvkKey(group, version, s.info.listKind)]
            else { continue }
            roots += [name, listName]
            Self.paths(s.info, schemaName: name, listName: listName, into: &paths)
        }
        var schemas = JSONObject()
        for name in defs.closure(of: roots).sorted() { schemas[name] = defs.schemas[name] }
        return [
            "openapi": "3.0.0", "info": info, "paths": .object(JSONObject(uniqueKeysWithValues: paths.sorted { $0.key < $1.key })),
            "components": [
                "schemas": .object(schemas), "securitySchemes": ["BearerToken": ["type": "apiKey", "name": "authorization", "in": "header"]],
            ],
            "security": [["BearerToken": []]],
        ]
    }

    /// The v2 (Swagger) document of everything served.
    static func v2(_ served: [Served], _ defs: OpenAPIDefinitions) -> JSON {
        var paths = JSONObject()
        var roots = [statusName, deleteOptionsName, patchName]
        for s in served {
            let i = s.info
            guard let name = defs.names[OpenAPIDefinitions.gvkKey(i.group, i.version, i.kind)],
                let listName = defs.names[OpenAPIDefinitions.gvkKey(i.group, i.version, i.listKind)]
            else { continue }
            roots += [name, listName]
            Self.paths(i, schemaName: name, listName: listName, into: &paths)
        }
        var v2Paths = JSONObject()
        for (p, item) in paths.sorted(by: { $0.key < $1.key }) {
            var out = JSONObject()
            for (method, op) in item.objectValue ?? [:] {
                out[method] = method == "parameters" ? .array((op.arrayValue ?? []).map(v2Parameter)) : v2Operation(op)
            }
            v2Paths[p] = .object(out)
        }
        var definitions = JSONObject()
        for name in defs.closure(of: roots).sorted() { definitions[name] = defs.schemas[name].map(v2Schema) }
        return [
            "swagger": "2.0", "info": info, "paths": .object(v2Paths), "definitions": .object(definitions),
            "securityDefinitions": ["BearerToken": ["type": "apiKey", "name": "authorization", "in": "header"]],
            "security": [["BearerToken": []]],
        ]
    }

    static func v2Parameter(_ p: JSON) -> JSON {
        guard var o = p.objectValue else { return p }
        if let schema = o.removeValue(forKey: "schema")?.objectValue { for (k, v) in schema { o[k] = v } }
        return .object(o)
    }

    static func v2Operation(_ op: JSON) -> JSON {
        guard var o = op.objectValue else { return op }
        var params = (o["parameters"]?.arrayValue ?? []).map(v2Parameter)
        if let body = o.removeValue(forKey: "requestBody"), let content = body["content"]?.objectValue {
            o["consumes"] = .array(content.keys.map(JSON.string))
            if let schema = content.values.first?["schema"] {
                params.insert(["name": "body", "in": "body", "required": true, "schema": v2Schema(schema)], at: 0)
            }
        }
        if !params.isEmpty { o["parameters"] = .array(params) }
        var produces: [String] = []
        var responses = JSONObject()
        for (code, r) in o["responses"]?.objectValue ?? [:] {
            var out: JSONObject = ["description": r["description"] ?? "OK"]
            if let content = r["content"]?.objectValue {
                for t in content.keys where !produces.contains(t) { produces.append(t) }
                if let schema = content.values.first?["schema"] { out["schema"] = v2Schema(schema) }
            }
            responses[code] = .object(out)
        }
        o["responses"] = .object(responses)
        if !produces.isEmpty { o["produces"] = .array(produces.map(JSON.string)) }
        o["schemes"] = ["https"]
        return .object(o)
    }

    /// A v3 schema as v2 can say it: `$ref`s into `#/definitions/`, no `allOf` wrappers, and none of
    /// the keywords v2 lacks (`oneOf`, `anyOf`, `not`, `nullable`).
    static func v2Schema(_ schema: JSON) -> JSON {
        guard var o = schema.objectValue else { return schema }
        if let all = o["allOf"]?.arrayValue, all.count == 1, let r = all[0]["$ref"] {
            o.removeValue(forKey: "allOf")
            o["$ref"] = r
        }
        if let r = o["$ref"]?.stringValue, r.hasPrefix(OpenAPIDefinitions.refPrefix) {
            o["$ref"] = .string("#/definitions/" + r.dropFirst(OpenAPIDefinitions.refPrefix.count))
        }
        // v2 has no oneOf: IntOrString and Quantity are strings there.
        if o["type"] == nil, let types = o["oneOf"]?.arrayValue?.compactMap({ $0["type"] }), !types.isEmpty {
            o["type"] = types.contains("string") ? "string" : types[0]
        }
        for k in ["oneOf", "anyOf", "not", "nullable"] { o.removeValue(forKey: k) }
        if let props = o["properties"]?.objectValue { o["properties"] = .object(props.mapValues(v2Schema)) }
        for k in ["items", "additionalProperties"] where o[k]?.objectValue != nil { o[k] = o[k].map(v2Schema) }
        if let all = o["allOf"]?.arrayValue { o["allOf"] = .array(all.map(v2Schema)) }
        return .object(o)
    }
}
