import KubeCore

/// Events (core/v1 and events.k8s.io, one store in the core form — see ``EventConversion``): a
/// default `involvedObject` and timestamps in canonical form.
struct EventStrategy: ResourceStrategy {
    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        Self.canonicalize(&object, info: info)
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        Self.canonicalize(&object, info: info)
    }

    static func canonicalize(_ obj: inout JSON, info: ResourceInfo) {
        if obj["involvedObject"] == nil { obj["involvedObject"] = .emptyObject }
        for f in ["firstTimestamp", "lastTimestamp"] {
            if let s = obj[f]?.stringValue, let t = KubeTime.parseInstant(s) { obj[f] = .string(KubeTime.format(t)) }
        }
    }
}
