import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore

/// `plan` subcommand: what applying a new Network (or Shoot) would do to the shoot — object diff,
/// rollouts, disruption class per change and unmet preconditions (docs/usage.md). The planning itself
/// is `Plan.make` in CalicoManifests; this command only reads files (or, with `--kubeconfig`, the live
/// Network and Cluster) and prints.
/// Exit status: 0 no change or only `none`/`restart` changes, 1 error, 2 usage, 3 a `dataplane` or
/// `outage-risk` change.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show what changing a Network or Shoot would do to the shoot.",
        discussion: "Exit status 0 = no change or only none/restart changes, 1 = error, 2 = usage, 3 = dataplane or outage-risk change.")
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
    @Option(name: .customLong("from-network"), help: "The current Network ('-' reads standard input).")
    var fromNetwork: String?
    @Option(name: .customLong("from-cluster"), help: "The current Cluster (default: --cluster).")
    var fromCluster: String?
    @Option(name: .long, help: "The new Network.")
    var network: String?
    @Option(name: .long, help: "The Cluster (its Shoot) for the new Network.")
    var cluster: String?
    @Option(name: .customLong("from-shoot"), help: "The current core.gardener.cloud Shoot.")
    var fromShoot: String?
    @Option(name: .long, help: "The new Shoot.")
    var shoot: String?
    @Option(name: .long, help: "Plan against the live Network of this cluster (kubeconfig file).")
    var kubeconfig: String?
    @Option(name: .long, help: "With --kubeconfig: the seed namespace of the live Network (and the name of its Cluster).")
    var namespace: String?
    @Option(name: .long, help: "With --kubeconfig: the live Network's name (default: the only Network in the namespace).")
    var name: String?
    @Option(name: .customLong("provider-config"), help: "With --kubeconfig: the new NetworkConfig for the live Network.")
    var providerConfig: String?
    @Option(name: .customLong("feature-gates"), help: "Controller feature gates, e.g. SeamlessOverlaySwitch=true.")
    var featureGates: String = ""
    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        if kubeconfig != nil || namespace != nil || name != nil || providerConfig != nil {
            return try await runLive()
        }
        let networkMode = fromNetwork != nil || network != nil || cluster != nil || fromCluster != nil
        let shootMode = fromShoot != nil || shoot != nil
        let usable =
            networkMode != shootMode && (shootMode ? (fromShoot != nil && shoot != nil) : (fromNetwork != nil && network != nil && cluster != nil))
        guard usable else {
            throw Self.failure(
                2,
                saying:
                    "give --from-network, --network and --cluster (optionally --from-cluster), or --from-shoot and --shoot, or --kubeconfig and --namespace with --network, --provider-config or --shoot"
            )
        }
        if [fromNetwork, fromCluster, network, cluster, fromShoot, shoot].filter({ $0 == "-" }).count > 1 {
            throw Self.failure(2, saying: "only one input can be '-'")
        }
        try await planAndEmit { () async throws -> (Plan.Side, Plan.Side) in
            if let fromShoot, let shoot {
                let (oldShoot, oldDuplicates) = try InputDocuments.readDocument(fromShoot, kind: "Shoot")
                let (newShoot, newDuplicates) = try InputDocuments.readDocument(shoot, kind: "Shoot")
                return (
                    try Plan.Side(shoot: oldShoot, providerConfigDuplicates: oldDuplicates),
                    try Plan.Side(shoot: newShoot, providerConfigDuplicates: newDuplicates)
                )
            } else if let fromNetwork, let network, let cluster {
                let newCluster = try InputDocuments.read(cluster).pick("Cluster", path: cluster)
                let oldCluster = try fromCluster.map { try InputDocuments.read($0).pick("Cluster", path: $0) } ?? newCluster
                let (oldNetwork, oldDuplicates) = try InputDocuments.readDocument(fromNetwork, kind: "Network")
                let (newNetwork, newDuplicates) = try InputDocuments.readDocument(network, kind: "Network")
                return (
                    Plan.Side(network: oldNetwork, cluster: oldCluster, providerConfigDuplicates: oldDuplicates),
                    Plan.Side(network: newNetwork, cluster: newCluster, providerConfigDuplicates: newDuplicates)
                )
            }
            throw ExitCode(2)
        }
    }

    /// Parses `--feature-gates`, reads the current and new sides with `read`, plans and prints;
    /// a failure on the way exits through ``exitCode(for:)``.
    func planAndEmit(_ read: () async throws -> (old: Plan.Side, new: Plan.Side)) async throws {
        let plan: Plan
        do {
            var gates = FeatureGates()
            do { try gates.set(featureGates) } catch { throw PlanError("invalid --feature-gates: \(error.description)") }
            let (old, new) = try await read()
            plan = try Plan.make(from: old, to: new, featureGates: gates, imageVector: ImageVector.fromEnvironment())
        } catch {
            throw Self.exitCode(for: error)
        }
        try emit(plan)
    }

    /// Exit `code` (2: usage) after `message` on standard error.
    static func failure(_ code: Int32, saying message: String) -> ExitCode {
        FileHandle.standardError.write(Data("plan: \(message)\n".utf8))
        return ExitCode(code)
    }

    /// The exit of a failed read or plan: usage errors keep their code; anything else is printed
    /// and exits 1.
    static func exitCode(for error: any Error) -> ExitCode {
        if let code = error as? ExitCode { return code }
        return failure(1, saying: (error as? InputDocuments.Failure)?.message ?? "\(error)")
    }

    /// Prints the plan; exit 3 for a `dataplane` or `outage-risk` change.
    func emit(_ plan: Plan) throws {
        switch output {
        case .text: FileHandle.standardOutput.write(Data(plan.text().utf8))
        case .json:
            var bytes = plan.json().serialized(JSONWriteOptions(pretty: true))
            bytes.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(Data(bytes))
        }
        if plan.disruption >= .dataplane { throw ExitCode(3) }
    }

    /// `--kubeconfig K --namespace NS [--name N]` with one of `--network`, `--provider-config`, `--shoot`:
    /// the live Network and its Cluster (named like the namespace) are the current state.
    func runLive() async throws {
        let newInputs = [network, providerConfig, shoot].compactMap { $0 }
        let fileMode = [fromNetwork, fromCluster, fromShoot, cluster].contains { $0 != nil }
        guard let kubeconfig, let namespace, !namespace.isEmpty, newInputs.count == 1, !fileMode else {
            throw Self.failure(
                2, saying: "with --kubeconfig give --namespace (optionally --name) and exactly one of --network, --provider-config, --shoot")
        }
        try await planAndEmit { () async throws -> (Plan.Side, Plan.Side) in
            let (liveNetwork, liveCluster) = try await Self.fetchLive(kubeconfig: kubeconfig, namespace: namespace, name: name)
            let old = Plan.Side(network: liveNetwork, cluster: liveCluster)
            if let network {
                let (doc, duplicates) = try InputDocuments.readDocument(network, kind: "Network")
                return (old, Plan.Side(network: doc, cluster: liveCluster, providerConfigDuplicates: duplicates))
            } else if let providerConfig {
                let (doc, duplicates) = try InputDocuments.readDocument(providerConfig, kind: "NetworkConfig")
                var changed = liveNetwork
                changed[path: "spec", "providerConfig"] = doc
                return (old, Plan.Side(network: changed, cluster: liveCluster, providerConfigDuplicates: duplicates))
            } else if let shoot {
                let (doc, duplicates) = try InputDocuments.readDocument(shoot, kind: "Shoot")
                return (old, try Plan.Side(shoot: doc, providerConfigDuplicates: duplicates))
            }
            throw ExitCode(2)
        }
    }

    /// Reads the live Network (by name, or the only one in `namespace`) and the Cluster named `namespace`.
    static func fetchLive(kubeconfig: String, namespace: String, name: String?) async throws -> (network: JSON, cluster: JSON) {
        let client = try KubernetesClient(configuration: ClientConfiguration.load(kubeconfigPath: kubeconfig))
        do {
            let network: JSON
            if let name {
                network = try await client.get(.networks, namespace: namespace, name: name)
            } else {
                let items = try await client.list(.networks, namespace: namespace).items
                guard items.count == 1, let only = items.first else {
                    let names = items.compactMap { $0[path: "metadata", "name"]?.stringValue }
                    throw PlanError(
                        "namespace \(namespace) has \(items.count) Networks\(names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"), give --name"
                    )
                }
                network = only
            }
            let cluster = try await client.get(.clusters, namespace: nil, name: namespace)
            try await client.shutdown()
            return (network, cluster)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
