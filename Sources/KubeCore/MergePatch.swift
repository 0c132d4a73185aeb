/// JSON merge patches (RFC 7386): computed by the controllers for status and heartbeat updates,
/// applied by the embedded API server for `application/merge-patch+json`.
public enum MergePatch {
    /// The merge patch that turns `old` into `new`: only changed keys, removed keys as `null`,
    /// non-object values (lists included) sent whole. Answers `nil` when nothing changed.
    public static func diff(from old: JSON, to new: JSON) -> JSON? {
        guard case .object(let o) = old, case .object(let n) = new else {
            return old == new ? nil : new
        }
        var patch = JSONObject()
        for (key, newValue) in n {
            if let oldValue = o[key] {
                if oldValue == newValue { continue }
                if case .object = oldValue, case .object = newValue {
                    if let sub = diff(from: oldValue, to: newValue) { patch[key] = sub }
                } else {
                    patch[key] = newValue
                }
            } else {
                patch[key] = newValue
            }
        }
        for key in o.keys where n[key] == nil {
            patch[key] = .null
        }
        return patch.isEmpty ? nil : .object(patch)
    }

    /// Applies a merge patch to `target` (RFC 7386 semantics).
    public static func apply(_ patch: JSON, to target: JSON) -> JSON {
        guard case .object(let p) = patch else { return patch }
        var result: JSONObject
        if case .object(let t) = target { result = t } else { result = [:] }
        for (key, value) in p {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}
