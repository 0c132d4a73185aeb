import CalicoAPI
import CalicoManifests
import KubeCore

/// The warnings the webhook adds to an allowed Shoot (kubectl prints them as `Warning: ...`): the
/// `dataplane` / `outage-risk` changes an UPDATE would make (from `Plan`), and the known pitfalls of a
/// configuration (docs/usage.md, "Admission warnings"). Warnings never change the decision.
public enum AdmissionWarnings {
    /// kube-apiserver cuts each warning to 256 characters once all warnings of a response pass 4 KiB
    /// (and webhook authors are asked to stay near 120); ours are cut here, so none is cut mid-word there.
    public static let maxLength = 256

    /// The warnings for a Shoot the webhook validated and allows. `old` is the previous Shoot of an
    /// UPDATE (nil on CREATE); the plan is computed only when its networking differs from `shoot`'s.
    public static func warnings(shoot: Shoot, old: JSON?) -> [String] {
        var out: [String] = []
        func add(_ text: String) {
            let line = text.count > maxLength ? String(text.prefix(maxLength - 3)) + "..." : text
            if !out.contains(line) { out.append(line) }
        }
        if let old, networkingChanged(old: old, new: shoot.raw) {
            for line in planWarnings(old: old, new: shoot.raw) { add(line) }
        }
        for line in pitfalls(shoot) { add(line) }
        return out
    }

    /// Whether the fields a plan depends on differ (networking and kube-proxy); an UPDATE that leaves
    /// them alone costs no render.
    static func networkingChanged(old: JSON, new: JSON) -> Bool {
        old[path: "spec", "networking"] != new[path: "spec", "networking"]
            || old[path: "spec", "kubernetes", "kubeProxy"] != new[path: "spec", "kubernetes", "kubeProxy"]
    }

    /// One line per `dataplane` or `outage-risk` impact of changing `old` into `new` (none when either
    /// side cannot be planned: the decision has already said what is wrong with it). Only the chart
    /// values of both sides are computed, not the manifests (see `Plan.impacts`).
    static func planWarnings(old: JSON, new: JSON) -> [String] {
        guard let from = try? Plan.Side(shoot: old), let to = try? Plan.Side(shoot: new),
            let impacts = try? Plan.impacts(from: from, to: to, atLeast: .dataplane, featureGates: FeatureGates())
        else { return [] }
        return impacts.map {
            "\($0.disruption) change: \($0.change.replacingArrows): \($0.reason) Check it with `plan` first (docs/usage.md)."
        }
    }

    /// The documented pitfalls of the Shoot's provider config.
    static func pitfalls(_ shoot: Shoot) -> [String] {
        guard let raw = shoot.networking?.providerConfig, case .object(let pc) = raw,
            let config = try? NetworkConfig.decode(raw)
        else { return [] }
        var out: [String] = []
        let overlayOff = config.overlay?.enabled == false
        if overlayOff, shoot.raw[path: "spec", "systemComponents", "nodeLocalDNS", "enabled"]?.boolValue == true,
            config.snatToUpstreamDNS?.enabled ?? true
        {
            out.append(
                "overlay off with NodeLocalDNS and snatToUpstreamDNS: DNS reaches the upstream servers from the node's IP, so network policies cannot block pods' DNS to the cluster DNS."
            )
        }
        if case .object(let typha)? = pc["typha"], typha["enabled"] == nil {
            out.append("typha: {} disables Typha (enabled defaults to false); write typha: {enabled: true} to keep it.")
        }
        if config.autoScaling?.mode.rawValue == "vpa" && !shoot.wantsVerticalPodAutoscaler {
            out.append(
                "autoScaling.mode vpa: the shoot does not enable spec.kubernetes.verticalPodAutoscaler, so calico-node and Typha are scaled cluster-proportionally."
            )
        }
        if config.ebpfEnabled && shoot.providerType == "azure" {
            out.append(
                "eBPF on Azure: Felix also attaches to accelerated-networking interfaces (enP...); set bpfDataIfacePattern in FelixConfiguration default without them (docs/usage.md)."
            )
        }
        if config.ipip != nil {
            out.append("ipip is deprecated and ignored (validated only); use ipv4.mode.")
        }
        if config.ipAutodetectionMethod != nil {
            out.append("ipAutodetectionMethod is deprecated and ignored (validated only); use ipv4.autoDetectionMethod.")
        }
        return out
    }
}

extension String {
    /// ASCII arrows: warnings travel in HTTP `Warning` headers, where kube-apiserver escapes other text.
    fileprivate var replacingArrows: String {
        var out = ""
        for c in self { if c == "→" { out += "->" } else { out.append(c) } }
        return out
    }
}
