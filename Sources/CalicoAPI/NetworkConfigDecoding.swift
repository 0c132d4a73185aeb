import KubeCore

/// Strict decoding of JSON objects into typed values with Go-like error messages: unknown
/// fields and wrong JSON types are collected as `FieldError`s of type `.decode` naming the field.
/// `null` is accepted everywhere and means "absent" (as Go's encoding/json treats it).
struct StrictDecoder {
    /// Go type name prefix for type errors (`NetworkConfig`).
    let rootTypeName: String
    var errors: [FieldError] = []
    var unknown: [String] = []
    /// Paths of fields the raw input gave more than once (from the parser, see `NetworkConfig.decode`).
    var duplicates: [String] = []

    init(rootTypeName: String) { self.rootTypeName = rootTypeName }

    static func goJSONType(_ v: JSON) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "bool"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    mutating func typeError(_ path: FieldPath, _ value: JSON, goType: String) {
        let field = path.string.isEmpty ? rootTypeName : "\(rootTypeName).\(path.string)"
        let message = "json: cannot unmarshal \(Self.goJSONType(value)) into Go struct field \(field) of type \(goType)"
        errors.append(.decode(path, message))
    }

    /// Checks the keys of an object against the known ones, recording unknown ones.
    mutating func checkKeys(_ object: JSONObject, _ path: FieldPath, known: Set<String>) {
        for key in object.keys where !known.contains(key) {
            unknown.append(path.child(key).string)
        }
    }

    /// Same for a few keys: an array literal is a static constant and a linear scan of 2–4
    /// strings beats building and hashing a Set on every decode.
    mutating func checkKeys(_ object: JSONObject, _ path: FieldPath, known: [String]) {
        for key in object.keys where !known.contains(key) {
            unknown.append(path.child(key).string)
        }
    }

    mutating func object(_ value: JSON?, _ path: FieldPath, goType: String) -> JSONObject? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let o) = value else {
            typeError(path, value, goType: goType)
            return nil
        }
        return o
    }

    mutating func string(_ value: JSON?, _ path: FieldPath) -> String? {
        guard let value, !value.isNull else { return nil }
        guard case .string(let s) = value else {
            typeError(path, value, goType: "string")
            return nil
        }
        return s
    }

    mutating func bool(_ value: JSON?, _ path: FieldPath) -> Bool? {
        guard let value, !value.isNull else { return nil }
        guard case .bool(let b) = value else {
            typeError(path, value, goType: "bool")
            return nil
        }
        return b
    }

    mutating func enumValue<E: StringEnum>(_ value: JSON?, _ path: FieldPath, _: E.Type) -> E? {
        string(value, path).map { E(rawValue: $0) }
    }

    /// A simple `{enabled: bool}` object.
    mutating func enabledOnly(_ value: JSON?, _ path: FieldPath, goType: String) -> Bool? {
        guard let o = object(value, path, goType: goType) else { return nil }
        checkKeys(o, path, known: ["enabled"])
        return bool(o["enabled"], path.child("enabled")) ?? false
    }

    mutating func resourceList(_ value: JSON?, _ path: FieldPath) -> ResourceList? {
        guard let o = object(value, path, goType: "v1.ResourceList") else { return nil }
        var list = ResourceList()
        for (name, q) in o {
            if q.isNull { continue }
            switch q {
            case .string, .int, .double:
                do {
                    list.entries.append(.init(name: name, quantity: try Quantity(json: q)))
                } catch {
                    errors.append(.decode(path.child(name), "\(error.description)"))
                }
            default:
                typeError(path.child(name), q, goType: "resource.Quantity")
            }
        }
        return list
    }

    /// The final error list: unknown fields first, then duplicate fields (each once; a repeated
    /// unknown field is reported as unknown only, as Kubernetes' strict decoder does), one
    /// strict-decoding message each, then type errors.
    var all: [FieldError] {
        var out = unknown.map { FieldError.decode(FieldPath($0), "strict decoding error: unknown field \"\($0)\"") }
        var seen = Set(unknown)
        for path in duplicates where seen.insert(path).inserted {
            out.append(.decode(FieldPath(path), "strict decoding error: duplicate field \"\(path)\""))
        }
        return out + errors
    }
}

extension NetworkConfig {
    static let knownKeys: Set<String> = [
        "apiVersion", "kind", "backend", "ipam", "ipv4", "ipv6", "typha", "vethMTU", "ebpfDataplane", "overlay",
        "snatToUpstreamDNS", "autoScaling", "vxlan", "ipip", "ipAutodetectionMethod", "wireguardEncryption",
        "birdExporter", "multus", "serviceLoopPrevention",
    ]

