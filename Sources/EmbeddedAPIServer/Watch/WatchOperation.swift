import Foundation
import KubeCore

/// A watch prepared under the store lock: initial items plus the live stream.
struct WatchPlan: Sendable {
    var watcher: Watcher?
    var initial: [WatchItem]
}

extension StoreState {
    // MARK: - watch

    mutating func watch(_ req: ResourceRequest, labelSelector: LabelSelector, fieldSelector: FieldSelector) throws(APIError) -> WatchPlan {
        let q = req.query
        if q["sendInitialEvents"] != nil {
            throw APIError.invalidOptions(
                "ListOptions",
                [
                    FieldError(
                        .forbidden, "sendInitialEvents", nil,
                        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")
                ])
        }
        if q["resourceVersionMatch"] != nil {
            throw APIError.invalidOptions(
                "ListOptions",
                [
                    FieldError(
                        .forbidden, "resourceVersionMatch", nil,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
                ])
        }
        let rvParam = q["resourceVersion"] ?? ""
        var start: Int64?
        if !rvParam.isEmpty && rvParam != "0" {
            guard let n = Int64(rvParam) else { throw APIError.badRequest("invalid resource version \"\(rvParam)\"") }
            if n < compactedRV {
                return WatchPlan(watcher: nil, initial: [.error(APIError.expired("too old resource version: \(n) (\(compactedRV))").status)])
            }
            if n > rv { return WatchPlan(watcher: nil, initial: [.error(Self.tooLarge(n, rv).status)]) }
            start = n
        }
        let namespace = req.info.namespaced && !req.namespace.isEmpty ? req.namespace : nil
        // Watchers with equal selectors see a change the same way: the fan-out evaluates it once.
        let selectorKey =
            "\(namespace ?? "*")|\(q["labelSelector"] ?? "")|"
            + fieldSelector.requirements.map { "\($0.field)\($0.negated ? "!=" : "=")\($0.value)" }.joined(separator: ",")
        let watcher = registerWatcher(
            storageKey: req.info.storageKey, namespace: namespace,
            labelSelector: labelSelector, fieldSelector: fieldSelector, selectorKey: selectorKey)
        var initial: [WatchItem] = []
        if let start {
            for e in history.events(after: start) where e.storageKey == req.info.storageKey {
                if let seen = watcher.view(e) { initial.append(.event(SharedWatchEvent(seen))) }
            }
        } else {
            for obj in filtered(req, labelSelector: labelSelector, fieldSelector: fieldSelector) {
                initial.append(.event(SharedWatchEvent(WatchEvent(type: .added, object: obj))))
            }
        }
        return WatchPlan(watcher: watcher, initial: initial)
    }
}
