import Foundation
import KubeCore

extension StoreState {
    // MARK: - list

    func filtered(
        _ req: ResourceRequest, labelSelector: LabelSelector, fieldSelector: FieldSelector, in collection: [String: JSON]? = nil
    ) -> [JSON] {
        let all = collection ?? collections[req.info.storageKey] ?? [:]
        var items: [JSON]
        if req.info.namespaced && !req.namespace.isEmpty {
            let prefix = req.namespace + "/"
            // (explicit filter: JSON is nil-literal expressible, so a ternary with nil would yield .null)
            items = all.filter { $0.key.hasPrefix(prefix) }.map(\.value)
        } else {
            items = Array(all.values)
        }
        if !labelSelector.isEmpty || !fieldSelector.requirements.isEmpty {
            items = items.filter { labelSelector.matches($0[path: "metadata", "labels"]) && fieldSelector.matches($0) }
        }
        items.sort { a, b in
            let (na, ma) = Self.names(a)
            let (nb, mb) = Self.names(b)
            return na == nb ? ma < mb : na < nb
        }
        return items
    }

    func list(_ req: ResourceRequest, labelSelector: LabelSelector, fieldSelector: FieldSelector) throws(APIError) -> (items: [JSON], meta: JSON) {
        let q = req.query
        let rvParam = q["resourceVersion"] ?? ""
        let match = q["resourceVersionMatch"] ?? ""
        var errors: [FieldError] = []
        if !match.isEmpty {
            if rvParam.isEmpty {
                errors.append(
                    FieldError(.forbidden, "resourceVersionMatch", nil, "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            }
            if q["continue"] != nil {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", nil, "resourceVersionMatch is forbidden when continue is provided"))
            }
            if match != "Exact" && match != "NotOlderThan" {
                errors.append(FieldError.notSupported("resourceVersionMatch", .string(match), ["Exact", "NotOlderThan", ""]))
            }
            if match == "Exact" && rvParam == "0" {
                errors.append(
                    FieldError(.forbidden, "resourceVersionMatch", nil, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
            }
        }
        if q["sendInitialEvents"] != nil {
            errors.append(FieldError(.forbidden, "sendInitialEvents", nil, "sendInitialEvents is forbidden for list"))
        }
        if !errors.isEmpty { throw APIError.invalidOptions("ListOptions", errors) }
        if !rvParam.isEmpty && rvParam != "0" {
            guard let n = Int64(rvParam) else { throw APIError.badRequest("invalid resource version \"\(rvParam)\"") }
            if n > rv { throw Self.tooLarge(n, rv) }
            if match == "Exact" && n != rv { throw APIError.expired("too old resource version: \(n) (\(rv))") }
        }
        var items: [JSON]
        var listRV = rv
        if let token = q["continue"], !token.isEmpty {
            guard let decoded = Data(base64Encoded: token).flatMap({ String(data: $0, encoding: .utf8) }),
                let sep = decoded.firstIndex(of: "|"), let tokenRV = Int64(decoded[..<sep])
            else {
                throw APIError.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            }
            if tokenRV < compactedRV {
                throw APIError.expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to continue the list with inconsistent results."
                )
            }
            // Later pages come from the same snapshot as the first: the collection as it was at
            // the token's resourceVersion, rebuilt from the current one and the history.
            guard let snapshot = collection(req.info.storageKey, at: tokenRV) else {
                throw APIError.expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to continue the list with inconsistent results."
                )
            }
            listRV = tokenRV
            let after = String(decoded[decoded.index(after: sep)...])
            items = filtered(req, labelSelector: labelSelector, fieldSelector: fieldSelector, in: snapshot)
            items = items.filter { (Self.names($0).namespace + "\u{0}" + Self.names($0).name) > after }
        } else {
            items = filtered(req, labelSelector: labelSelector, fieldSelector: fieldSelector)
        }
        var meta: JSON = ["resourceVersion": .string(String(listRV))]
        if let limitText = q["limit"], let limit = Int(limitText), limit > 0, items.count > limit {
            let remaining = items.count - limit
            items = Array(items.prefix(limit))
            if let last = items.last {
                let (ns, name) = Self.names(last)
                let token = Data("\(listRV)|\(ns)\u{0}\(name)".utf8).base64EncodedString()
                meta["continue"] = .string(token)
                meta["remainingItemCount"] = .int(Int64(remaining))
            }
        }
        return (items, meta)
    }

    /// The objects of `storageKey` as they were at resourceVersion `at`: the current ones with
    /// every later change undone, newest first; nil when the history no longer reaches back that far.
    func collection(_ storageKey: String, at: Int64) -> [String: JSON]? {
        if at < compactedRV { return nil }
        var objects = collections[storageKey] ?? [:]
        if at >= rv { return objects }
        for event in history.events(after: at).reversed() where event.storageKey == storageKey {
            let (ns, name) = Self.names(event.object)
            let key = Self.objectKey(ns, name)
            switch event.type {
            case .added: objects[key] = nil
            case .modified:
                guard let old = event.old else { return nil }
                objects[key] = old
            case .deleted: objects[key] = event.old ?? event.object
            case .bookmark, .error: continue
            }
        }
        return objects
    }

    static func tooLarge(_ n: Int64, _ current: Int64) -> APIError {
        APIError(
            code: 504, reason: "Timeout", message: "Too large resource version: \(n), current: \(current)",
            details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]], "retryAfterSeconds": 1])
    }
}
