import CalicoAPI
import KubeCore

/// What applying a new Network (or Shoot) would change in the shoot, computed from two renders without
/// any API server: the object diff, the workloads that roll, a disruption class per change and the
/// preconditions that are not met (docs/usage.md, "Planning a change").
public struct Plan: Sendable {
    /// How disruptive a change is, ordered from harmless to dangerous.
    public enum Disruption: Int, Sendable, Comparable, CustomStringConvertible {
        /// Nothing running notices the change.
        case none
        /// Pods restart (rolling) or need a restart for the change to take effect.
        case restart
        /// Routes or encapsulation are reprogrammed on every node.
        case dataplane
        /// Cross-node pod traffic may fail while the change rolls out.
        case outageRisk

        /// Orders by `rawValue`.
        public static func < (a: Disruption, b: Disruption) -> Bool { a.rawValue < b.rawValue }

        /// The name shown in text and JSON output.
        public var description: String {
            switch self {
            case .none: "none"
            case .restart: "restart"
            case .dataplane: "dataplane"
            case .outageRisk: "outage-risk"
            }
        }
    }

    /// An object's identity in the diff.
    public struct ObjectKey: Sendable, Hashable, CustomStringConvertible {
        /// The object's apiVersion.
        public var apiVersion: String
        /// The object's kind.
        public var kind: String
        /// The namespace; empty for cluster-scoped objects.
        public var namespace: String
        /// The object's name.
        public var name: String

        /// `apiVersion kind namespace/name`.
        public var description: String {
            "\(apiVersion) \(kind) \(namespace.isEmpty ? "" : namespace + "/")\(name)"
        }
    }

    /// One changed field: a JSON path with the old and new value (nil when absent on that side).
    public struct FieldChange: Sendable, Equatable {
        /// Dotted path with `[i]` or `[name=x]` array steps.
        public var path: String
        /// The value before; nil when the field is added.
        public var old: JSON?
        /// The value after; nil when the field is removed.
        public var new: JSON?
    }

    /// One object of the diff.
    public struct ObjectChange: Sendable {
        /// How the object changes.
        public enum Action: String, Sendable { case added, removed, changed }
        /// The object.
        public var key: ObjectKey
        /// Added, removed or changed.
        public var action: Action
        /// The changed fields (changed objects only).
        public var fields: [FieldChange]
        /// True when only `checksum/*` annotations changed (the content they hash changed elsewhere).
        public var checksumOnly: Bool
    }

    /// A workload whose pods are replaced.
    public struct Rollout: Sendable, Equatable {
        /// `DaemonSet/calico-node` style name.
        public var workload: String
        /// How the pods are replaced, in words (e.g. `2 nodes at a time`).
        public var how: String
    }

    /// A classified change of the configuration.
    public struct Impact: Sendable, Equatable {
        /// The disruption class.
        public var disruption: Disruption
        /// What changes, briefly (e.g. `overlay IP-in-IP → off`).
        public var change: String
        /// Why it has this class, one sentence.
        public var reason: String
    }

    /// Objects added, removed or changed, in render order.
    public var objects: [ObjectChange] = []
    /// Workloads that roll.
    public var rollouts: [Rollout] = []
    /// The classified changes.
    public var impacts: [Impact] = []
    /// Preconditions that are not met, one sentence each.
    public var unmetPreconditions: [String] = []

    /// True when the rendered manifests differ.
    public var hasChanges: Bool { !objects.isEmpty }

    /// The worst class of all impacts (`none` without changes).
    public var disruption: Disruption { impacts.map(\.disruption).max() ?? .none }
}

/// Invalid plan input (an unrenderable side or an incomplete Shoot).
public struct PlanError: Error, Sendable, CustomStringConvertible {
    /// The message.
    public var description: String
    /// Creates the error with its message.
    public init(_ description: String) { self.description = description }
}

extension Plan {
    /// One side of a plan: a Network and its Cluster (the Cluster embeds the Shoot).
    public struct Side: Sendable {
        /// The Network object.
        public var network: JSON
        /// The Cluster object.
        public var cluster: JSON
        /// Paths of keys the raw provider config gave twice (see `NetworkConfig.decode`).
        public var providerConfigDuplicates: [String] = []
        /// Creates a side.
        public init(network: JSON, cluster: JSON, providerConfigDuplicates: [String] = []) {
            self.network = network
            self.cluster = cluster
            self.providerConfigDuplicates = providerConfigDuplicates
        }

