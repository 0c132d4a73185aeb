import CalicoAPI
import KubeCore
import Testing

@testable import AdmissionCalico

/// Admission warnings (docs/usage.md, "Admission warnings") and strict duplicate-field decoding of the
/// Shoot's provider config: warnings never change the decision.
@Suite struct AdmissionWarningsTests {
    static func shoot(_ providerConfig: JSON?, edit: (inout JSON) -> Void = { _ in }) -> JSON {
        var s = Fixtures.shoot(providerConfig: providerConfig)
        edit(&s)
        return s
    }

    static func handle(_ shoot: JSON, old: JSON? = nil) -> AdmissionResult {
        AdmissionReviewHandler.handle(
            body: Fixtures.review(shoot, operation: old == nil ? "CREATE" : "UPDATE", oldObject: old).serialized())
    }

    /// The decision is the plain allow it was before warnings existed; the warnings are one short
    /// ASCII line each, without duplicates, also in the body.
    static func expectDecisionUnchanged(_ r: AdmissionResult) {
        #expect(r.outcome == .allowed)
        #expect(r.body[path: "response", "allowed"] == true)
        #expect(r.body[path: "response", "status"] == ["metadata": [:], "code": 200])
        for w in r.warnings {
            #expect(w.count <= AdmissionWarnings.maxLength)
            #expect(!w.contains("\n"))
            let ascii = w.unicodeScalars.allSatisfy { $0.isASCII }
            #expect(ascii, "\(w)")
        }
        #expect(Set(r.warnings).count == r.warnings.count)
        #expect(r.body[path: "response", "warnings"] == (r.warnings.isEmpty ? nil : .array(r.warnings.map { .string($0) })))
    }

    static let overlayOn: JSON = ["overlay": ["enabled": true]]
    static let overlayOff: JSON = ["overlay": ["enabled": false]]

    @Test func plainShootHasNoWarnings() {
        let r = Self.handle(Self.shoot(["backend": "bird"]))
        #expect(r.outcome == .allowed)
        #expect(r.warnings.isEmpty)
        #expect(r.body[path: "response", "warnings"] == nil)
    }

    @Test func overlaySwitchOnUpdateWarnsOutageRisk() {
        let r = Self.handle(Self.shoot(Self.overlayOff), old: Self.shoot(Self.overlayOn))
        #expect(r.outcome == .allowed)
        Self.expectDecisionUnchanged(r)
        #expect(r.warnings.contains { $0.hasPrefix("outage-risk change: overlay IP-in-IP -> off: ") }, "\(r.warnings)")
        // The same change on CREATE is not a change of a running cluster.
        #expect(!Self.handle(Self.shoot(Self.overlayOff)).warnings.contains { $0.contains("change:") })
    }

    @Test func encapsulationAndEBPFChangesWarnDataplane() {
        let vxlan = Self.handle(
            Self.shoot(["ipv4": ["pool": "vxlan", "mode": "Always"]]), old: Self.shoot(["ipv4": ["pool": "ipip", "mode": "Always"]]))
        #expect(vxlan.warnings.contains { $0.hasPrefix("dataplane change: encapsulation IP-in-IP -> VXLAN: ") }, "\(vxlan.warnings)")
        let ebpf = Self.handle(Self.shoot(["ebpfDataplane": ["enabled": true]]), old: Self.shoot(["ebpfDataplane": ["enabled": false]]))
        #expect(ebpf.warnings.contains { $0.hasPrefix("dataplane change: eBPF dataplane off -> on: ") }, "\(ebpf.warnings)")
        Self.expectDecisionUnchanged(ebpf)
    }

    @Test func restartOnlyAndUnchangedUpdatesDoNotWarn() {
        let mtu = Self.handle(Self.shoot(["vethMTU": "1400"]), old: Self.shoot(["vethMTU": "1440"]))
        #expect(mtu.outcome == .allowed)
        #expect(mtu.warnings.isEmpty, "\(mtu.warnings)")
        // Only labels differ: no plan is computed (and nothing to warn about).
        let same = Self.handle(Self.shoot(["backend": "bird"]) { $0[path: "metadata", "labels", "x"] = "y" }, old: Self.shoot(["backend": "bird"]))
        #expect(same.warnings.isEmpty)
        #expect(!AdmissionWarnings.networkingChanged(old: Self.shoot(["backend": "bird"]), new: Self.shoot(["backend": "bird"])))
    }

