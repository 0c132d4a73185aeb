import KubeCore

/// The controller's feature gates, in a dedicated (non-global) registry.
public struct FeatureGates: Sendable, Hashable {
    /// A known gate.
    public enum Gate: String, Sendable, CaseIterable {
        /// Run calico-node non-privileged (alpha, default off).
        case nonPrivilegedCalicoNode = "NonPrivilegedCalicoNode"
        /// Check node routes before switching the overlay off (alpha, default off).
        case seamlessOverlaySwitch = "SeamlessOverlaySwitch"

        /// The default (every gate is off unless set).
        public var defaultValue: Bool { false }
        /// The maturity stage.
        public var stage: String { "Alpha" }
    }

    /// Error when parsing or applying gates; messages as component-base prints them.
    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        /// The message.
        public var description: String
        /// An error with this message.
        public init(_ description: String) { self.description = description }
    }

    private var values: [Gate: Bool] = [:]

    /// All gates at their defaults.
    public init() {}

    /// Gates from an override map (unknown name → error).
    public init(_ overrides: [String: Bool]) throws(FeatureGates.Error) {
        try set(from: overrides)
    }

    /// Whether a gate is on.
    public func enabled(_ gate: Gate) -> Bool { values[gate] ?? gate.defaultValue }
    /// calico-node runs without privileges.
    public var nonPrivilegedCalicoNode: Bool { enabled(.nonPrivilegedCalicoNode) }
    /// Switching the overlay on or off without disruption.
    public var seamlessOverlaySwitch: Bool { enabled(.seamlessOverlaySwitch) }

    /// Sets one gate.
    public mutating func set(_ gate: Gate, _ value: Bool) { values[gate] = value }

    /// `SetFromMap`: applies every entry; an unknown name is an error and nothing is applied.
    public mutating func set(from map: [String: Bool]) throws(FeatureGates.Error) {
        var next = values
        for name in map.keys.sorted() {
            guard let gate = Gate(rawValue: name) else { throw FeatureGates.Error("unrecognized feature gate: \(name)") }
            next[gate] = map[name]
        }
        values = next
    }

    /// Parses a `--feature-gates` value `A=true,B=false` into a map (does not check names).
    public static func parse(_ text: String) throws(FeatureGates.Error) -> [String: Bool] {
        var out: [String: Bool] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let s = part.trimmingSpaces()
            if s.isEmpty { continue }
            let kv = s.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { throw FeatureGates.Error("missing bool value for \(s)") }
            let key = String(kv[0]).trimmingSpaces()
            let raw = String(kv[1]).trimmingSpaces()
            guard let b = parseGoBool(raw) else {
                throw FeatureGates.Error("invalid value of \(key)=\(raw), err: strconv.ParseBool: parsing \(goQuote(raw)): invalid syntax")
            }
            out[key] = b
        }
        return out
    }

    /// Parses and applies a `--feature-gates` value (unknown gate → error).
    public mutating func set(_ text: String) throws(FeatureGates.Error) {
        try set(from: FeatureGates.parse(text))
    }

    /// The effective values of all known gates.
    public var all: [String: Bool] {
        Dictionary(uniqueKeysWithValues: Gate.allCases.map { ($0.rawValue, enabled($0)) })
    }
}

/// Go's `strconv.ParseBool`.
public func parseGoBool(_ s: String) -> Bool? {
    switch s {
    case "1", "t", "T", "true", "TRUE", "True": return true
    case "0", "f", "F", "false", "FALSE", "False": return false
    default: return nil
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
