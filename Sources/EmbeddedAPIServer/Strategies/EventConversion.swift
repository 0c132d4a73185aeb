import KubeCore

/// One store of Events served as core/v1 and as events.k8s.io/v1, as kube-apiserver serves them:
/// objects are kept in the core form; the events.k8s.io form renames fields on the way in and out.
/// Field selectors of events.k8s.io name the new fields and are translated to the stored ones.
enum EventConversion {
    /// events.k8s.io/v1 field ← core/v1 field.
    static let renames: [(events: String, core: String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]

    /// Whether `info` is the events.k8s.io view of the shared store.
    static func isEventsAPI(_ info: ResourceInfo) -> Bool { info.behavior == .event && info.group == "events.k8s.io" }

    /// A stored (core) Event in the events.k8s.io/v1 form.
    static func toEventsAPI(_ core: JSON) -> JSON {
        guard var o = core.objectValue.map(JSON.object) else { return core }
        for (events, old) in renames {
            let value = o[old]
            o[old] = nil
            if let value { o[events] = value }
        }
        return o
    }

    /// An events.k8s.io/v1 Event in the stored (core) form.
    static func toCore(_ event: JSON) -> JSON {
        guard var o = event.objectValue.map(JSON.object) else { return event }
        for (events, core) in renames {
            let value = o[events]
            o[events] = nil
            if let value { o[core] = value }
        }
        return o
    }

    /// A field selector of events.k8s.io on the stored fields.
    static func storedSelector(_ selector: FieldSelector) -> FieldSelector {
        var out = selector
        for i in out.requirements.indices {
            let field = out.requirements[i].field
            for (events, core) in renames where field == events || field.hasPrefix(events + ".") {
                out.requirements[i].field = core + field.dropFirst(events.count)
            }
        }
        return out
    }
}

extension StoreState {
    /// A PATCH of an events.k8s.io Event: the patch applies to the events.k8s.io form of the stored
    /// object, and the result is stored in the core form as an update (with the read
    /// resourceVersion as precondition, so nothing written in between is lost).
    mutating func patchEventsAPI(_ req: ResourceRequest, viewInfo: ResourceInfo, name: String, contentType: String, body: [UInt8])
        throws(APIError) -> (Int, JSON)
    {
        guard let old = object(req.info, req.namespace, name) else { throw APIError.notFound(viewInfo, name) }
        var view = EventConversion.toEventsAPI(old)
        view["apiVersion"] = .string(viewInfo.groupVersion)
        let patchDoc: JSON
        do {
            patchDoc =
                contentType == "application/apply-patch+yaml"
                ? try JSON.parseJSONOrYAML(String(decoding: body, as: UTF8.self)) : try JSON.parse(body)
        } catch {
            throw APIError.badRequest("error decoding patch: \(error)")
        }
        // Server-side apply of the events.k8s.io form is treated as a merge (no field ownership).
        let patched =
            contentType == "application/apply-patch+yaml"
            ? MergePatch.apply(patchDoc, to: view)
            : try Self.applyPatchDocument(patchDoc, contentType: contentType, to: view, info: viewInfo)
        var stored = EventConversion.toCore(patched)
        stored["apiVersion"] = .string(req.info.groupVersion)
        if (stored[path: "metadata", "resourceVersion"]?.stringValue ?? "").isEmpty {
            stored[path: "metadata", "resourceVersion"] = old[path: "metadata", "resourceVersion"]
        }
        return try update(req, name: name, body: stored)
    }
}