        /// Builds the Network and Cluster gardenlet would create for a `core.gardener.cloud` Shoot; the
        /// seed namespace `shoot--<project>--<name>` comes from the Shoot's `garden-<project>` namespace
        /// (or `status.technicalID`). `providerConfigDuplicates` as for `init(network:cluster:)`.
        public init(shoot raw: JSON, providerConfigDuplicates: [String] = []) throws {
            self.providerConfigDuplicates = providerConfigDuplicates
            let shoot = Shoot(raw: raw)
            guard raw["kind"]?.stringValue == "Shoot" else { throw PlanError("expected a Shoot, got kind \(raw["kind"]?.stringValue ?? "<none>")") }
            guard let name = shoot.name, !name.isEmpty else { throw PlanError("metadata.name: Required value: the Shoot has no name") }
            guard let networking = shoot.networking else { throw PlanError("spec.networking: Required value: the Shoot has no networking") }
            var namespace = shoot.technicalID ?? ""
            if namespace.isEmpty, let gardenNamespace = shoot.namespace, gardenNamespace.hasPrefix("garden-") {
                namespace = "shoot--\(gardenNamespace.dropFirst("garden-".count))--\(name)"
            }
            var spec: JSONObject = ["type": .string(networking.type ?? "")]
            if let pods = networking.pods ?? shoot.statusNetworking?.pods.first { spec["podCIDR"] = .string(pods) }
            if let services = networking.services ?? shoot.statusNetworking?.services.first { spec["serviceCIDR"] = .string(services) }
            spec["ipFamilies"] = .array(networking.effectiveIPFamilies.map { .string($0) })
            if let pc = networking.providerConfig { spec["providerConfig"] = pc }
            network = [
                "apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Network",
                "metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": .object(spec),
            ]
            cluster = [
                "apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Cluster", "metadata": ["name": .string(namespace)],
                "spec": ["shoot": raw],
            ]
        }
    }

    /// Renders both sides and compares them. Throws `RenderError` or `PlanError` when a side cannot be
    /// rendered (the new side's unmet kube-proxy precondition included).
    public static func make(from old: Side, to new: Side, featureGates: FeatureGates, imageVector: ImageVector = .default) throws -> Plan {
        let (oldInput, oldValues) = try values(old, "old", featureGates: featureGates, imageVector: imageVector)
        let (newInput, newValues) = try values(new, "new", featureGates: featureGates, imageVector: imageVector)
        let oldEntries = CalicoChart.entries(oldValues)
        let newEntries = CalicoChart.entries(newValues)
        var plan = Plan()
        plan.objects = diff(oldEntries, newEntries)
        plan.rollouts = rollouts(plan.objects, new: newEntries)
        plan.classify(
            old: oldValues, new: newValues, oldInput: oldInput, newInput: newInput,
            newShoot: Shoot(raw: new.cluster[path: "spec", "shoot"] ?? .null), featureGates: featureGates)
        plan.checkPreconditions(old: old, new: new, newInput: newInput, featureGates: featureGates)
        return plan
    }

    /// Only the classified changes of at least `minimum` class (`dataplane`, `outage-risk`): both sides'
    /// chart values without building or diffing the manifests, which is all the admission webhook's
    /// warnings need (lower classes depend on the diff and are not reported here).
    public static func impacts(from old: Side, to new: Side, atLeast minimum: Disruption, featureGates: FeatureGates) throws -> [Impact] {
        precondition(minimum >= .dataplane, "lower classes need the manifest diff")
        let (oldInput, oldValues) = try values(old, "old", featureGates: featureGates, imageVector: placeholderImages)
        let (newInput, newValues) = try values(new, "new", featureGates: featureGates, imageVector: placeholderImages)
        var plan = Plan()
        plan.classify(
            old: oldValues, new: newValues, oldInput: oldInput, newInput: newInput,
            newShoot: Shoot(raw: new.cluster[path: "spec", "shoot"] ?? .null), featureGates: featureGates)
        return plan.impacts.filter { $0.disruption >= minimum }
    }

    /// The classification reads no image, so `impacts` resolves every chart image to a placeholder instead
    /// of loading the bundled image vector (the webhook does not need its data file).
    static let placeholderImages = ImageVector(images: ImageVector.chartImageNames.map { ImageSource(name: $0, repository: "unused", tag: "unused") })

