import KubeCore

extension Shoot {
    /// Wraps a Shoot object after checking, as Go's decoder does, that every field the calico
    /// extension reads has the right JSON type: a Shoot whose `spec.networking` is a string must
    /// not silently pass validation. Unknown fields are ignored. Throws with paths as in the
    /// Shoot (e.g. `spec.networking.type`).
    public static func decode(_ json: JSON) throws(FieldErrorList) -> Shoot {
        guard case .object(let root) = json else {
            throw FieldErrorList([.decode("", "json: cannot unmarshal \(StrictDecoder.goJSONType(json)) into Go value of type core.Shoot")])
        }
        var r = LenientReader()
        if let meta = r.object(root["metadata"], "metadata") {
            _ = r.string(meta["name"], "metadata.name")
            _ = r.string(meta["namespace"], "metadata.namespace")
            _ = r.stringMap(meta["labels"], "metadata.labels")
            _ = r.stringMap(meta["annotations"], "metadata.annotations")
        }
        let spec = r.object(root["spec"], "spec")
        if let k = r.object(spec?["kubernetes"], "spec.kubernetes") {
            _ = r.string(k["version"], "spec.kubernetes.version")
            if let kp = r.object(k["kubeProxy"], "spec.kubernetes.kubeProxy") {
                _ = r.bool(kp["enabled"], "spec.kubernetes.kubeProxy.enabled")
                _ = r.string(kp["mode"], "spec.kubernetes.kubeProxy.mode")
            }
            if let api = r.object(k["kubeAPIServer"], "spec.kubernetes.kubeAPIServer") {
                _ = r.boolMap(api["featureGates"], "spec.kubernetes.kubeAPIServer.featureGates")
                _ = r.boolMap(api["runtimeConfig"], "spec.kubernetes.kubeAPIServer.runtimeConfig")
            }
            if let vpa = r.object(k["verticalPodAutoscaler"], "spec.kubernetes.verticalPodAutoscaler") {
                _ = r.bool(vpa["enabled"], "spec.kubernetes.verticalPodAutoscaler.enabled")
            }
        }
        if let n = r.object(spec?["networking"], "spec.networking") {
            _ = r.string(n["type"], "spec.networking.type")
            _ = r.string(n["pods"], "spec.networking.pods")
            _ = r.string(n["nodes"], "spec.networking.nodes")
            _ = r.string(n["services"], "spec.networking.services")
            _ = r.stringList(n["ipFamilies"], "spec.networking.ipFamilies")
        }
        if let p = r.object(spec?["provider"], "spec.provider"), let w = p["workers"], !w.isNull, w.arrayValue == nil {
            r.typeError("spec.provider.workers", w, "[]core.Worker")
        }
        if let h = r.object(spec?["hibernation"], "spec.hibernation") {
            _ = r.bool(h["enabled"], "spec.hibernation.enabled")
        }
        if let status = r.object(root["status"], "status") {
            _ = r.bool(status["hibernated"], "status.hibernated")
            _ = r.string(status["technicalID"], "status.technicalID")
            if let sn = r.object(status["networking"], "status.networking") {
                for key in ["nodes", "pods", "services", "egressCIDRs"] { _ = r.stringList(sn[key], "status.networking." + key) }
            }
            if let cs = status["constraints"], !cs.isNull {
                if let a = cs.arrayValue {
                    for (i, c) in a.enumerated() {
                        let p = "status.constraints[\(i)]"
                        guard let co = r.object(c, p) else { continue }
                        for key in ["type", "status", "reason", "message"] { _ = r.string(co[key], p + "." + key) }
                    }
                } else {
                    r.typeError("status.constraints", cs, "[]core.Condition")
                }
            }
            if let lo = r.object(status["lastOperation"], "status.lastOperation") {
                _ = r.string(lo["type"], "status.lastOperation.type")
                _ = r.string(lo["state"], "status.lastOperation.state")
            }
        }
        if !r.errors.isEmpty { throw FieldErrorList(r.errors) }
        return Shoot(raw: json)
    }
}

/// Reads fields without complaining about unknown ones; wrong types are recorded.
struct LenientReader {
    var errors: [FieldError] = []

    mutating func typeError(_ path: String, _ value: JSON, _ goType: String) {
        errors.append(
            .decode(FieldPath(path), "json: cannot unmarshal \(StrictDecoder.goJSONType(value)) into Go struct field Shoot.\(path) of type \(goType)")
        )
    }
    mutating func object(_ value: JSON?, _ path: String) -> JSONObject? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let o) = value else {
            typeError(path, value, "object")
            return nil
        }
        return o
    }
    mutating func string(_ value: JSON?, _ path: String) -> String? {
        guard let value, !value.isNull else { return nil }
        guard case .string(let s) = value else {
            typeError(path, value, "string")
            return nil
        }
        return s
    }
    mutating func bool(_ value: JSON?, _ path: String) -> Bool? {
        guard let value, !value.isNull else { return nil }
        guard case .bool(let b) = value else {
            typeError(path, value, "bool")
            return nil
        }
        return b
    }
    mutating func stringList(_ value: JSON?, _ path: String) -> [String]? {
        guard let value, !value.isNull else { return nil }
        guard case .array(let a) = value else {
            typeError(path, value, "[]string")
            return nil
        }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            if let s = string(e, path + "[\(i)]") { out.append(s) }
        }
        return out
    }
    mutating func stringMap(_ value: JSON?, _ path: String) -> [String: String] {
        guard let o = object(value, path) else { return [:] }
        var out: [String: String] = [:]
        for (k, e) in o { if let s = string(e, path + "." + k) { out[k] = s } }
        return out
    }
    mutating func boolMap(_ value: JSON?, _ path: String) -> [String: Bool] {
        guard let o = object(value, path) else { return [:] }
        var out: [String: Bool] = [:]
        for (k, e) in o { if let b = bool(e, path + "." + k) { out[k] = b } }
        return out
    }
}
