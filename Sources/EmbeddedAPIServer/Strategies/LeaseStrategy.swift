import Foundation
import KubeCore

/// Leases: a positive duration, non-negative transitions, and RFC 3339 times stored with
/// microseconds.
struct LeaseStrategy: ResourceStrategy {
    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.rules(&object, info: info, name: name)
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.rules(&object, info: info, name: name)
    }

    static func rules(_ obj: inout JSON, info: ResourceInfo, name: String) throws(APIError) {
        var errors: [FieldError] = []
        if let d = obj[path: "spec", "leaseDurationSeconds"], !d.isNull {
            if let i = d.intValue {
                if i <= 0 { errors.append(FieldError(.invalid, "spec.leaseDurationSeconds", d, "must be greater than 0")) }
            } else {
                errors.append(FieldError(.invalid, "spec.leaseDurationSeconds", d, "must be an integer"))
            }
        }
        if let t = obj[path: "spec", "leaseTransitions"], !t.isNull, (t.intValue ?? -1) < 0 {
            errors.append(FieldError(.invalid, "spec.leaseTransitions", t, "must be greater than or equal to 0"))
        }
        for f in ["acquireTime", "renewTime"] {
            guard let v = obj[path: "spec", f], !v.isNull else { continue }
            // Exact to the microsecond: no `Date` (a Double) in between.
            if let s = v.stringValue, let instant = KubeTime.parseInstant(s) {
                obj[path: "spec", f] = .string(KubeTime.formatMicro(instant))
            } else {
                errors.append(FieldError(.invalid, "spec.\(f)", v, "must be an RFC 3339 time"))
            }
        }
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
    }
}