    /// A side's pre-processed input and chart values (what a render computes before building objects).
    static func values(_ side: Side, _ label: String, featureGates: FeatureGates, imageVector: ImageVector) throws -> (RenderInput, CalicoValues) {
        do {
            let input = try RenderInput.prepare(
                network: side.network, cluster: side.cluster, nonPrivilegedCalicoNode: featureGates.nonPrivilegedCalicoNode,
                decodeProviderConfig: { raw, families in
                    try EffectiveNetworkConfig.decodeAndValidate(raw, ipFamilies: families, duplicateFields: side.providerConfigDuplicates)
                })
            return (input, try CalicoValues.compute(config: input.config, inputs: input.chartInputs, imageVector: imageVector))
        } catch let error as RenderError {
            if error.field == "spec.kubernetes.kubeProxy.enabled" {
                throw PlanError("\(label): unmet precondition: kube-proxy disabled needs the eBPF dataplane (ebpfDataplane.enabled: true)")
            }
            throw PlanError("\(label): \(error.field.map { "\(error.message) (field \($0))" } ?? error.message)")
        }
    }

    // MARK: Diff

    /// Walks both sorted entry lists once (they are sorted by the same key), so the diff is linear.
    static func diff(_ a: [ManifestEntry], _ b: [ManifestEntry]) -> [ObjectChange] {
        var out: [ObjectChange] = []
        var i = 0
        var j = 0
        func key(_ e: ManifestEntry) -> ObjectKey {
            ObjectKey(apiVersion: e.sortKey.apiVersion, kind: e.sortKey.kind, namespace: e.sortKey.namespace, name: e.sortKey.name)
        }
        while i < a.count || j < b.count {
            if j >= b.count || (i < a.count && a[i].sortKey < b[j].sortKey) {
                out.append(ObjectChange(key: key(a[i]), action: .removed, fields: [], checksumOnly: false))
                i += 1
            } else if i >= a.count || b[j].sortKey < a[i].sortKey {
                out.append(ObjectChange(key: key(b[j]), action: .added, fields: [], checksumOnly: false))
                j += 1
            } else {
                if a[i].json != b[j].json {
                    var fields: [FieldChange] = []
                    diffValues(a[i].json, b[j].json, path: "", into: &fields)
                    let checksumOnly = fields.allSatisfy { $0.path.contains(".annotations.checksum/") }
                    out.append(ObjectChange(key: key(b[j]), action: .changed, fields: fields, checksumOnly: checksumOnly))
                }
                i += 1
                j += 1
            }
        }
        return out
    }