    /// Checks `apiVersion`/`kind` of a provider-API object the way the reference's scheme-based
    /// decoder does: missing parts default to the target, anything else must match.
    static func checkTypeMeta(_ o: JSONObject, expectedKind: String, otherKinds: [String], into d: inout StrictDecoder) {
        let apiVersion = d.string(o["apiVersion"], "apiVersion") ?? ""
        let kind = d.string(o["kind"], "kind") ?? ""
        let effectiveKind = kind.isEmpty ? expectedKind : kind
        if !apiVersion.isEmpty && apiVersion != CalicoAPIGroup.apiVersion {
            d.errors.append(
                .decode(
                    "apiVersion",
                    "no kind \(goQuote(effectiveKind)) is registered for version \(goQuote(apiVersion)) in scheme \"calico.networking.extensions.gardener.cloud\" (expected apiVersion \(goQuote(CalicoAPIGroup.apiVersion)))"
                ))
        } else if effectiveKind != expectedKind {
            if otherKinds.contains(effectiveKind) {
                d.errors.append(.decode("kind", "converting (v1alpha1.\(effectiveKind)) to (v1alpha1.\(expectedKind)): unknown conversion"))
            } else {
                d.errors.append(
                    .decode(
                        "kind",
                        "no kind \(goQuote(effectiveKind)) is registered for version \(goQuote(CalicoAPIGroup.apiVersion)) in scheme \"calico.networking.extensions.gardener.cloud\" (expected kind \(goQuote(expectedKind)))"
                    ))
            }
        }
    }

    /// Decodes a `NetworkConfig` with the reference's strictness: unknown fields (case-sensitive),
    /// wrong JSON types and a wrong `apiVersion`/`kind` are errors naming the field; missing
    /// `apiVersion`/`kind` are fine. Paths in errors are relative to the config object.
    /// `duplicateFields` are the paths (relative to the config object) of keys the raw input gave
    /// twice, which the parsed `json` no longer shows (`JSON.parseReportingDuplicateKeys` finds them);
    /// each is an error, as in Kubernetes' strict decoding.
    public static func decode(_ json: JSON, duplicateFields: [String] = []) throws(FieldErrorList) -> NetworkConfig {
        var d = StrictDecoder(rootTypeName: "NetworkConfig")
        d.duplicates = duplicateFields
        guard case .object(let o) = json else {
            throw FieldErrorList([
                .decode("", "json: cannot unmarshal \(StrictDecoder.goJSONType(json)) into Go value of type v1alpha1.NetworkConfig")
            ])
        }
        d.checkKeys(o, "", known: knownKeys)
        checkTypeMeta(o, expectedKind: kind, otherKinds: [NetworkStatus.kind], into: &d)
        var c = NetworkConfig()
        c.backend = d.enumValue(o["backend"], "backend", Backend.self)
        if let i = d.object(o["ipam"], "ipam", goType: "v1alpha1.IPAM") {
            d.checkKeys(i, "ipam", known: ["type", "cidr"])
            c.ipam = IPAM(type: d.string(i["type"], "ipam.type") ?? "", cidr: d.string(i["cidr"], "ipam.cidr"))
        }
        if let i = d.object(o["ipv4"], "ipv4", goType: "v1alpha1.IPv4") {
            d.checkKeys(i, "ipv4", known: ["pool", "mode", "autoDetectionMethod"])
            c.ipv4 = IPv4(
                pool: d.enumValue(i["pool"], "ipv4.pool", Pool.self),
                mode: d.enumValue(i["mode"], "ipv4.mode", PoolMode.self),
                autoDetectionMethod: d.string(i["autoDetectionMethod"], "ipv4.autoDetectionMethod"))
        }
        if let i = d.object(o["ipv6"], "ipv6", goType: "v1alpha1.IPv6") {
            d.checkKeys(i, "ipv6", known: ["pool", "mode", "autoDetectionMethod", "sourceNATEnabled"])
            c.ipv6 = IPv6(
                pool: d.enumValue(i["pool"], "ipv6.pool", Pool.self),
                mode: d.enumValue(i["mode"], "ipv6.mode", PoolMode.self),
                autoDetectionMethod: d.string(i["autoDetectionMethod"], "ipv6.autoDetectionMethod"),
                sourceNATEnabled: d.bool(i["sourceNATEnabled"], "ipv6.sourceNATEnabled"))
        }
        c.typha = d.enabledOnly(o["typha"], "typha", goType: "v1alpha1.Typha").map { Typha(enabled: $0) }
        c.vethMTU = d.string(o["vethMTU"], "vethMTU")
        c.ebpfDataplane = d.enabledOnly(o["ebpfDataplane"], "ebpfDataplane", goType: "v1alpha1.EbpfDataplane").map { EbpfDataplane(enabled: $0) }
        if let i = d.object(o["overlay"], "overlay", goType: "v1alpha1.Overlay") {
            d.checkKeys(i, "overlay", known: ["enabled", "createPodRoutes"])
            c.overlay = Overlay(
                enabled: d.bool(i["enabled"], "overlay.enabled") ?? false,
                createPodRoutes: d.bool(i["createPodRoutes"], "overlay.createPodRoutes"))
        }
        c.snatToUpstreamDNS = d.enabledOnly(o["snatToUpstreamDNS"], "snatToUpstreamDNS", goType: "v1alpha1.SnatToUpstreamDNS").map {
            SnatToUpstreamDNS(enabled: $0)
        }
        if let i = d.object(o["autoScaling"], "autoScaling", goType: "v1alpha1.AutoScaling") {
            d.checkKeys(i, "autoScaling", known: ["mode", "resources"])
            var a = AutoScaling(mode: d.enumValue(i["mode"], "autoScaling.mode", AutoscalingMode.self) ?? "")
            if let r = d.object(i["resources"], "autoScaling.resources", goType: "v1alpha1.StaticResources") {
                d.checkKeys(r, "autoScaling.resources", known: ["node", "typha"])
                a.resources = StaticResources(
                    node: d.resourceList(r["node"], "autoScaling.resources.node"),
                    typha: d.resourceList(r["typha"], "autoScaling.resources.typha"))
            }
            c.autoScaling = a
        }
        c.vxlan = d.enabledOnly(o["vxlan"], "vxlan", goType: "v1alpha1.VXLAN").map { VXLAN(enabled: $0) }
        c.ipip = d.enumValue(o["ipip"], "ipip", PoolMode.self)
        c.ipAutodetectionMethod = d.string(o["ipAutodetectionMethod"], "ipAutodetectionMethod")
        c.wireguardEncryption = d.bool(o["wireguardEncryption"], "wireguardEncryption") ?? false
        c.birdExporter = d.enabledOnly(o["birdExporter"], "birdExporter", goType: "v1alpha1.BirdExporter").map { BirdExporter(enabled: $0) }
        if let i = d.object(o["multus"], "multus", goType: "v1alpha1.Multus") {
            d.checkKeys(i, "multus", known: ["enabled", "installCNIPlugins"])
            c.multus = Multus(
                enabled: d.bool(i["enabled"], "multus.enabled") ?? false,
                installCNIPlugins: d.bool(i["installCNIPlugins"], "multus.installCNIPlugins"))
        }
        c.serviceLoopPrevention = d.enumValue(o["serviceLoopPrevention"], "serviceLoopPrevention", ServiceLoopPrevention.self)
        let all = d.all
        if !all.isEmpty { throw FieldErrorList(all) }
        return c
    }

