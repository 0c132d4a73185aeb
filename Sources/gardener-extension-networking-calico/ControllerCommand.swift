import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import GardenerExtensions
import KubeClient
import KubeRuntime
import Logging
import NetworkingCalico

/// `controller` subcommand (the default): the networking-calico controller manager.
/// Runs until SIGTERM/SIGINT, then stops gracefully; exits non-zero when the lease is lost.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller", abstract: "Run the networking-calico controller manager (default).")

    @OptionGroup var controller: ControllerFlags
    @OptionGroup var leaderElection: LeaderElectionFlags<CalicoLease>
    @OptionGroup var manager: ManagerFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var version: VersionFlags

    /// Boolean flags in Go syntax (see `GoFlagSyntax`).
    static let booleanFlags = Set(ControllerFlags.booleanFlags + LeaderElectionFlags<CalicoLease>.booleanFlags + VersionFlags.booleanFlags)

    func run() async throws {
        if let text = version.output() {
            print(text)
            return
        }
        let env = ProcessInfo.processInfo.environment
        let logger = try logging.options().startLogging("networking-calico")

        let setup: (CalicoControllerSettings, KubernetesClient)
        do {
            let (settings, config) = try controller.settings(leaderElection: leaderElection, manager: manager, environment: env)
            setup = (settings, try KubernetesClient(configuration: config))
        } catch let e as ValidationError {
            throw e
        } catch {
            logger.error("Startup failed", metadata: ["error": "\(error)"])
            throw ValidationError("\(error)")
        }
        let (settings, client) = setup
        for warning in settings.actuator.imageVector.warnings {
            logger.warning("Image vector overwrite", metadata: ["warning": "\(warning)"])
        }
        let manager = try await CalicoController.makeManager(client: client, settings: settings, logger: logger)
        try await manager.runUntilSignalled(thenClosing: client, logger: logger)
    }
}
