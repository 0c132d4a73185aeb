import ArgumentParser
import BuildInfo
import Foundation
import KubeCore

/// Command-line groups shared by the binaries: each group owns its flag names, help and defaults
/// and builds the runtime settings, so a default lives in one place.

/// The manager's endpoints (`--metrics-bind-address`, `--health-bind-address`).
public struct ManagerFlags: ParsableArguments, Sendable {
    /// `/metrics` address in Go notation (`0` disables).
    @Option(name: .customLong("metrics-bind-address"), help: "Prometheus metrics endpoint (0 disables).")
    public var metricsBindAddress: String = ":8080"
    /// `/healthz` + `/readyz` address in Go notation (`0` disables).
    @Option(name: .customLong("health-bind-address"), help: "/healthz and /readyz endpoint (0 disables).")
    public var healthBindAddress: String = ":8081"

    /// The defaults.
    public init() {}

    /// The manager settings with these endpoints and `leaderElection`.
    public func managerOptions(leaderElection: LeaderElectionConfiguration?) throws -> ManagerOptions {
        do {
            return ManagerOptions(
                leaderElection: leaderElection, metricsBindAddress: try BindAddress.parse(metricsBindAddress),
                healthBindAddress: try BindAddress.parse(healthBindAddress))
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// The lease name a binary elects on by default (`--leader-election-id`).
public protocol LeaderElectionDefaults: Sendable {
    /// Default lease name.
    static var leaseName: String { get }
}

/// Leader election (`--leader-election`, `--leader-election-id`, `--leader-election-namespace`),
/// with the binary's default lease name.
public struct LeaderElectionFlags<Defaults: LeaderElectionDefaults>: ParsableArguments, Sendable {
    /// Whether to elect a leader (Go bool syntax, see `GoFlagSyntax`).
    @Option(name: .customLong("leader-election"), help: "Leader election on/off.")
    public var leaderElection: Bool = true
    /// Lease name.
    @Option(name: .customLong("leader-election-id"), help: "Lease name for leader election.")
    public var leaderElectionID: String = Defaults.leaseName
    /// Lease namespace; `LEADER_ELECTION_NAMESPACE` when not given.
    @Option(name: .customLong("leader-election-namespace"), help: "Lease namespace (default: env LEADER_ELECTION_NAMESPACE).")
    public var leaderElectionNamespace: String?

    /// The defaults.
    public init() {}

    /// Boolean flags of this group (for `GoFlagSyntax`).
    public static var booleanFlags: [String] { ["leader-election"] }

    /// The namespace from the flag, else `LEADER_ELECTION_NAMESPACE`, else "".
    public func namespace(environment: [String: String]) -> String {
        leaderElectionNamespace ?? environment["LEADER_ELECTION_NAMESPACE"] ?? ""
    }

    /// The election settings (nil when disabled); an empty namespace falls back to
    /// `fallbackNamespace` (the client's namespace).
    public func configuration(fallbackNamespace: String, environment: [String: String]) -> LeaderElectionConfiguration? {
        guard leaderElection else { return nil }
        let ns = namespace(environment: environment)
        return LeaderElectionConfiguration(name: leaderElectionID, namespace: ns.isEmpty ? fallbackNamespace : ns)
    }
}

/// Go verflag's `--version` of both binaries: `--version` (or `--version=true`) prints
/// `gardener-extension <version>`, `--version=raw` the whole `version.Info`; `false` runs normally.
public struct VersionFlags: ParsableArguments, Sendable {
    /// The values pflag accepts (any `strconv.ParseBool` spelling is normalized first, see `GoFlagSyntax`).
    public enum Request: String, ExpressibleByArgument, Sendable {
        /// Run normally.
        case no = "false"
        /// Print the version line.
        case yes = "true"
        /// Print every build field.
        case raw
    }

    /// The request; `--version` alone means `true`.
    @Option(name: .customLong("version"), help: "Print version information and quit (--version, --version=raw).")
    public var version: Request = .no

    /// The defaults.
    public init() {}

    /// The flag's name, treated as boolean by `GoFlagSyntax` (which also lets `raw` through).
    public static var booleanFlags: [String] { ["version"] }

    /// What to print for this request about `build`, nil when the binary should run.
    public func output(_ build: BuildInfo = .current) -> String? {
        switch version {
        case .no: nil
        case .yes: build.versionLine
        case .raw: build.rawDescription
        }
    }
}

/// Where a Lease goes when no namespace is given, as controller-runtime decides: the namespace of
/// the pod's service account in a cluster; outside a cluster, starting fails (no `default`).
public enum LeaderElectionNamespace {
    /// The pod's namespace file, mounted with the service account token.
    public static let inClusterNamespacePath = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

    /// controller-runtime's error, word for word, so that operators find the same message.
    public static let notInClusterMessage =
        "unable to find leader election namespace: not running in-cluster, please specify LeaderElectionNamespace"

    /// Why no namespace could be found.
    public struct NotFound: Error, Sendable, CustomStringConvertible {
        /// The message (controller-runtime's wording).
        public var description: String
    }

    /// `namespace` if given, else the in-cluster namespace; throws outside a cluster.
    public static func resolve(_ namespace: String, inClusterNamespaceFile: String = inClusterNamespacePath) throws -> String {
        if !namespace.isEmpty { return namespace }
        guard FileManager.default.fileExists(atPath: inClusterNamespaceFile) else { throw NotFound(description: notInClusterMessage) }
        do {
            return try String(contentsOfFile: inClusterNamespaceFile, encoding: .utf8)
        } catch {
            throw NotFound(description: "unable to find leader election namespace: error reading namespace file: \(error.localizedDescription)")
        }
    }
}

/// The process log (`--log-level`, `--log-format`).
public struct LoggingFlags: ParsableArguments, Sendable {
    /// `debug`, `info` or `error`.
    @Option(name: .customLong("log-level"), help: "info, debug or error.")
    public var logLevel: String = LoggingOptions().level.rawValue
    /// `json` or `text`.
    @Option(name: .customLong("log-format"), help: "json or text.")
    public var logFormat: String = LoggingOptions().format.rawValue

    /// The defaults.
    public init() {}

    /// The parsed log settings (a usage error for unknown values).
    public func options() throws -> LoggingOptions {
        do { return try LoggingOptions.parse(level: logLevel, format: logFormat) } catch { throw ValidationError(error.description) }
    }
}

/// Go `pflag` syntax for boolean flags on top of ArgumentParser: charts and ControllerDeployments
/// written for the Go binaries pass `--flag` alone and `--flag=<strconv.ParseBool spelling>`.
/// `normalize` rewrites those into the `--flag=true|false` that a `Bool` option parses; as in
/// pflag, a boolean never takes the next argument as its value.
public enum GoFlagSyntax {
    /// An unparseable boolean value, worded as pflag words it.
    public struct InvalidBool: Error, Sendable, Equatable, CustomStringConvertible {
        /// The flag, without dashes.
        public var flag: String
        /// The rejected value.
        public var value: String
        /// pflag's message.
        public var description: String {
            "invalid argument \"\(value)\" for \"--\(flag)\" flag: strconv.ParseBool: parsing \"\(value)\": invalid syntax"
        }
    }

    /// Rewrites the boolean flags among `arguments` (names without dashes) into canonical form;
    /// everything after a `--` terminator is left alone.
    public static func normalize(_ arguments: [String], booleanFlags: Set<String>) throws(InvalidBool) -> [String] {
        var out: [String] = []
        out.reserveCapacity(arguments.count)
        var terminated = false
        for argument in arguments {
            if terminated || !argument.hasPrefix("--") {
                out.append(argument)
                continue
            }
            if argument == "--" {
                terminated = true
                out.append(argument)
                continue
            }
            let body = argument.dropFirst(2)
            let name: Substring
            let value: Substring?
            if let eq = body.firstIndex(of: "=") {
                name = body[..<eq]
                value = body[body.index(after: eq)...]
            } else {
                name = body
                value = nil
            }
            guard booleanFlags.contains(String(name)) else {
                out.append(argument)
                continue
            }
            guard let value else {
                out.append("--\(name)=true")
                continue
            }
            if name == "version" && value == "raw" {  // verflag's third value (see VersionFlags)
                out.append(argument)
                continue
            }
            guard let parsed = parseGoBool(String(value)) else { throw InvalidBool(flag: String(name), value: String(value)) }
            out.append("--\(name)=\(parsed)")
        }
        return out
    }

    /// `normalize`, then parses `T` (tests and in-process parsing).
    public static func parse<T: ParsableArguments>(_ type: T.Type, _ arguments: [String], booleanFlags: Set<String>) throws -> T {
        try T.parse(try normalize(arguments, booleanFlags: booleanFlags))
    }
}
