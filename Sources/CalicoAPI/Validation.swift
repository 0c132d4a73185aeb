import KubeCore

/// Validation of the provider API and of the Shoot networking section.
public enum CalicoValidation {
    /// Root path used by the controller (`spec.providerConfig`).
    public static let controllerRoot: FieldPath = "spec.providerConfig"
    /// Root path used by the admission webhook (`spec.networking.providerConfig`).
    public static let admissionRoot: FieldPath = "spec.networking.providerConfig"

    static let autoDetectionOptions = ["first-found", "can-reach", "interface", "skip-interface", "cidr", "kubernetes-internal-ip"]

    /// `ValidateNetworkConfig`: every rule of the reference, in its order, all errors collected.
    public static func validateNetworkConfig(_ c: NetworkConfig, root: FieldPath = controllerRoot, ipFamilies: [String]) -> [FieldError] {
        var errs: [FieldError] = []
        // 1
        if let b = c.backend, !b.isSupported {
            errs.append(.invalid(root.child("backend"), .string(b.rawValue), unsupported(b.rawValue, "backend", Backend.allowedValues)))
        }
        // 2-4
        if let ipam = c.ipam {
            var p: FieldPath { root.child("ipam", "type") }  // built only for an error
            if !ipam.type.isEmpty && !IPAMType.allowedValues.contains(ipam.type) {
                errs.append(.invalid(p, .string(ipam.type), unsupported(ipam.type, "type", IPAMType.allowedValues)))
            }
            if ipam.type == IPAMType.calicoIPAM && ipFamilies.contains("IPv6") {
                errs.append(
                    .invalid(
                        p, .string(ipam.type), "IPAM type \"calico-ipam\" is only supported for IPv4 single-stack shoots, use \"host-local\" instead")
                )
            }
            if let cidr = ipam.cidr, cidr.lowercased() != "usepodcidr", let msg = CIDR.validationError(cidr) {
                errs.append(.invalid(root.child("ipam", "cidr"), .string(cidr), msg))
            }
        }
        // 5-8
        if let v4 = c.ipv4 {
            validatePool(pool: v4.pool, mode: v4.mode, method: v4.autoDetectionMethod, root.child("ipv4"), &errs)
        }
        // 9-12
        if let v6 = c.ipv6 {
            validatePool(pool: v6.pool, mode: v6.mode, method: v6.autoDetectionMethod, root.child("ipv6"), &errs)
        }
        // 13
        if let mtu = c.vethMTU, let msg = mtuError(mtu) {
            errs.append(.invalid(root.child("vethMTU"), .string(mtu), msg))
        }
        // 14-16
        if let a = c.autoScaling {
            let p = root.child("autoScaling")
            if !a.mode.isSupported {
                errs.append(.invalid(p.child("mode"), .string(a.mode.rawValue), unsupported(a.mode.rawValue, "mode", AutoscalingMode.allowedValues)))
            }
            if let r = a.resources {
                if let node = r.node { errs += validateResourceList(node, p.child("resources", "node")) }
                if let typha = r.typha { errs += validateResourceList(typha, p.child("resources", "typha")) }
            }
        }
        // 17
        if let s = c.serviceLoopPrevention, !s.isSupported {
            errs.append(
                .invalid(
                    root.child("serviceLoopPrevention"), .string(s.rawValue),
                    unsupported(s.rawValue, "serviceLoopPrevention", ServiceLoopPrevention.allowedValues)))
        }
        // 18
        if let ipip = c.ipip, !ipip.isSupported {
            errs.append(.invalid(root.child("ipip"), .string(ipip.rawValue), unsupported(ipip.rawValue, "ipip", PoolMode.allowedValues)))
        }
        // 19: note the capital D in the path.
        if let m = c.ipAutodetectionMethod {
            errs += validateIPAutoDetectionMethod(m, root.child("ipAutoDetectionMethod"))
        }
        return errs
    }

    private static func validatePool(pool: Pool?, mode: PoolMode?, method: String?, _ p: FieldPath, _ errs: inout [FieldError]) {
        if let pool, !pool.isSupported {
            errs.append(.invalid(p.child("pool"), .string(pool.rawValue), unsupported(pool.rawValue, "pool", Pool.allowedValues)))
        }
        if let mode, !mode.isSupported {
            errs.append(.invalid(p.child("mode"), .string(mode.rawValue), unsupported(mode.rawValue, "mode", PoolMode.allowedValues)))
        }
        if pool == .vxlan, let mode, mode != .always, mode != .never {
            errs.append(
                .invalid(
                    p.child("mode"), .string(mode.rawValue),
                    "unsupported value \(goQuote(mode.rawValue)) for mode with pool \"vxlan\", supported values are [\"Always\", \"Never\"]"))
        }
        if let method, !method.isEmpty {
            errs += validateIPAutoDetectionMethod(method, p.child("autoDetectionMethod"))
        }
    }

