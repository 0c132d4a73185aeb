import KubeCore
import Testing

@testable import CalicoAPI

@Suite struct DecodingTests {
    static let example = """
        apiVersion: calico.networking.extensions.gardener.cloud/v1alpha1
        kind: NetworkConfig
        ipam:
          type: host-local
          cidr: usePodCIDR
        vethMTU: "1440"
        typha:
          enabled: true
        overlay:
          enabled: false
          createPodRoutes: false
        snatToUpstreamDNS:
          enabled: true
        autoScaling:
          mode: vpa
          resources:
            node: {cpu: 100m, memory: 100Mi}
            typha: {cpu: 100m, memory: 100Mi}
        """

    @Test func decodesSpecExample() throws {
        let c = try NetworkConfig.decode(text: Self.example)
        #expect(c.ipam == IPAM(type: "host-local", cidr: "usePodCIDR"))
        #expect(c.vethMTU == "1440")
        #expect(c.typha?.enabled == true)
        #expect(c.overlay == Overlay(enabled: false, createPodRoutes: false))
        #expect(c.snatToUpstreamDNS?.enabled == true)
        #expect(c.autoScaling?.mode == .vpa)
        #expect(c.autoScaling?.resources?.node?["cpu"]?.canonical == "100m")
        #expect(c.autoScaling?.resources?.typha?["memory"]?.canonical == "100Mi")
        #expect(c.backend == nil)
        #expect(c.wireguardEncryption == false)
    }

    @Test func roundTripsEveryField() throws {
        let json: JSON = [
            "apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1", "kind": "NetworkConfig",
            "backend": "vxlan", "ipam": ["type": "", "cidr": "10.0.0.0/8"],
            "ipv4": ["pool": "vxlan", "mode": "Always", "autoDetectionMethod": "interface=eth0"],
            "ipv6": ["pool": "vxlan", "mode": "Never", "autoDetectionMethod": "first-found", "sourceNATEnabled": true],
            "typha": ["enabled": false], "vethMTU": "1400", "ebpfDataplane": ["enabled": true],
            "overlay": ["enabled": true, "createPodRoutes": true], "snatToUpstreamDNS": ["enabled": false],
            "autoScaling": ["mode": "static", "resources": ["node": ["cpu": "1", "memory": "128Mi"], "typha": ["cpu": "250m"]]],
            "vxlan": ["enabled": true], "ipip": "CrossSubnet", "ipAutodetectionMethod": "can-reach=8.8.8.8",
            "wireguardEncryption": true, "birdExporter": ["enabled": true], "multus": ["enabled": true, "installCNIPlugins": false],
            "serviceLoopPrevention": "Drop",
        ]
        let c = try NetworkConfig.decode(json)
        #expect(c.encode() == json)
        #expect(try NetworkConfig.decode(c.encode()) == c)
        #expect(c.ipAutodetectionMethod == "can-reach=8.8.8.8")
        #expect(c.ipv6?.sourceNATEnabled == true)
    }

    @Test func emptyObjectAndMissingTypeMeta() throws {
        let c = try NetworkConfig.decode(.object([:]))
        #expect(c == NetworkConfig())
        #expect(c.encode() == ["apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1", "kind": "NetworkConfig"])
        // Only apiVersion, only kind: fine.
        _ = try NetworkConfig.decode(["apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1"])
        _ = try NetworkConfig.decode(["kind": "NetworkConfig"])
    }

    @Test func emptyEnabledObjectsMeanDisabled() throws {
        let c = try NetworkConfig.decode(["typha": [:], "overlay": [:], "ebpfDataplane": [:], "autoScaling": [:]])
        #expect(c.typha == Typha(enabled: false))
        #expect(c.overlay == Overlay(enabled: false))
        #expect(c.ebpfDataplane?.enabled == false)
        #expect(c.autoScaling?.mode.rawValue == "")
        #expect(c.effectiveTyphaEnabled == false)
        #expect(NetworkConfig().effectiveTyphaEnabled == true)
    }

    @Test func nullMeansAbsent() throws {
        let c = try NetworkConfig.decode(["backend": nil, "ipam": nil, "typha": ["enabled": nil]])
        #expect(c.backend == nil)
        #expect(c.ipam == nil)
        #expect(c.typha == Typha(enabled: false))
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        var json: JSON
        var field: String
        var contains: String
        var testDescription: String { json.serializedString() }
    }

