import KubeCore

/// Protobuf fields of a Deployment as `kubectl create deployment` sends it (replicas, selector, a pod
/// template with containers: image, command, args, ports, env, resources), decoded into JSON; field
/// numbers as in kube's generated.proto files. Pod spec fields beyond those are not decoded.
enum WorkloadProtobuf {
    typealias P = KubeProtobuf

    /// Decodes top-level field `number` of a `kind` object (metadata, field 1, is decoded by the caller).
    static func field(kind: String, number: Int, value v: P.Value, into obj: inout JSON) throws {
        guard number == 2, case .bytes(let b) = v else { return }
        if kind == "Deployment" { obj["spec"] = try deploymentSpec(b) }
        if kind == "Service" { obj["spec"] = try serviceSpec(b) }
    }

    /// A Service's spec as `kubectl create service` sends it: ports, selector, clusterIP, type,
    /// externalName, sessionAffinity (other fields are not decoded).
    static func serviceSpec(_ data: ArraySlice<UInt8>) throws -> JSON {
        var spec = try AuthProtobuf.strings(data, [3: "clusterIP", 4: "type", 7: "sessionAffinity", 10: "externalName"], lists: [5: "externalIPs"])
        for (n, f) in try P.fields(data) {
            switch n {
            case 1:
                guard case .bytes(let b) = f else { continue }
                var port = try AuthProtobuf.strings(b, [1: "name", 2: "protocol", 6: "appProtocol"])
                for (pn, pf) in try P.fields(b) {
                    switch (pn, pf) {
                    case (3, .varint(let v)): port["port"] = .int(int32(v))
                    case (5, .varint(let v)): port["nodePort"] = .int(int32(v))
                    case (4, .bytes(let ib)): port["targetPort"] = try intOrString(ib)
                    default: break
                    }
                }
                AuthProtobuf.append(&spec, "ports", port)
            case 2:
                if let (k, val) = try P.mapEntry(f) { spec[path: "selector", k] = .string(String(decoding: val, as: UTF8.self)) }
            default: break
            }
        }
        return spec
    }

    /// An IntOrString (type 0: intVal, 1: strVal).
    static func intOrString(_ data: ArraySlice<UInt8>) throws -> JSON {
        var type: UInt64 = 0
        var intVal: Int64 = 0
        var strVal = ""
        for (n, f) in try P.fields(data) {
            switch (n, f) {
            case (1, .varint(let v)): type = v
            case (2, .varint(let v)): intVal = int32(v)
            case (3, _): strVal = P.string(f) ?? ""
            default: break
            }
        }
        return type == 1 ? .string(strVal) : .int(intVal)
    }

    static func deploymentSpec(_ data: ArraySlice<UInt8>) throws -> JSON {
        var spec: JSON = .emptyObject
        for (n, f) in try P.fields(data) {
            switch (n, f) {
            case (1, .varint(let r)): spec["replicas"] = .int(int32(r))
            case (2, .bytes(let b)): spec["selector"] = try AuthProtobuf.labelSelector(b)
            case (3, .bytes(let b)): spec["template"] = try podTemplate(b)
            case (4, .bytes(let b)): spec["strategy"] = try AuthProtobuf.strings(b, [1: "type"])
            case (5, .varint(let s)): spec["minReadySeconds"] = .int(int32(s))
            case (6, .varint(let s)): spec["revisionHistoryLimit"] = .int(int32(s))
            case (7, .varint(let p)): spec["paused"] = .bool(p != 0)
            case (9, .varint(let s)): spec["progressDeadlineSeconds"] = .int(int32(s))
            default: break
            }
        }
        return spec
    }

    /// A protobuf int32 (negative values arrive sign-extended to 64 bits).
    static func int32(_ v: UInt64) -> Int64 { Int64(Int32(truncatingIfNeeded: v)) }

    static func podTemplate(_ data: ArraySlice<UInt8>) throws -> JSON {
        var template: JSON = .emptyObject
        for (n, f) in try P.fields(data) {
            guard case .bytes(let b) = f else { continue }
            if n == 1 { template["metadata"] = try P.objectMeta(b) }
            if n == 2 {
                var spec: JSON = .emptyObject
                for (sn, sf) in try P.fields(b) where sn == 2 {
                    if case .bytes(let cb) = sf { AuthProtobuf.append(&spec, "containers", try container(cb)) }
                }
                template["spec"] = spec
            }
        }
        return template
    }

    static func container(_ data: ArraySlice<UInt8>) throws -> JSON {
        var c = try AuthProtobuf.strings(
            data, [1: "name", 2: "image", 5: "workingDir", 14: "imagePullPolicy"], lists: [3: "command", 4: "args"])
        for (n, f) in try P.fields(data) {
            guard case .bytes(let b) = f else { continue }
            switch n {
            case 6:
                var port = try AuthProtobuf.strings(b, [1: "name", 4: "protocol", 5: "hostIP"])
                for (pn, pf) in try P.fields(b) {
                    // hostPort 0 means unset (omitted in JSON).
                    if pn == 2, case .varint(let v) = pf, v != 0 { port["hostPort"] = .int(int32(v)) }
                    if pn == 3, case .varint(let v) = pf { port["containerPort"] = .int(int32(v)) }
                }
                AuthProtobuf.append(&c, "ports", port)
            case 7:
                AuthProtobuf.append(&c, "env", try AuthProtobuf.strings(b, [1: "name", 2: "value"], keepEmpty: true))
            case 8:
                var resources: JSON = .emptyObject
                for (rn, rf) in try P.fields(b) where rn == 1 || rn == 2 {
                    // limits (1) and requests (2): maps of resource name to a Quantity {1: string}.
                    guard let (name, quantity) = try P.mapEntry(rf) else { continue }
                    let value = try P.fields(quantity).first { $0.0 == 1 }.flatMap { P.string($0.1) } ?? ""
                    resources[path: rn == 1 ? "limits" : "requests", name] = .string(value)
                }
                c["resources"] = resources
            default:
                break
            }
        }
        return c
    }
}