    /// Decodes raw bytes (JSON or YAML, as the universal decoder accepts both). Duplicate keys are
    /// rejected as the strict decoder does.
    public static func decode(bytes: [UInt8]) throws(FieldErrorList) -> NetworkConfig {
        let (value, duplicates) = try parseRaw(bytes)
        return try decode(value, duplicateFields: duplicates)
    }

    /// Decodes text (JSON or YAML).
    public static func decode(text: String) throws(FieldErrorList) -> NetworkConfig {
        try decode(bytes: Array(text.utf8))
    }

    /// Parses raw JSON/YAML bytes into a JSON value and the paths of keys given twice, reporting
    /// syntax errors (and, for YAML, a repeated key) as decode errors.
    static func parseRaw(_ bytes: [UInt8]) throws(FieldErrorList) -> (JSON, [String]) {
        let firstNonSpace = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if firstNonSpace == UInt8(ascii: "{") || firstNonSpace == UInt8(ascii: "[") {
            do {
                let (value, duplicates) = try JSON.parseReportingDuplicateKeys(bytes)
                return (value, duplicates.map(\.description))
            } catch {
                throw FieldErrorList([.decode("", "\(error)")])
            }
        }
        do {
            return (try JSON.parseYAML(String(decoding: bytes, as: UTF8.self)), [])
        } catch let error as YAMLConversionError where error.description.hasPrefix("duplicate field ") {
            throw FieldErrorList([.decode("", "strict decoding error: \(error)")])
        } catch {
            throw FieldErrorList([.decode("", "\(error)")])
        }
    }
}

extension NetworkStatus {
    /// Decodes a `NetworkStatus` strictly (only `apiVersion`/`kind` allowed).
    public static func decode(_ json: JSON) throws(FieldErrorList) -> NetworkStatus {
        var d = StrictDecoder(rootTypeName: "NetworkStatus")
        guard case .object(let o) = json else {
            throw FieldErrorList([
                .decode("", "json: cannot unmarshal \(StrictDecoder.goJSONType(json)) into Go value of type v1alpha1.NetworkStatus")
            ])
        }
        d.checkKeys(o, "", known: ["apiVersion", "kind"])
        NetworkConfig.checkTypeMeta(o, expectedKind: kind, otherKinds: [NetworkConfig.kind], into: &d)
        let all = d.all
        if !all.isEmpty { throw FieldErrorList(all) }
        return NetworkStatus()
    }
}