    @Test(arguments: [
        BadCase(json: ["foo": 1], field: "foo", contains: "strict decoding error: unknown field \"foo\""),
        BadCase(json: ["IPAM": ["type": "host-local"]], field: "IPAM", contains: "unknown field \"IPAM\""),
        BadCase(json: ["ipam": ["type": "host-local", "bar": true]], field: "ipam.bar", contains: "unknown field \"ipam.bar\""),
        BadCase(
            json: ["autoScaling": ["mode": "vpa", "resources": ["nodes": [:]]]], field: "autoScaling.resources.nodes", contains: "unknown field"),
        BadCase(
            json: ["vethMTU": 1440], field: "vethMTU", contains: "cannot unmarshal number into Go struct field NetworkConfig.vethMTU of type string"),
        BadCase(json: ["typha": true], field: "typha", contains: "cannot unmarshal bool"),
        BadCase(json: ["typha": ["enabled": "yes"]], field: "typha.enabled", contains: "of type bool"),
        BadCase(json: ["wireguardEncryption": "true"], field: "wireguardEncryption", contains: "of type bool"),
        BadCase(json: ["backend": 3], field: "backend", contains: "of type string"),
        BadCase(
            json: ["autoScaling": ["mode": "static", "resources": ["node": ["cpu": "abc"]]]], field: "autoScaling.resources.node.cpu",
            contains: "quantities must match"),
        BadCase(json: ["apiVersion": "foo/v1"], field: "apiVersion", contains: "no kind \"NetworkConfig\" is registered for version \"foo/v1\""),
        BadCase(
            json: ["apiVersion": "foo/v1"], field: "apiVersion",
            contains: "(expected apiVersion \"calico.networking.extensions.gardener.cloud/v1alpha1\")"),
        BadCase(json: ["kind": "NetworkStatus"], field: "kind", contains: "converting (v1alpha1.NetworkStatus) to (v1alpha1.NetworkConfig)"),
        BadCase(json: ["kind": "Foo"], field: "kind", contains: "no kind \"Foo\" is registered"),
        BadCase(json: "string", field: "", contains: "cannot unmarshal string"),
    ])
    func strictDecoding(_ c: BadCase) {
        do {
            _ = try NetworkConfig.decode(c.json)
            Issue.record("expected a decode error")
        } catch {
            #expect(error.errors.contains { $0.field == c.field && $0.type == .decode })
            #expect(error.description.contains(c.contains), "\(error.description)")
        }
    }

    @Test func collectsAllUnknownFields() {
        #expect(throws: FieldErrorList.self) { try NetworkConfig.decode(["a": 1, "b": 2]) }
        do { _ = try NetworkConfig.decode(["a": 1, "b": 2]) } catch { #expect(error.count == 2) }
    }

    @Test func duplicateJSONKeysRejected() {
        do {
            _ = try NetworkConfig.decode(text: #"{"backend":"bird","ipam":{"type":"a","type":"b"}}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("duplicate field \"ipam.type\""), "\(error)")
        }
        #expect((try? NetworkConfig.decode(text: #"{"ipv4":{"mode":"Always"},"ipv6":{"mode":"Never"}}"#)) != nil)
    }

    @Test func yamlAccepted() throws {
        let c = try NetworkConfig.decode(text: "backend: none\nipv4:\n  mode: Never\n")
        #expect(c.backend == Backend.none)
        #expect(c.ipv4?.mode == .never)
    }

    @Test func networkStatus() throws {
        let s = NetworkStatus().encode()
        #expect(
            s.serializedString(.init(sortedKeys: true))
                == #"{"apiVersion":"calico.networking.extensions.gardener.cloud/v1alpha1","kind":"NetworkStatus"}"#)
        _ = try NetworkStatus.decode(s)
        #expect(throws: FieldErrorList.self) { try NetworkStatus.decode(["kind": "NetworkStatus", "x": 1]) }
    }

    @Test func defaultingIsIdentity() throws {
        let c = try NetworkConfig.decode(["backend": "bird"])
        #expect(c.defaulted() == c)
        #expect(NetworkConfig().effectiveVethMTU == "0")
        #expect(NetworkConfig().effectiveAutoscalingMode == .clusterProportional)
    }
}

@Suite struct QuantityTests {
    @Test(arguments: [
        ("100m", "100m"), ("0.1", "100m"), ("1", "1"), ("1000", "1k"), ("128Mi", "128Mi"), ("1.5Gi", "1536Mi"),
        ("0", "0"), ("0Mi", "0"), ("-100m", "-100m"), ("1e3", "1e3"), ("0.5Ki", "512"), ("1024", "1024"), ("2048Ki", "2Mi"),
        ("1.5", "1500m"), ("100Mi", "100Mi"), ("0.0000000001", "1n"), ("12345", "12345"), ("1M", "1M"), ("+5", "5"),
    ])
    func canonical(_ input: String, _ expected: String) throws {
        #expect(try Quantity(parsing: input).canonical == expected)
    }

    @Test(arguments: ["", "abc", "1x", "--1", ".", "1e", "m"])
    func invalid(_ input: String) {
        #expect(throws: Quantity.ParseError.self) { try Quantity(parsing: input) }
    }

    @Test func jsonNumbers() throws {
        #expect(try Quantity(json: 0.1).canonical == "100m")
        #expect(try Quantity(json: 2).canonical == "2")
        #expect(try Quantity(json: "0").isZero)
        #expect(try Quantity(parsing: "-1").sign == -1)
        #expect(try Quantity(parsing: "1.5").isInteger == false)
        #expect(try Quantity(parsing: "2k").isInteger)
    }
}

@Suite struct FieldErrorFormattingTests {
    @Test func formats() {
        let e = FieldError.notSupported("spec.providerConfig.ipv4.pool", .string("foo"), ["ipip", "vxlan"])
        #expect(e.description == #"spec.providerConfig.ipv4.pool: Unsupported value: "foo": supported values: "ipip", "vxlan""#)
        let f = FieldError.forbidden("spec.kubernetes.kubeProxy.enabled", "nope")
        #expect(f.description == "spec.kubernetes.kubeProxy.enabled: Forbidden: nope")
        let r = FieldError.required("spec.networking.type", "networking type is required")
        #expect(r.description == "spec.networking.type: Required value: networking type is required")
        #expect(FieldError.invalid("a", .int(3), "x").description == "a: Invalid value: 3: x")
        #expect(FieldError.invalid("a", .string("q\"\n"), "x").description == #"a: Invalid value: "q\"\n": x"#)
        #expect(FieldErrorList([r]).description == r.description)
        #expect(FieldErrorList([r, f]).description == "[\(r), \(f)]")
        #expect(FieldPath("spec").child("a", "b").index(2).key("k").string == "spec.a.b[2][k]")
    }
}