    @Test func nodeLocalDNSWithoutOverlayAndSNATWarns() {
        func shoot(_ pc: JSON) -> JSON {
            Self.shoot(pc) { $0[path: "spec", "systemComponents"] = ["nodeLocalDNS": ["enabled": true]] }
        }
        let r = Self.handle(shoot(Self.overlayOff))
        Self.expectDecisionUnchanged(r)
        #expect(r.warnings.contains { $0.hasPrefix("overlay off with NodeLocalDNS and snatToUpstreamDNS: ") }, "\(r.warnings)")
        #expect(Self.handle(shoot(["overlay": ["enabled": false], "snatToUpstreamDNS": ["enabled": false]])).warnings.isEmpty)
        #expect(Self.handle(shoot(Self.overlayOn)).warnings.isEmpty)
        #expect(Self.handle(Self.shoot(Self.overlayOff)).warnings.isEmpty)
    }

    @Test func emptyTyphaWarns() {
        let r = Self.handle(Self.shoot(["typha": [:]]))
        Self.expectDecisionUnchanged(r)
        #expect(r.warnings == ["typha: {} disables Typha (enabled defaults to false); write typha: {enabled: true} to keep it."])
        #expect(Self.handle(Self.shoot(["typha": ["enabled": false]])).warnings.isEmpty)
        #expect(Self.handle(Self.shoot(["typha": ["enabled": true]])).warnings.isEmpty)
    }

    @Test func vpaWithoutShootVPAWarns() {
        let r = Self.handle(Self.shoot(["autoScaling": ["mode": "vpa"]]))
        Self.expectDecisionUnchanged(r)
        #expect(r.warnings.count == 1 && r.warnings[0].contains("cluster-proportionally"), "\(r.warnings)")
        let withVPA = Self.handle(
            Self.shoot(["autoScaling": ["mode": "vpa"]]) { $0[path: "spec", "kubernetes", "verticalPodAutoscaler"] = ["enabled": true] })
        #expect(withVPA.warnings.isEmpty)
    }

    @Test func eBPFOnAzureNamesTheFelixRemedy() {
        let r = Self.handle(Self.shoot(["ebpfDataplane": ["enabled": true]]) { $0[path: "spec", "provider", "type"] = "azure" })
        Self.expectDecisionUnchanged(r)
        #expect(r.warnings.count == 1 && r.warnings[0].contains("bpfDataIfacePattern") && r.warnings[0].contains("FelixConfiguration"))
        #expect(Self.handle(Self.shoot(["ebpfDataplane": ["enabled": true]])).warnings.isEmpty)
    }

