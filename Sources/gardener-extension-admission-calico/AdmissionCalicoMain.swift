import AdmissionCalico
import ArgumentParser
import Foundation
import KubeRuntime
import Logging

/// The admission webhook for Shoots using calico networking: the webhook's services on a
/// `Manager` (leader election, probes, metrics, graceful stop on SIGTERM/SIGINT).
@main
struct AdmissionCalicoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gardener-extension-admission-calico",
        abstract: "Validating admission webhook for Shoots with calico networking.")

    @OptionGroup var webhook: WebhookFlags
    @OptionGroup var leaderElection: LeaderElectionFlags<AdmissionLease>
    @OptionGroup var manager: ManagerFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var version: VersionFlags

    /// Boolean flags in Go syntax (see `GoFlagSyntax`).
    static let booleanFlags = Set(LeaderElectionFlags<AdmissionLease>.booleanFlags + VersionFlags.booleanFlags)

    static func main() async {
        do {
            await main(try GoFlagSyntax.normalize(Array(CommandLine.arguments.dropFirst()), booleanFlags: booleanFlags))
        } catch {
            exit(withError: ValidationError(error.description))
        }
    }

    func run() async throws {
        if let text = version.output() {
            print(text)
            return
        }
        let env = ProcessInfo.processInfo.environment
        let logOptions = try logging.options()
        let options = try webhook.options(environment: env)
        let logger = logOptions.startLogging("admission-calico")
        let runtime = try AdmissionRuntime(options, logger: logger)
        let client = try runtime.managerClient()
        // Without a namespace, leader election needs the pod's own one: outside a cluster starting
        // fails, as the Go webhook's does (no fallback to `default`).
        var election: LeaderElectionConfiguration?
        if runtime.electionClient != nil && leaderElection.leaderElection {
            let namespace: String
            do { namespace = try LeaderElectionNamespace.resolve(leaderElection.namespace(environment: env)) } catch {
                logger.error("Startup failed", metadata: ["error": "could not instantiate manager: \(error)"])
                throw ValidationError("could not instantiate manager: \(error)")
            }
            election = leaderElection.configuration(fallbackNamespace: namespace, environment: env)
        }
        let managerOptions = try manager.managerOptions(leaderElection: election)
        let m = Manager(client: client, options: managerOptions, logger: logger)
        runtime.add(to: m)
        try await m.runUntilSignalled(thenClosing: client, logger: logger)
        logger.info("Stopped admission-calico")
    }
}
