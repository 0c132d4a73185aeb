import KubeCore

/// `ControllerConfiguration` of `calico.networking.extensions.config.gardener.cloud/v1alpha1`:
/// the controller's configuration file. Decoded non-strictly, no defaulting.
public struct ControllerConfiguration: Sendable, Hashable {
    /// `calico.networking.extensions.config.gardener.cloud/v1alpha1`.
    public static let apiVersion = "calico.networking.extensions.config.gardener.cloud/v1alpha1"
    /// `ControllerConfiguration`.
    public static let kind = "ControllerConfiguration"

    /// component-base `ClientConnectionConfiguration`.
    public struct ClientConnection: Sendable, Hashable {
        /// Ignored by the extension.
        public var kubeconfig: String
        /// The `Accept` header of API requests.
        public var acceptContentTypes: String
        /// The content type of request bodies.
        public var contentType: String
        /// Client-side request rate limit (0: the default).
        public var qps: Double
        /// Client-side request burst (0: the default).
        public var burst: Int
        /// A value from its fields.
        public init(kubeconfig: String = "", acceptContentTypes: String = "", contentType: String = "", qps: Double = 0, burst: Int = 0) {
            self.kubeconfig = kubeconfig
            self.acceptContentTypes = acceptContentTypes
            self.contentType = contentType
            self.qps = qps
            self.burst = burst
        }
    }

    /// A loading error; `description` is the message to print.
    public struct LoadError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The message.
        public var description: String
        /// An error with this message.
        public init(_ description: String) { self.description = description }
    }

    /// When present, all four client settings are copied to the REST config (zero values too).
    public var clientConnection: ClientConnection?
    /// Feature gate overrides (nil when absent).
    public var featureGates: [String: Bool]?

    /// A value from its fields.
    public init(clientConnection: ClientConnection? = nil, featureGates: [String: Bool]? = nil) {
        self.clientConnection = clientConnection
        self.featureGates = featureGates
    }

    /// Decodes from YAML/JSON text. Empty text → empty configuration. Unknown fields ignored.
    public static func decode(text: String) throws(LoadError) -> ControllerConfiguration {
        let trimmed = text.trimmingSpaces()
        if trimmed.isEmpty { return ControllerConfiguration() }
        let json: JSON
        do { json = try JSON.parseJSONOrYAML(text) } catch { throw LoadError("\(error)") }
        if json.isNull { return ControllerConfiguration() }
        return try decode(json)
    }

    /// Decodes from a JSON value (non-strict).
    public static func decode(_ json: JSON) throws(LoadError) -> ControllerConfiguration {
        guard case .object(let o) = json else { throw LoadError("couldn't get version/kind; json parse error: expected an object") }
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        let kind = o["kind"]?.stringValue ?? ""
        if kind.isEmpty {
            throw LoadError(
                "no kind \"Config\" is registered for version \(goQuote(apiVersion)) in scheme \"calico.networking.extensions.config.gardener.cloud\""
            )
        }
        guard apiVersion == Self.apiVersion, kind == Self.kind else {
            throw LoadError(
                "no kind \(goQuote(kind)) is registered for version \(goQuote(apiVersion)) in scheme \"calico.networking.extensions.config.gardener.cloud\""
            )
        }
        var c = ControllerConfiguration()
        if let cc = o["clientConnection"], !cc.isNull {
            guard case .object(let ccObj) = cc else {
                throw LoadError(
                    "json: cannot unmarshal \(StrictDecoder.goJSONType(cc)) into Go struct field ControllerConfiguration.clientConnection of type v1alpha1.ClientConnectionConfiguration"
                )
            }
            var conn = ClientConnection()
            func str(_ k: String) throws(LoadError) -> String {
                guard let v = ccObj[k], !v.isNull else { return "" }
                guard let s = v.stringValue else {
                    throw LoadError(
                        "json: cannot unmarshal \(StrictDecoder.goJSONType(v)) into Go struct field ClientConnectionConfiguration.clientConnection.\(k) of type string"
                    )
                }
                return s
            }
            conn.kubeconfig = try str("kubeconfig")
            conn.acceptContentTypes = try str("acceptContentTypes")
            conn.contentType = try str("contentType")
            if let q = ccObj["qps"], !q.isNull {
                guard let d = q.doubleValue else {
                    throw LoadError(
                        "json: cannot unmarshal \(StrictDecoder.goJSONType(q)) into Go struct field ClientConnectionConfiguration.clientConnection.qps of type float32"
                    )
                }
                conn.qps = d
            }
            if let b = ccObj["burst"], !b.isNull {
                guard let i = b.intValue, i >= Int(Int32.min), i <= Int(Int32.max) else {
                    throw LoadError(
                        "json: cannot unmarshal \(StrictDecoder.goJSONType(b)) into Go struct field ClientConnectionConfiguration.clientConnection.burst of type int32"
                    )
                }
                conn.burst = i
            }
            c.clientConnection = conn
        }
        if let fg = o["featureGates"], !fg.isNull {
            guard case .object(let fgObj) = fg else {
                throw LoadError(
                    "json: cannot unmarshal \(StrictDecoder.goJSONType(fg)) into Go struct field ControllerConfiguration.featureGates of type map[string]bool"
                )
            }
            var map: [String: Bool] = [:]
            for (k, v) in fgObj {
                guard let b = v.boolValue else {
                    throw LoadError(
                        "json: cannot unmarshal \(StrictDecoder.goJSONType(v)) into Go struct field ControllerConfiguration.featureGates of type bool"
                    )
                }
                map[k] = b
            }
            c.featureGates = map
        }
        return c
    }

    /// Loads the file named by `--config-file`: empty path → `config file path not set`;
    /// unreadable → error; empty file → empty configuration.
    public static func load(path: String) throws(LoadError) -> ControllerConfiguration {
        guard !path.isEmpty else { throw LoadError("config file path not set") }
        let text: String
        do {
            text = try readWholeFile(path)
        } catch {
            throw LoadError("error reading config file \(path): \(error)")
        }
        return try decode(text: text)
    }

    /// Feature gates with this configuration's overrides applied (unknown gate → error
    /// `error setting feature gates: unrecognized feature gate: <name>`).
    public func featureGateSet(base: FeatureGates = FeatureGates()) throws(LoadError) -> FeatureGates {
        var gates = base
        do { try gates.set(from: featureGates ?? [:]) } catch { throw LoadError("error setting feature gates: \(error.description)") }
        return gates
    }
}