    /// Field-level diff: objects member by member, arrays of named objects by name (a dictionary, not a
    /// nested search), other arrays by index when their lengths match, else as a whole.
    static func diffValues(_ a: JSON, _ b: JSON, path: String, into out: inout [FieldChange]) {
        if a == b { return }
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for (k, v) in x {
                let p = path.isEmpty ? k : path + "." + k
                if let w = y[k] { diffValues(v, w, path: p, into: &out) } else { out.append(FieldChange(path: p, old: v, new: nil)) }
            }
            for (k, w) in y where x[k] == nil { out.append(FieldChange(path: path.isEmpty ? k : path + "." + k, old: nil, new: w)) }
        case (.array(let x), .array(let y)):
            let xNames = x.map { $0["name"]?.stringValue }
            let yNames = y.map { $0["name"]?.stringValue }
            if !x.isEmpty, !y.isEmpty, !xNames.contains(nil), !yNames.contains(nil), Set(xNames).count == x.count, Set(yNames).count == y.count {
                var yByName: [String: JSON] = [:]
                for (n, v) in zip(yNames, y) { yByName[n ?? ""] = v }
                var xSeen = Set<String>()
                for (n, v) in zip(xNames, x) {
                    let name = n ?? ""
                    xSeen.insert(name)
                    let p = "\(path)[name=\(name)]"
                    if let w = yByName[name] { diffValues(v, w, path: p, into: &out) } else { out.append(FieldChange(path: p, old: v, new: nil)) }
                }
                for (n, w) in zip(yNames, y) where !xSeen.contains(n ?? "") {
                    out.append(FieldChange(path: "\(path)[name=\(n ?? "")]", old: nil, new: w))
                }
            } else if x.count == y.count {
                for idx in x.indices { diffValues(x[idx], y[idx], path: "\(path)[\(idx)]", into: &out) }
            } else {
                out.append(FieldChange(path: path, old: a, new: b))
            }
        default:
            out.append(FieldChange(path: path, old: a, new: b))
        }
    }

    // MARK: Rollouts

    static func rollouts(_ changes: [ObjectChange], new: [ManifestEntry]) -> [Rollout] {
        var byName: [String: JSON] = [:]
        for e in new where e.sortKey.kind == "DaemonSet" || e.sortKey.kind == "Deployment" { byName["\(e.sortKey.kind)/\(e.sortKey.name)"] = e.json }
        var out: [Rollout] = []
        for change in changes where change.key.kind == "DaemonSet" || change.key.kind == "Deployment" {
            let workload = "\(change.key.kind)/\(change.key.name)"
            switch change.action {
            case .added: out.append(Rollout(workload: workload, how: "created"))
            case .removed: out.append(Rollout(workload: workload, how: "deleted (its pods stop)"))
            case .changed:
                guard change.fields.contains(where: { $0.path.hasPrefix("spec.template") }) else { continue }
                let object = byName[workload] ?? .null
                if change.key.kind == "DaemonSet" {
                    let max = object[path: "spec", "updateStrategy", "rollingUpdate", "maxUnavailable"].map(Self.scalarText) ?? "1"
                    out.append(Rollout(workload: workload, how: "rolls on every node, \(max) node(s) at a time"))
                } else {
                    let rolling = object[path: "spec", "strategy", "rollingUpdate"]
                    let surge = rolling?["maxSurge"].map(Self.scalarText) ?? "25%"
                    let unavailable = rolling?["maxUnavailable"].map(Self.scalarText) ?? "25%"
                    out.append(Rollout(workload: workload, how: "rolls (maxSurge \(surge), maxUnavailable \(unavailable))"))
                }
            }
        }
        return out
    }

    /// A value as compact text: strings bare, everything else as compact JSON.
    public static func scalarText(_ value: JSON) -> String {
        if let s = value.stringValue { return s }
        return value.serializedString()
    }

    // MARK: Classification (from the effective configuration, see docs/overlay.md)

    /// `IP-in-IP`, `VXLAN` or nil (no overlay) for a rendering.
    static func encapsulation(_ v: CalicoValues) -> String? {
        func active(_ enabled: Bool, _ mode: String) -> Bool { enabled && mode != "Never" && mode != "Off" && !mode.isEmpty }
        if v.ipv6.enabled {
            if active(true, v.ipv6.mode) { return v.ipv6.pool == "ipip" ? "IP-in-IP" : "VXLAN" }
            if !v.ipv4.enabled { return nil }
        }
        guard v.ipv4.enabled else { return nil }
        if v.vxlanOverlay || (v.ipv4.pool == "vxlan" && active(true, v.ipv4.mode)) { return "VXLAN" }
        return active(true, v.ipv4.mode) && (v.ipinipEnabled || v.overlay == .enabled) ? "IP-in-IP" : nil
    }

    mutating func classify(
        old: CalicoValues, new: CalicoValues, oldInput: RenderInput, newInput: RenderInput, newShoot: Shoot, featureGates: FeatureGates
    ) {
        func add(_ d: Disruption, _ change: String, _ reason: String) { impacts.append(Impact(disruption: d, change: change, reason: reason)) }
        let oldEncap = Self.encapsulation(old)
        let newEncap = Self.encapsulation(new)
        let seamlessHolds = featureGates.seamlessOverlaySwitch && newInput.mutatingAdmissionPolicyAvailable
        switch (oldEncap, newEncap) {
        case (let o?, nil):
            if seamlessHolds {
                add(
                    .dataplane, "overlay \(o) → off",
                    "SeamlessOverlaySwitch keeps the overlay until every node's pod route exists, then pods travel unencapsulated.")
            } else {
                add(
                    .outageRisk, "overlay \(o) → off",
                    "Pods on different nodes reach each other only once every node's route exists, and nothing holds the switch until then.")
            }
        case (nil, let n?):
            add(.dataplane, "overlay off → \(n)", "Every node starts encapsulating pod traffic, so the network must pass \(n) between nodes.")
        case (let o?, let n?) where o != n:
            add(.dataplane, "encapsulation \(o) → \(n)", "Tunnels and routes are reprogrammed on every node as calico-node rolls.")
        default: break
        }
        // A backend change that comes with an overlay switch is part of that switch (docs/overlay.md).
        if old.backend != new.backend && oldEncap == newEncap {
            let risky = old.backend == "bird" && new.backend == "none" && newEncap == nil
            add(
                risky ? .outageRisk : .dataplane, "backend \(old.backend) → \(new.backend)",
                risky
                    ? "BGP stops announcing pod routes, so cross-node pod traffic depends on routes from the infrastructure."
                    : "calico-node changes how it distributes pod routes on every node.")
        }
        if old.bpfEnabled != new.bpfEnabled {
            add(
                .dataplane, "eBPF dataplane \(old.bpfEnabled ? "on → off" : "off → on")",
                "Felix replaces the iptables dataplane (or the eBPF programs) on every node, and existing connections may be reset.")
        }
        let oldFamilies = oldInput.chartInputs.ipFamilies
        let newFamilies = newInput.chartInputs.ipFamilies
        if oldFamilies != newFamilies {
            let removed = oldFamilies.contains { !newFamilies.contains($0) }
            add(
                removed ? .outageRisk : .dataplane, "IP families \(oldFamilies.joined(separator: ",")) → \(newFamilies.joined(separator: ","))",
                removed
                    ? "Pods lose the addresses of the removed family, so connections over it break."
                    : "A new IP pool and routes are programmed on every node, and pods get addresses of the new family only when recreated.")
        }
        if old.ipam.type != new.ipam.type {
            add(
                .dataplane, "IPAM \(old.ipam.type) → \(new.ipam.type)",
                "New pods get addresses from a different allocator while existing pods keep theirs.")
        }
        if old.ipv4.wireguard != new.ipv4.wireguard {
            add(
                .dataplane, "WireGuard \(new.ipv4.wireguard ? "off → on" : "on → off")",
                "Node-to-node pod traffic changes its path through the wireguard interface.")
        }
        if old.kubeProxyIPTablesCleanup != new.kubeProxyIPTablesCleanup {
            add(
                .dataplane, "kube-proxy \(new.kubeProxyIPTablesCleanup ? "on → off" : "off → on")",
                "Service routing moves between kube-proxy and Felix.")
        }
        if old.typhaEnabled && !new.typhaEnabled {
            let nodes = (newShoot.raw[path: "spec", "provider", "workers"]?.arrayValue ?? []).reduce(0) { $0 + ($1["maximum"]?.intValue ?? 0) }
            let large = nodes > 100
            add(
                large ? .outageRisk : .restart, "typha on → off",
                large
                    ? "Every calico-node (up to \(nodes) nodes) then watches the API server directly, which can overload it on a cluster this size."
                    : "calico-node restarts to talk to the API server directly; fine on small clusters.")
        } else if !old.typhaEnabled && new.typhaEnabled {
            add(.restart, "typha off → on", "calico-node restarts to connect through Typha.")
        }
        if old.vethMTU != new.vethMTU {
            add(
                .restart, "veth MTU \(old.vethMTU) → \(new.vethMTU)",
                "The new MTU applies to new pods only; existing pods keep the old one until they are restarted.")
        }
        if impacts.isEmpty && hasChanges {
            if rollouts.isEmpty {
                add(.none, "manifests", "Only objects without pods change.")
            } else {
                add(.restart, "pod templates", "Pods roll to pick up the new template; the dataplane is unchanged.")
            }
        }
    }

    mutating func checkPreconditions(old: Side, new: Side, newInput: RenderInput, featureGates: FeatureGates) {
        let shoot = Shoot(raw: new.cluster[path: "spec", "shoot"] ?? .null)
        if impacts.contains(where: { $0.change.hasPrefix("overlay ") && $0.change.hasSuffix("→ off") }) {
            if !featureGates.seamlessOverlaySwitch {
                unmetPreconditions.append(
                    "SeamlessOverlaySwitch: the controller's feature gate is off, so the switch is not held until every node's route exists.")
            } else if !newInput.mutatingAdmissionPolicyAvailable {
                unmetPreconditions.append(
                    "SeamlessOverlaySwitch: needs Kubernetes ≥ 1.36 or the kube-apiserver feature gate MutatingAdmissionPolicy with its admissionregistration.k8s.io runtime config (shoot runs \(shoot.kubernetesVersion ?? "?"))."
                )
            }
        }
        let oldWanted = (old.network[path: "spec", "ipFamilies"]?.arrayValue ?? []).count
        let newWanted = (new.network[path: "spec", "ipFamilies"]?.arrayValue ?? []).count
        if newWanted > 1 && newWanted > oldWanted {
            let status = shoot.constraint("DualStackNodesMigrationReady")?.status
            if status != "True" {
                unmetPreconditions.append(
                    "dual-stack: the Shoot's constraint DualStackNodesMigrationReady is \(status.map { "\"\($0)\"" } ?? "missing"), it must be True before pods get a second family."
                )
            }
        }
        if newInput.config.autoScaling?.mode == "vpa" && !shoot.wantsVerticalPodAutoscaler {
            unmetPreconditions.append(
                "autoScaling.mode vpa: the shoot does not enable spec.kubernetes.verticalPodAutoscaler, so calico-node and Typha are scaled cluster-proportionally."
            )
        }
    }

    // MARK: Output

    /// The plan as a JSON document for tools.
    public func json() -> JSON {
        func value(_ v: JSON?) -> JSON { v ?? .null }
        let objectList: [JSON] = objects.map { c in
            var o: JSONObject = [
                "action": .string(c.action.rawValue), "apiVersion": .string(c.key.apiVersion), "kind": .string(c.key.kind),
                "namespace": .string(c.key.namespace), "name": .string(c.key.name),
            ]
            if c.action == .changed {
                o["checksumOnly"] = .bool(c.checksumOnly)
                o["fields"] = .array(c.fields.map { ["path": .string($0.path), "old": value($0.old), "new": value($0.new)] })
            }
            return .object(o)
        }
        return [
            "changed": .bool(hasChanges), "disruption": .string(disruption.description), "objects": .array(objectList),
            "rollouts": .array(rollouts.map { ["workload": .string($0.workload), "how": .string($0.how)] }),
            "impacts": .array(
                impacts.map { ["class": .string($0.disruption.description), "change": .string($0.change), "reason": .string($0.reason)] }),
            "unmetPreconditions": .array(unmetPreconditions.map { .string($0) }),
        ]
    }

    /// The plan as text: objects with their field changes, rollouts, impacts, unmet preconditions.
    public func text() -> String {
        guard hasChanges || !unmetPreconditions.isEmpty else { return "No changes.\n" }
        var out = ""
        func show(_ v: JSON?) -> String {
            guard let v else { return "<none>" }
            let s = Self.scalarText(v)
            return s.count > 80 ? String(s.prefix(77)) + "..." : s
        }
        if hasChanges { out += "Objects:\n" }
        for c in objects {
            switch c.action {
            case .added: out += "  + \(c.key)\n"
            case .removed: out += "  - \(c.key)\n"
            case .changed:
                out += "  ~ \(c.key)\(c.checksumOnly ? " (checksum/* annotations only)" : "")\n"
                for f in c.fields {
                    if let a = f.old?.stringValue, let b = f.new?.stringValue, a.contains("\n") || b.contains("\n") {
                        out += Self.textLines(path: f.path, a, b)
                    } else {
                        out += "      \(f.path): \(show(f.old)) → \(show(f.new))\n"
                    }
                }
            }
        }
        if !rollouts.isEmpty {
            out += "Rollouts:\n"
            for r in rollouts { out += "  \(r.workload): \(r.how)\n" }
        }
        if !impacts.isEmpty {
            out += "Impact:\n"
            for i in impacts { out += "  [\(i.disruption)] \(i.change): \(i.reason)\n" }
        }
        if !unmetPreconditions.isEmpty {
            out += "Unmet preconditions:\n"
            for p in unmetPreconditions { out += "  ! \(p)\n" }
        }
        out += "Disruption: \(disruption)\n"
        return out
    }

    /// A changed multi-line string (a CNI config, a script) as its changed lines, matched by index when
    /// the line counts agree, else as line counts.
    static func textLines(path: String, _ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        guard x.count == y.count else { return "      \(path): text of \(x.count) lines → \(y.count) lines\n" }
        var out = ""
        for i in x.indices where x[i] != y[i] {
            out += "      \(path) line \(i + 1): \(x[i].trimmingPrefixSpaces) → \(y[i].trimmingPrefixSpaces)\n"
        }
        return out
    }
}

extension Substring {
    fileprivate var trimmingPrefixSpaces: Substring { drop { $0 == " " } }
}