    @Test func deprecatedFieldsWarn() {
        let r = Self.handle(Self.shoot(["ipip": "Always", "ipAutodetectionMethod": "first-found"]))
        Self.expectDecisionUnchanged(r)
        #expect(
            r.warnings == [
                "ipip is deprecated and ignored (validated only); use ipv4.mode.",
                "ipAutodetectionMethod is deprecated and ignored (validated only); use ipv4.autoDetectionMethod.",
            ])
    }

    @Test func deniedShootsStayDeniedExactlyAsBefore() {
        // A pitfall in an invalid config: the denial is unchanged and carries no warnings.
        let r = Self.handle(Self.shoot(["typha": [:], "backend": "x"]))
        #expect(r.outcome == .denied)
        #expect(r.warnings.isEmpty && r.body[path: "response", "warnings"] == nil)
        #expect(
            r.message
                == "spec.networking.providerConfig.backend: Invalid value: \"x\": unsupported value \"x\" for backend, supported values are [\"bird\", \"none\", \"vxlan\"]"
        )
    }

    // MARK: Duplicate fields

    static func rawReview(providerConfig: String, operation: String = "CREATE") -> [UInt8] {
        let shoot = Fixtures.shoot(providerConfig: ["__PC__": true]).serializedString()
        let review = Fixtures.review(.string("__SHOOT__"), operation: operation).serializedString()
        let text = review.replacingOccurrences(of: "\"__SHOOT__\"", with: shoot)
            .replacingOccurrences(of: "{\"__PC__\":true}", with: providerConfig)
        return Array(text.utf8)
    }

    @Test func duplicateProviderConfigFieldIsDenied() {
        let r = AdmissionReviewHandler.handle(body: Self.rawReview(providerConfig: #"{"backend":"bird","backend":"none"}"#))
        #expect(r.outcome == .denied)
        #expect(r.message == "strict decoding error: duplicate field \"backend\"")
        let nested = AdmissionReviewHandler.handle(
            body: Self.rawReview(providerConfig: #"{"ipam":{"type":"host-local","type":"host-local"},"typha":{"enabled":true}}"#))
        #expect(nested.message == "strict decoding error: duplicate field \"ipam.type\"")
        // A repeated unknown field is reported once, as unknown.
        let unknown = AdmissionReviewHandler.handle(body: Self.rawReview(providerConfig: #"{"foo":1,"foo":2}"#))
        #expect(unknown.message == "strict decoding error: unknown field \"foo\"")
    }

    @Test func duplicatesOutsideTheProviderConfigAreIgnoredAsByGo() {
        // Go decodes the Shoot itself leniently (the last value wins); only the provider config is strict.
        var text = String(decoding: Self.rawReview(providerConfig: #"{"backend":"bird"}"#), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"region\":\"local\"", with: "\"region\":\"a\",\"region\":\"local\"")
        #expect(text.contains("\"region\":\"a\",\"region\":\"local\""))
        let r = AdmissionReviewHandler.handle(body: Array(text.utf8))
        #expect(r.outcome == .allowed)
    }

    // MARK: Over HTTPS

    @Test func warningsAndDuplicateDenialOverHTTPS() async throws {
        try await withWebhookServer { server, certs, _ in
            func post(_ body: [UInt8]) async throws -> JSON {
                let r = try await TestHTTPSClient.request(port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate", body: body)
                #expect(r.status == 200)
                return try JSON.parse(r.body)
            }
            let cases: [(JSON, JSON?, String)] = [
                (Self.shoot(Self.overlayOff), Self.shoot(Self.overlayOn), "outage-risk change: overlay IP-in-IP -> off: "),
                (Self.shoot(["ebpfDataplane": ["enabled": true]]), Self.shoot([:]), "dataplane change: eBPF dataplane off -> on: "),
                (Self.shoot(["typha": [:]]), nil, "typha: {} disables Typha"),
                (Self.shoot(["autoScaling": ["mode": "vpa"]]), nil, "autoScaling.mode vpa: "),
                (
                    Self.shoot(Self.overlayOff) { $0[path: "spec", "systemComponents"] = ["nodeLocalDNS": ["enabled": true]] }, nil,
                    "overlay off with NodeLocalDNS"
                ),
                (Self.shoot(["ebpfDataplane": ["enabled": true]]) { $0[path: "spec", "provider", "type"] = "azure" }, nil, "eBPF on Azure: "),
                (Self.shoot(["ipip": "Always"]), nil, "ipip is deprecated"),
                (Self.shoot(["ipAutodetectionMethod": "first-found"]), nil, "ipAutodetectionMethod is deprecated"),
            ]
            for (shoot, old, prefix) in cases {
                let review = Fixtures.review(shoot, operation: old == nil ? "CREATE" : "UPDATE", oldObject: old)
                let body = try await post(review.serialized())
                #expect(body[path: "response", "allowed"] == true)
                #expect(body[path: "response", "status"] == ["metadata": [:], "code": 200])
                let warnings = body[path: "response", "warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(warnings.contains { $0.hasPrefix(prefix) && $0.count <= AdmissionWarnings.maxLength }, "\(prefix): \(warnings)")
            }
            let dup = try await post(Self.rawReview(providerConfig: #"{"backend":"bird","ipam":{"type":"host-local","type":"host-local"}}"#))
            #expect(dup[path: "response", "allowed"] == false)
            #expect(dup[path: "response", "status", "code"] == 403)
            #expect(dup[path: "response", "status", "message"] == "strict decoding error: duplicate field \"ipam.type\"")
            #expect(dup[path: "response", "warnings"] == nil)
        }
    }
}
