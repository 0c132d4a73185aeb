import KubeCore
import Testing

@testable import CalicoAPI

/// One table row: a provider config, the IP families, and the expected (type, path, detail-substring) list.
struct VCase: CustomTestStringConvertible, Sendable {
    var name: String
    var config: JSON
    var families: [String] = ["IPv4"]
    var expected: [(String, String)]  // (path, detail substring); all of type Invalid
    var testDescription: String { name }
    init(_ name: String, _ config: JSON, families: [String] = ["IPv4"], _ expected: [(String, String)]) {
        self.name = name
        self.config = config
        self.families = families
        self.expected = expected
    }
}

let root = "spec.providerConfig"

let validationCases: [VCase] = [
    // 1 backend
    VCase("backend valid", ["backend": "bird"], []),
    VCase("backend none", ["backend": "none"], []),
    VCase(
        "backend invalid", ["backend": "foo"],
        [("\(root).backend", #"unsupported value "foo" for backend, supported values are ["bird", "none", "vxlan"]"#)]),
    // 2 ipam.type
    VCase("ipam host-local", ["ipam": ["type": "host-local"]], []),
    VCase("ipam empty type", ["ipam": ["type": ""]], []),
    VCase(
        "ipam invalid type", ["ipam": ["type": "dhcp"]],
        [("\(root).ipam.type", #"unsupported value "dhcp" for type, supported values are ["calico-ipam", "host-local"]"#)]),
    // 3 calico-ipam + IPv6
    VCase("calico-ipam ipv4", ["ipam": ["type": "calico-ipam"]], []),
    VCase(
        "calico-ipam ipv6", ["ipam": ["type": "calico-ipam"]], families: ["IPv6"],
        [("\(root).ipam.type", #"IPAM type "calico-ipam" is only supported for IPv4 single-stack shoots, use "host-local" instead"#)]),
    VCase(
        "calico-ipam dual", ["ipam": ["type": "calico-ipam"]], families: ["IPv4", "IPv6"],
        [("\(root).ipam.type", "only supported for IPv4 single-stack")]),
    // 4 ipam.cidr
    VCase("cidr usePodCidr", ["ipam": ["type": "host-local", "cidr": "usePodCidr"]], []),
    VCase("cidr usePodCIDR", ["ipam": ["type": "host-local", "cidr": "usePodCIDR"]], []),
    VCase("cidr literal", ["ipam": ["type": "host-local", "cidr": "10.0.0.0/8"]], []),
    VCase("cidr v6 literal", ["ipam": ["type": "host-local", "cidr": "2001:db8::/64"]], []),
    VCase("cidr garbage", ["ipam": ["cidr": "foo"]], [("\(root).ipam.cidr", "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]),
    VCase("cidr leading zeros", ["ipam": ["cidr": "010.0.0.0/8"]], [("\(root).ipam.cidr", "must not have leading 0s in IP or prefix length")]),
    VCase("cidr prefix leading zero", ["ipam": ["cidr": "10.0.0.0/08"]], [("\(root).ipam.cidr", "must not have leading 0s")]),
    VCase("cidr mapped", ["ipam": ["cidr": "::ffff:10.0.0.0/104"]], [("\(root).ipam.cidr", "must not have an IPv4-mapped IPv6 address")]),
    VCase("cidr host bits", ["ipam": ["cidr": "10.0.0.1/8"]], [("\(root).ipam.cidr", "must not have bits set beyond the prefix length")]),
    VCase("cidr non canonical", ["ipam": ["cidr": "2001:DB8::/64"]], [("\(root).ipam.cidr", #"must be in canonical form ("2001:db8::/64")"#)]),
    // 5-8 ipv4
    VCase("ipv4 ok", ["ipv4": ["pool": "ipip", "mode": "CrossSubnet", "autoDetectionMethod": "interface=eth.*"]], []),
    VCase("ipv4 vxlan always", ["ipv4": ["pool": "vxlan", "mode": "Always"]], []),
    VCase(
        "ipv4 pool invalid", ["ipv4": ["pool": "gre"]],
        [("\(root).ipv4.pool", #"unsupported value "gre" for pool, supported values are ["ipip", "vxlan"]"#)]),
    VCase(
        "ipv4 mode invalid", ["ipv4": ["mode": "Sometimes"]],
        [("\(root).ipv4.mode", #"unsupported value "Sometimes" for mode, supported values are ["Always", "Never", "CrossSubnet", "Off"]"#)]),
    VCase(
        "ipv4 vxlan crosssubnet", ["ipv4": ["pool": "vxlan", "mode": "CrossSubnet"]],
        [("\(root).ipv4.mode", #"unsupported value "CrossSubnet" for mode with pool "vxlan", supported values are ["Always", "Never"]"#)]),
    VCase(
        "ipv4 vxlan bad mode twice", ["ipv4": ["pool": "vxlan", "mode": "Bad"]],
        [("\(root).ipv4.mode", "for mode, supported"), ("\(root).ipv4.mode", "with pool \"vxlan\"")]),
    VCase("ipv4 empty method not checked", ["ipv4": ["autoDetectionMethod": ""]], []),
    VCase(
        "ipv4 bad method", ["ipv4": ["autoDetectionMethod": "invalid-method"]],
        [("\(root).ipv4.autoDetectionMethod", #"invalid option "invalid-method""#)]),
    // 9-12 ipv6
    VCase("ipv6 ok", ["ipv6": ["pool": "vxlan", "mode": "Never", "sourceNATEnabled": true]], families: ["IPv6"], []),
    VCase("ipv6 ipip passes validation", ["ipv6": ["pool": "ipip", "mode": "Off"]], families: ["IPv6"], []),
    VCase("ipv6 pool invalid", ["ipv6": ["pool": "x"]], [("\(root).ipv6.pool", "for pool")]),
    VCase("ipv6 mode invalid", ["ipv6": ["mode": "x"]], [("\(root).ipv6.mode", "for mode, supported")]),
    VCase("ipv6 vxlan off", ["ipv6": ["pool": "vxlan", "mode": "Off"]], [("\(root).ipv6.mode", "with pool \"vxlan\"")]),
    VCase("ipv6 bad method", ["ipv6": ["autoDetectionMethod": "cidr="]], [("\(root).ipv6.autoDetectionMethod", "option cidr requires a parameter")]),
    // 13 vethMTU
    VCase("mtu ok", ["vethMTU": "1440"], []),
    VCase("mtu zero", ["vethMTU": "0"], []),
    VCase("mtu plus", ["vethMTU": "+1400"], []),
    VCase("mtu empty", ["vethMTU": ""], [("\(root).vethMTU", "MTU cannot be empty")]),
    VCase("mtu text", ["vethMTU": "abc"], [("\(root).vethMTU", #"invalid MTU: strconv.Atoi: parsing "abc": invalid syntax"#)]),
    VCase("mtu float", ["vethMTU": "14.5"], [("\(root).vethMTU", "invalid MTU")]),
    VCase("mtu huge", ["vethMTU": "99999999999999999999"], [("\(root).vethMTU", "value out of range")]),
    VCase("mtu negative", ["vethMTU": "-1"], [("\(root).vethMTU", "MTU must be a positive integer")]),
    // 14-16 autoScaling
    VCase("autoscaling ok", ["autoScaling": ["mode": "cluster-proportional"]], []),
    VCase(
        "autoscaling static", ["autoScaling": ["mode": "static", "resources": ["node": ["cpu": "100m", "memory": "1Gi"], "typha": ["cpu": 1]]]], []),
    VCase(
        "autoscaling empty mode", ["autoScaling": [:]],
        [("\(root).autoScaling.mode", #"unsupported value "" for mode, supported values are ["cluster-proportional", "vpa", "static"]"#)]),
    VCase("autoscaling bad mode", ["autoScaling": ["mode": "hpa"]], [("\(root).autoScaling.mode", "\"hpa\"")]),
    VCase(
        "resources zero cpu", ["autoScaling": ["mode": "vpa", "resources": ["node": ["cpu": "0"]]]],
        [("\(root).autoScaling.resources.node.cpu", "CPU resource must be specified and cannot be zero")]),
    VCase(
        "resources negative cpu", ["autoScaling": ["mode": "vpa", "resources": ["node": ["cpu": "-1"]]]],
        [
            ("\(root).autoScaling.resources.node.cpu", "CPU resource must be positive"),
            ("\(root).autoScaling.resources.node.cpu", "must be greater than or equal to 0"),
        ]),
    VCase(
        "resources zero memory", ["autoScaling": ["mode": "vpa", "resources": ["typha": ["memory": "0Mi"]]]],
        [("\(root).autoScaling.resources.typha.memory", "Memory resource must be specified and cannot be zero")]),
    VCase(
        "resources negative memory", ["autoScaling": ["mode": "vpa", "resources": ["typha": ["memory": "-1Mi"]]]],
        [
            ("\(root).autoScaling.resources.typha.memory", "Memory resource must be positive"),
            ("\(root).autoScaling.resources.typha.memory", "greater than or equal to 0"),
        ]),
    VCase(
        "resources unsupported", ["autoScaling": ["mode": "vpa", "resources": ["node": ["ephemeral-storage": "1Gi"]]]],
        [("\(root).autoScaling.resources.node.ephemeral-storage", "Unsupported resource: ephemeral-storage")]),
    VCase(
        "resources integer resource", ["autoScaling": ["mode": "vpa", "resources": ["node": ["pods": "1.5"]]]],
        [
            ("\(root).autoScaling.resources.node.pods", "Unsupported resource: pods"),
            ("\(root).autoScaling.resources.node.pods", "must be an integer"),
        ]),
    VCase(
        "resources extended", ["autoScaling": ["mode": "vpa", "resources": ["node": ["example.com/gpu": "500m"]]]],
        [
            ("\(root).autoScaling.resources.node.example.com/gpu", "Unsupported resource"),
            ("\(root).autoScaling.resources.node.example.com/gpu", "must be an integer"),
        ]),
    // 17 serviceLoopPrevention
    VCase("slp ok", ["serviceLoopPrevention": "Reject"], []),
    VCase(
        "slp invalid", ["serviceLoopPrevention": "drop"],
        [
            (
                "\(root).serviceLoopPrevention",
                #"unsupported value "drop" for serviceLoopPrevention, supported values are ["Disabled", "Drop", "Reject"]"#
            )
        ]),
    // 18 ipip
    VCase("ipip ok", ["ipip": "Always"], []),
    VCase(
        "ipip invalid", ["ipip": "always"],
        [("\(root).ipip", #"unsupported value "always" for ipip, supported values are ["Always", "Never", "CrossSubnet", "Off"]"#)]),
    // 19 ipAutodetectionMethod (capital D in the path)
    VCase("deprecated method ok", ["ipAutodetectionMethod": "first-found"], []),
    VCase("deprecated method empty", ["ipAutodetectionMethod": ""], [("\(root).ipAutoDetectionMethod", "method cannot be empty")]),
    VCase(
        "deprecated method bad", ["ipAutodetectionMethod": "first-found=eth0"],
        [("\(root).ipAutoDetectionMethod", "option first-found does not take a parameter")]),
    // not validated
    VCase(
        "unvalidated fields",
        [
            "typha": [:], "ebpfDataplane": ["enabled": true], "overlay": ["enabled": false], "vxlan": ["enabled": true], "wireguardEncryption": true,
            "birdExporter": ["enabled": true], "multus": ["enabled": true],
        ], []),
    // several errors collected
    VCase(
        "many", ["backend": "x", "ipip": "y", "vethMTU": ""], [("\(root).backend", "backend"), ("\(root).vethMTU", "MTU"), ("\(root).ipip", "ipip")]),
]

@Suite struct ValidationTests {
    @Test(arguments: validationCases)
    func networkConfigRule(_ c: VCase) throws {
        let config = try NetworkConfig.decode(c.config)
        let errs = config.validate(ipFamilies: c.families)
        #expect(errs.count == c.expected.count, "\(errs)")
        for (e, (path, detail)) in zip(errs, c.expected) {
            #expect(e.type == .invalid)
            #expect(e.field == path)
            #expect(e.detail.contains(detail), "\(e.detail)")
        }
    }

    @Test func admissionRootPath() throws {
        let config = try NetworkConfig.decode(["ipv4": ["pool": "foo"]])
        let errs = config.validate(root: CalicoValidation.admissionRoot, ipFamilies: ["IPv4"])
        #expect(errs.map(\.field) == ["spec.networking.providerConfig.ipv4.pool"])
        #expect(
            errs[0].description
                == #"spec.networking.providerConfig.ipv4.pool: Invalid value: "foo": unsupported value "foo" for pool, supported values are ["ipip", "vxlan"]"#
        )
    }

    @Test(arguments: [
        "interface=cali1234", "interface=^cali.*", "first-found", "cidr=192.168.0.0/16", "skip-interface=cali1234",
        "can-reach=1.1.1.1", "can-reach=example.com", "can-reach=2001:db8::1", "kubernetes-internal-ip",
        "interface=eth[0-9]+", "interface=(?i)ETH\\d{1,3}", "interface=ens|eth", "skip-interface=^(docker|veth).*",
        "cidr=2001:db8::/32", "interface=[[:alpha:]]+", "interface=\\p{L}+", "interface=a{2,}", "can-reach=1.1.1.01",
    ])
    func validAutodetection(_ m: String) {
        #expect(CalicoValidation.validateIPAutoDetectionMethod(m, "p").isEmpty)
    }

    @Test(arguments: [
        ("invalid-method", #"invalid option "invalid-method""#), ("invalid-format", "invalid option"),
        ("first-found=eth0", "option first-found does not take a parameter"), ("first-found=", "does not take a parameter"),
        ("kubernetes-internal-ip=1.1.1.1", "option kubernetes-internal-ip does not take a parameter"),
        ("interface=invalid[regex", "invalid regex for option interface: error parsing regexp: missing closing ]: `[regex`"),
        ("skip-interface=invalid[regex", "invalid regex for option skip-interface"),
        ("can-reach=invalid[regex", "parameter for can-reach must be a valid IP address or DNS name"),
        ("cidr=290.8.8.8/16", "must be a valid CIDR value"), ("cidr=10.0.0.0/8,10.1.0.0/16", "must be a valid CIDR value"),
        ("cidr", "option cidr requires a parameter"), ("interface", "option interface requires a parameter"),
        ("can-reach=", "option can-reach requires a parameter"), ("interface=a**", "invalid nested repetition operator: `**`"),
        ("interface=*a", "missing argument to repetition operator: `*`"), ("interface=(a", "missing closing ): `(a`"),
        ("interface=a)", "unexpected ): `a)`"), ("interface=\\8", "invalid escape sequence: `\\8`"),
        ("interface=[z-a]", "invalid character class range: `z-a`"), ("interface=a{1001}", "invalid repeat count: `{1001}`"),
        ("interface=(?x)", "invalid or unsupported Perl syntax"), ("interface=a\\", "trailing backslash at end of expression"),
        ("can-reach=Example.com", "parameter for can-reach"), ("can-reach=-a", "a lowercase RFC 1123 subdomain"),
    ])
    func invalidAutodetection(_ m: String, _ detail: String) {
        let errs = CalicoValidation.validateIPAutoDetectionMethod(m, "p")
        #expect(errs.count == 1)
        #expect(errs.first?.detail.contains(detail) == true, "\(errs)")
        #expect(errs.first?.field == "p")
    }

}

struct SCase: CustomTestStringConvertible, Sendable {
    var name: String
    var networking: Shoot.Networking
    var expected: [(FieldErrorType, String, String)]
    var testDescription: String { name }
}

@Suite struct ShootNetworkingTests {
    static let ok = Shoot.Networking(
        type: "calico", pods: "100.96.0.0/11", nodes: "10.250.0.0/16", services: "100.64.0.0/13", ipFamilies: ["IPv4"])

    static func with(_ f: (inout Shoot.Networking) -> Void) -> Shoot.Networking {
        var n = ok
        f(&n)
        return n
    }

    static let cases: [SCase] = [
        SCase(name: "valid", networking: ok, expected: []),
        SCase(name: "dual", networking: with { $0.ipFamilies = ["IPv6", "IPv4"] }, expected: []),
        SCase(
            name: "type missing", networking: with { $0.type = nil }, expected: [(.required, "spec.networking.type", "networking type is required")]),
        SCase(
            name: "type other", networking: with { $0.type = "cilium" },
            expected: [(.invalid, "spec.networking.type", #"networking type "cilium" is not supported"#)]),
        SCase(
            name: "pods", networking: with { $0.pods = "100.96.0.0" },
            expected: [(.invalid, "spec.networking.pods", #"pods is not a valid CIDR: "100.96.0.0""#)]),
        SCase(
            name: "nodes", networking: with { $0.nodes = "010.250.0.0/16" },
            expected: [(.invalid, "spec.networking.nodes", "nodes is not a valid CIDR")]),
        SCase(
            name: "services", networking: with { $0.services = "x" },
            expected: [(.invalid, "spec.networking.services", "services is not a valid CIDR")]),
        SCase(name: "host bits ok", networking: with { $0.pods = "100.96.0.1/11" }, expected: []),
        SCase(
            name: "family unknown", networking: with { $0.ipFamilies = ["IPv5"] },
            expected: [(.invalid, "spec.networking.ipFamilies", #"ipFamilies ([IPv5]) must be a subset of ["IPv4", "IPv6"]"#)]),
        SCase(
            name: "three", networking: with { $0.ipFamilies = ["foo", "bar", "baz"] },
            expected: [
                (.invalid, "spec.networking.ipFamilies", "must be a subset"),
                (.invalid, "spec.networking.ipFamilies", "cannot have more than two entries"),
            ]),
        SCase(
            name: "dup", networking: with { $0.ipFamilies = ["IPv4", "IPv4"] },
            expected: [(.invalid, "spec.networking.ipFamilies", "ipFamilies ([IPv4 IPv4]) cannot have duplicate entries")]),
    ]

    @Test(arguments: cases)
    func rule(_ c: SCase) {
        let errs = CalicoValidation.validateShootNetworking(c.networking)
        #expect(errs.count == c.expected.count, "\(errs)")
        for (e, (t, path, detail)) in zip(errs, c.expected) {
            #expect(e.type == t)
            #expect(e.field == path)
            #expect(e.detail.contains(detail), "\(e.detail)")
        }
    }

    static func shoot(_ networking: JSON?, kubeProxyEnabled: Bool? = nil, workers: Int = 1) -> JSON {
        var s: JSON = [
            "apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot", "metadata": ["name": "s", "namespace": "garden-p"],
            "spec": [
                "kubernetes": ["version": "1.33.2"],
                "provider": ["type": "local", "workers": .array(Array(repeating: ["name": "w"], count: workers))],
            ],
        ]
        if let networking { s[path: "spec", "networking"] = networking }
        if let kubeProxyEnabled { s[path: "spec", "kubernetes", "kubeProxy"] = ["enabled": .bool(kubeProxyEnabled)] }
        return s
    }

    @Test func shootOutcomes() throws {
        let net: JSON = ["type": "calico", "pods": "100.96.0.0/11", "ipFamilies": ["IPv4"]]
        #expect(CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(net))) == .valid)
        #expect(CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(nil))) == .skipped(reason: "shoot does not use calico networking"))
        #expect(
            CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(["type": "cilium"])))
                == .skipped(reason: "shoot does not use calico networking"))
        #expect(CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(net, workers: 0))) == .skipped(reason: "workerless shoot"))
        // kube-proxy disabled without eBPF → Forbidden; with eBPF → fine.
        guard case .invalid(let errs) = CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(net, kubeProxyEnabled: false))) else {
            Issue.record("expected invalid")
            return
        }
        #expect(
            errs.description
                == "spec.kubernetes.kubeProxy.enabled: Forbidden: Disabling kube-proxy is forbidden in conjunction with calico without running in ebpf dataplane"
        )
        var withEBPF = net
        withEBPF["providerConfig"] = ["ebpfDataplane": ["enabled": true]]
        #expect(CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(withEBPF, kubeProxyEnabled: false))) == .valid)
        #expect(CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(withEBPF, kubeProxyEnabled: true))) == .valid)
        // Strict providerConfig decoding inside the lenient shoot.
        var unknown = net
        unknown["providerConfig"] = ["foo": 1]
        guard case .invalid(let e2) = CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(unknown))) else {
            Issue.record("expected invalid")
            return
        }
        #expect(e2.description.contains("unknown field \"foo\""))
        // Multiple providerConfig errors are all listed.
        var multi = net
        multi["providerConfig"] = ["backend": "x", "ipv4": ["pool": "y"]]
        guard case .invalid(let e3) = CalicoValidation.validateShoot(try Shoot.decode(Self.shoot(multi))) else {
            Issue.record("expected invalid")
            return
        }
        #expect(e3.errors.map(\.field) == ["spec.networking.providerConfig.backend", "spec.networking.providerConfig.ipv4.pool"])
    }

    @Test func shootViewFields() throws {
        let s: JSON = [
            "metadata": ["name": "a", "annotations": ["confirmation.gardener.cloud/force-deletion": "T"], "unknown": 1],
            "spec": [
                "kubernetes": [
                    "version": "1.31.1", "kubeProxy": ["enabled": false, "mode": "IPVS"],
                    "kubeAPIServer": [
                        "featureGates": ["MutatingAdmissionPolicy": true], "runtimeConfig": ["admissionregistration.k8s.io/v1beta1": true],
                    ],
                    "verticalPodAutoscaler": ["enabled": true],
                ],
                "networking": ["type": "calico", "pods": "10.0.0.0/16", "services": "10.1.0.0/16", "ipFamilies": ["IPv4", "IPv6"]],
                "hibernation": ["enabled": true],
            ],
            "status": [
                "hibernated": false, "technicalID": "shoot--p--a",
                "networking": ["pods": ["10.0.0.0/16", "fd00::/48"], "nodes": ["10.250.0.0/16"]],
                "constraints": [["type": "DualStackNodesMigrationReady", "status": "True", "reason": "x"]],
                "lastOperation": ["type": "Reconcile", "state": "Failed"],
            ],
        ]
        let v = try Shoot.decode(s)
        #expect(v.kubernetesVersion == "1.31.1")
        #expect(v.kubeProxy == .init(enabled: false, mode: "IPVS"))
        #expect(v.kubeProxyEnabled == false)
        #expect(v.kubeAPIServerFeatureGate("MutatingAdmissionPolicy") == true)
        #expect(v.kubeAPIServerRuntimeConfig("admissionregistration.k8s.io/v1beta1") == true)
        #expect(v.wantsVerticalPodAutoscaler)
        #expect(v.needsForceDeletion)
        #expect(v.isWorkerless)
        #expect(v.isHibernatingOrWakingUp && !v.isHibernated)
        #expect(v.isFailed && !v.isCreationInProcess)
        #expect(v.podNetworks == ["10.0.0.0/16", "fd00::/48"])
        #expect(v.nodeNetworks == ["10.250.0.0/16"])
        #expect(v.constraint("DualStackNodesMigrationReady")?.status == "True")
        #expect(v.networking?.effectiveIPFamilies == ["IPv4", "IPv6"])
        #expect(v.technicalID == "shoot--p--a")
        #expect(throws: FieldErrorList.self) { try Shoot.decode(["spec": ["networking": "calico"]]) }
        #expect(throws: FieldErrorList.self) { try Shoot.decode([1, 2]) }
    }
}

@Suite struct FeatureGateTests {
    @Test func defaultsAndParsing() throws {
        let g = FeatureGates()
        #expect(!g.nonPrivilegedCalicoNode && !g.seamlessOverlaySwitch)
        var h = FeatureGates()
        try h.set("NonPrivilegedCalicoNode=true, SeamlessOverlaySwitch=false")
        #expect(h.nonPrivilegedCalicoNode && !h.seamlessOverlaySwitch)
        #expect(try FeatureGates.parse("A=true,B=false") == ["A": true, "B": false])
        #expect(try FeatureGates.parse("") == [:])
    }

    @Test func errors() {
        var g = FeatureGates()
        #expect(throws: FeatureGates.Error("unrecognized feature gate: Foo")) { try g.set("Foo=true") }
        #expect(throws: FeatureGates.Error("missing bool value for A")) { try FeatureGates.parse("A") }
        #expect(throws: FeatureGates.Error.self) { try FeatureGates.parse("A=maybe") }
        // Nothing applied on error.
        #expect(throws: FeatureGates.Error.self) { try g.set(from: ["NonPrivilegedCalicoNode": true, "Zzz": true]) }
        #expect(!g.nonPrivilegedCalicoNode)
    }

    @Test func controllerConfiguration() throws {
        let text = """
            apiVersion: calico.networking.extensions.config.gardener.cloud/v1alpha1
            kind: ControllerConfiguration
            clientConnection:
              acceptContentTypes: application/json
              contentType: application/json
              qps: 100
              burst: 130
            featureGates:
              SeamlessOverlaySwitch: true
            unknownField: ignored
            """
        let c = try ControllerConfiguration.decode(text: text)
        #expect(c.clientConnection == .init(acceptContentTypes: "application/json", contentType: "application/json", qps: 100, burst: 130))
        #expect(try c.featureGateSet().seamlessOverlaySwitch)
        #expect(try ControllerConfiguration.decode(text: "") == ControllerConfiguration())
        #expect(throws: ControllerConfiguration.LoadError.self) { try ControllerConfiguration.decode(text: "featureGates: {}") }
        #expect(throws: ControllerConfiguration.LoadError.self) { try ControllerConfiguration.decode(text: "apiVersion: v1\nkind: ConfigMap") }
        #expect(throws: ControllerConfiguration.LoadError("config file path not set")) { try ControllerConfiguration.load(path: "") }
        #expect(throws: ControllerConfiguration.LoadError.self) { try ControllerConfiguration.load(path: "/nonexistent/file") }
        let bad = ControllerConfiguration(featureGates: ["Nope": true])
        #expect(throws: ControllerConfiguration.LoadError("error setting feature gates: unrecognized feature gate: Nope")) {
            try bad.featureGateSet()
        }
    }
}
