import KubeCore

/// Services: kube-apiserver's defaults and a `clusterIP` allocated from the service CIDR
/// (10.0.0.0/16 here; the first address is kept for a `kubernetes` Service, as kube-apiserver
/// does). Headless Services (`clusterIP: None`) and `ExternalName` ones get none; a given address
/// must be free and in range; the address is immutable and returns to the pool with its Service
/// (addresses in use are read from the stored Services, so nothing else needs freeing).
struct ServiceStrategy: ResourceStrategy {
    /// `kubectl create service` sends protobuf.
    var acceptsProtobuf: Bool { true }

    /// The range cluster IPs come from.
    static let serviceCIDR = CIDR(address: IPAddress(bytes: [10, 0, 0, 0]), prefixLength: 16)

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        Self.applyDefaults(&object)
        guard (object[path: "spec", "type"]?.stringValue ?? "ClusterIP") != "ExternalName" else { return }
        let requested = object[path: "spec", "clusterIP"]?.stringValue ?? object[path: "spec", "clusterIPs"]?[0]?.stringValue ?? ""
        let ip: String
        if requested == "None" {
            ip = "None"
        } else if requested.isEmpty {
            guard let free = Self.firstFree(in: state) else {
                throw APIError(
                    code: 500, reason: "InternalError",
                    message: "Internal error occurred: failed to allocate a serviceIP: range is full")
            }
            ip = free
        } else {
            guard let address = IPAddress(requested), address.isIPv4 else {
                throw APIError.invalid(
                    info, name: name,
                    [FieldError(.invalid, "spec.clusterIPs[0]", .string(requested), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")])
            }
            guard Self.serviceCIDR.contains(address) else {
                throw APIError.invalid(
                    info, name: name,
                    [
                        FieldError(
                            .invalid, "spec.clusterIPs", .string(requested),
                            "failed to allocate IP \(requested): provided IP is not in the valid range. The range of valid IPs is \(Self.serviceCIDR.canonical)"
                        )
                    ])
            }
            guard !Self.used(in: state).contains(address.canonical) else {
                throw APIError.invalid(
                    info, name: name,
                    [
                        FieldError(
                            .invalid, "spec.clusterIPs", .string(requested), "failed to allocate IP \(requested): provided IP is already allocated")
                    ])
            }
            ip = address.canonical
        }
        object[path: "spec", "clusterIP"] = .string(ip)
        object[path: "spec", "clusterIPs"] = [.string(ip)]
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        Self.applyDefaults(&object)
        let oldIP = old[path: "spec", "clusterIP"]
        let newIP = object[path: "spec", "clusterIP"]
        if newIP == nil || newIP?.stringValue == "" {
            // An update without the address keeps it (clients that PUT what they read back work).
            object[path: "spec", "clusterIP"] = oldIP
            object[path: "spec", "clusterIPs"] = old[path: "spec", "clusterIPs"]
        } else if newIP != oldIP {
            throw APIError.invalid(info, name: name, [FieldError(.invalid, "spec.clusterIPs[0]", newIP, "may not change once set")])
        }
    }

    /// kube-apiserver's defaults of a Service.
    static func applyDefaults(_ object: inout JSON) {
        if object[path: "spec", "type"] == nil { object[path: "spec", "type"] = "ClusterIP" }
        if object[path: "spec", "sessionAffinity"] == nil { object[path: "spec", "sessionAffinity"] = "None" }
        let type = object[path: "spec", "type"]?.stringValue ?? "ClusterIP"
        if type != "ExternalName" {
            if object[path: "spec", "ipFamilies"] == nil { object[path: "spec", "ipFamilies"] = ["IPv4"] }
            if object[path: "spec", "ipFamilyPolicy"] == nil { object[path: "spec", "ipFamilyPolicy"] = "SingleStack" }
            if object[path: "spec", "internalTrafficPolicy"] == nil { object[path: "spec", "internalTrafficPolicy"] = "Cluster" }
        }
        if var ports = object[path: "spec", "ports"]?.arrayValue {
            for i in ports.indices where ports[i].objectValue != nil {
                if ports[i]["protocol"] == nil { ports[i]["protocol"] = "TCP" }
                if ports[i]["targetPort"] == nil, let port = ports[i]["port"] { ports[i]["targetPort"] = port }
            }
            object[path: "spec", "ports"] = .array(ports)
        }
        if object["status"] == nil { object["status"] = ["loadBalancer": .emptyObject] }
    }

    /// Cluster IPs of the stored Services.
    static func used(in state: StoreState) -> Set<String> {
        var out = Set<String>()
        for service in (state.collections["/services"] ?? [:]).values {
            if let ip = service[path: "spec", "clusterIP"]?.stringValue { out.insert(ip) }
        }
        return out
    }

    /// The lowest free address of the range after the first one (kept for `kubernetes`).
    static func firstFree(in state: StoreState) -> String? {
        let used = used(in: state)
        let base = serviceCIDR.network.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let size = UInt32(1) << UInt32(32 - serviceCIDR.prefixLength)
        var offset: UInt32 = 2
        while offset < size - 1 {
            let n = base + offset
            let text = IPAddress(bytes: [UInt8(n >> 24), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)]).canonical
            if !used.contains(text) { return text }
            offset += 1
        }
        return nil
    }
}