    /// `unsupported value "<v>" for <field>, supported values are ["a", "b"]`.
    static func unsupported(_ v: String, _ field: String, _ allowed: [String]) -> String {
        "unsupported value \(goQuote(v)) for \(field), supported values are [" + allowed.map(goQuote).joined(separator: ", ") + "]"
    }

    /// The vethMTU rule: nil when valid.
    static func mtuError(_ s: String) -> String? {
        if s.isEmpty { return "MTU cannot be empty" }
        guard let v = goAtoi(s) else {
            // Go's strconv.Atoi error text.
            let u = Array(s.utf8)
            var digits = u[...]
            if let f = digits.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { digits = digits.dropFirst() }
            let syntaxOK = !digits.isEmpty && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
            return "invalid MTU: strconv.Atoi: parsing \(goQuote(s)): " + (syntaxOK ? "value out of range" : "invalid syntax")
        }
        if v < 0 { return "MTU must be a positive integer" }
        return nil
    }

    /// Go `strconv.Atoi` (optional sign, decimal digits, fits in Int64).
    static func goAtoi(_ s: String) -> Int64? {
        var u = Array(s.utf8)[...]
        var negative = false
        if let f = u.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") {
            negative = f == UInt8(ascii: "-")
            u = u.dropFirst()
        }
        guard !u.isEmpty else { return nil }
        var v: Int64 = 0
        for c in u {
            guard c >= 48 && c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(c - 48)) : m.addingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }

    /// `ValidateIPAutoDetectionMethod`.
    public static func validateIPAutoDetectionMethod(_ m: String, _ p: FieldPath) -> [FieldError] {
        let bad = FieldBadValue.string(m)
        if m.isEmpty { return [.invalid(p, bad, "method cannot be empty")] }
        let option: String
        let param: String?
        if let eq = m.firstIndex(of: "=") {
            option = String(m[..<eq])
            param = String(m[m.index(after: eq)...])
        } else {
            option = m
            param = nil
        }
        guard autoDetectionOptions.contains(option) else {
            return [
                .invalid(p, bad, "invalid option \(goQuote(option)), supported options are [" + autoDetectionOptions.joined(separator: " ") + "]")
            ]
        }
        switch option {
        case "first-found", "kubernetes-internal-ip":
            if param != nil { return [.invalid(p, bad, "option \(option) does not take a parameter")] }
        case "cidr":
            guard let param, !param.isEmpty else { return [.invalid(p, bad, "option cidr requires a parameter")] }
            if let msg = CIDR.validationError(param) { return [.invalid(p, .string(param), msg)] }
        default:  // can-reach, interface, skip-interface
            guard let param, !param.isEmpty else { return [.invalid(p, bad, "option \(option) requires a parameter")] }
            if option == "can-reach" {
                let ipErr = IPAddress.validationError(param)
                let dnsErrs = NameValidation.dns1123SubdomainErrors(param)
                if let ipErr, !dnsErrs.isEmpty {
                    let ipList = "[" + FieldError.invalid(p, .string(param), ipErr).description + "]"
                    let dnsList = "[" + dnsErrs.joined(separator: " ") + "]"
                    return [.invalid(p, bad, "parameter for can-reach must be a valid IP address or DNS name: \(ipList), \(dnsList)")]
                }
            } else if let err = RE2Syntax.compileError(param) {
                return [.invalid(p, bad, "invalid regex for option \(option): \(err)")]
            }
        }
        return []
    }

    static let integerResources: Set<String> = [
        "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
        "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
    ]

    /// `ValidateResourceList` plus the generic Kubernetes quantity checks.
    public static func validateResourceList(_ list: ResourceList, _ p: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        for e in list {
            // Built only for an error: the canonical quantity text costs more than the checks.
            var path: FieldPath { p.child(e.name) }
            var value: FieldBadValue { .string(e.quantity.canonical) }
            switch e.name {
            case "cpu", "memory":
                let label = e.name == "cpu" ? "CPU" : "Memory"
                if e.quantity.isZero {
                    errs.append(.invalid(path, value, "\(label) resource must be specified and cannot be zero"))
                } else if e.quantity.sign < 0 {
                    errs.append(.invalid(path, value, "\(label) resource must be positive"))
                }
            default:
                errs.append(.invalid(path, value, "Unsupported resource: \(e.name)"))
            }
            if e.quantity.sign < 0 {
                errs.append(.invalid(path, value, "must be greater than or equal to 0"))
            }
            if isIntegerResource(e.name) && !e.quantity.isInteger {
                errs.append(.invalid(path, value, "must be an integer"))
            }
        }
        return errs
    }

    static func isIntegerResource(_ name: String) -> Bool {
        if integerResources.contains(name) { return true }
        // Extended resources: qualified (has a '/'), outside kubernetes.io/, not requests.-prefixed.
        // (UTF-8 searches: String.contains(String) would go through Foundation's slow range(of:).)
        return name.utf8.contains(47) && !name.hasPrefix("kubernetes.io/") && !containsBytes(name, ".kubernetes.io/") && !name.hasPrefix("requests.")
    }

    static func containsBytes(_ s: String, _ needle: String) -> Bool {
        let h = Array(s.utf8)
        let n = Array(needle.utf8)
        guard n.count <= h.count else { return false }
        for i in 0...(h.count - n.count) where h[i] == n[0] && Array(h[i..<(i + n.count)]) == n { return true }
        return false
    }

    /// `ValidateNetworking` of the Shoot, root `spec.networking`.
    public static func validateShootNetworking(_ n: Shoot.Networking) -> [FieldError] {
        var errs: [FieldError] = []
        let root: FieldPath = "spec.networking"
        if let t = n.type {
            if t != CalicoAPIGroup.networkType {
                errs.append(.invalid(root.child("type"), .string(t), "networking type \(goQuote(t)) is not supported"))
            }
        } else {
            errs.append(.required(root.child("type"), "networking type is required"))
        }
        for (name, value) in [("pods", n.pods), ("nodes", n.nodes), ("services", n.services)] {
            if let value, !CIDR.isGoParseable(value) {
                errs.append(.invalid(root.child(name), .string(value), "\(name) is not a valid CIDR: \(goQuote(value))"))
            }
        }
        if let fams = n.ipFamilies {
            let p = root.child("ipFamilies")
            // Built only for an error.
            var goList: String { "[" + fams.joined(separator: " ") + "]" }
            var bad: FieldBadValue { .verbatim("[]core.IPFamily{" + fams.map(goQuote).joined(separator: ", ") + "}") }
            if fams.contains(where: { $0 != "IPv4" && $0 != "IPv6" }) {
                errs.append(.invalid(p, bad, "ipFamilies (\(goList)) must be a subset of [\"IPv4\", \"IPv6\"]"))
            }
            if fams.count > 2 {
                errs.append(.invalid(p, bad, "ipFamilies (\(goList)) cannot have more than two entries"))
            } else if fams.count == 2 && fams[0] == fams[1] {
                errs.append(.invalid(p, bad, "ipFamilies (\(goList)) cannot have duplicate entries"))
            }
        }
        return errs
    }

    /// The kube-proxy rule: kube-proxy disabled requires eBPF.
    public static func validateKubeProxy(_ shoot: Shoot, config: NetworkConfig?) -> [FieldError] {
        if shoot.kubeProxy?.enabled == false && !(config?.ebpfEnabled ?? false) {
            return [
                .forbidden(
                    "spec.kubernetes.kubeProxy.enabled",
                    "Disabling kube-proxy is forbidden in conjunction with calico without running in ebpf dataplane")
            ]
        }
        return []
    }

    /// The outcome of validating a Shoot as the admission webhook does.
    public enum ShootOutcome: Sendable, Equatable {
        /// Not validated (other networking type, no networking, workerless).
        case skipped(reason: String)
        case valid
        /// Denied with these errors (decode errors of the providerConfig included).
        case invalid(FieldErrorList)
    }

    /// Validates a Shoot exactly as the webhook does (after decoding the request).
    /// `providerConfigDuplicates` are the paths of keys the raw `spec.networking.providerConfig` gave
    /// twice (relative to it); strict decoding rejects them.
    public static func validateShoot(_ shoot: Shoot, providerConfigDuplicates: [String] = []) -> ShootOutcome {
        guard let n = shoot.networking, n.type == CalicoAPIGroup.networkType else {
            return .skipped(reason: "shoot does not use calico networking")
        }
        if shoot.isWorkerless { return .skipped(reason: "workerless shoot") }
        let netErrs = validateShootNetworking(n)
        if !netErrs.isEmpty { return .invalid(FieldErrorList(netErrs)) }
        var config: NetworkConfig? = nil
        if let pc = n.providerConfig {
            do {
                config = try NetworkConfig.decode(pc, duplicateFields: providerConfigDuplicates)
            } catch {
                return .invalid(error)
            }
            let errs = validateNetworkConfig(config ?? NetworkConfig(), root: admissionRoot, ipFamilies: n.ipFamilies ?? [])
            if !errs.isEmpty { return .invalid(FieldErrorList(errs)) }
        }
        let kp = validateKubeProxy(shoot, config: config)
        if !kp.isEmpty { return .invalid(FieldErrorList(kp)) }
        return .valid
    }
}

extension NetworkConfig {
    /// Validates with the given root path and IP families (see `CalicoValidation.validateNetworkConfig`).
    public func validate(root: FieldPath = CalicoValidation.controllerRoot, ipFamilies: [String]) -> [FieldError] {
        CalicoValidation.validateNetworkConfig(self, root: root, ipFamilies: ipFamilies)
    }
}
