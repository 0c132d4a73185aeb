import AdmissionCalico
import ArgumentParser
import Foundation
import KubeRuntime
import Logging

/// The admission webhook for Shoots using calico networking (docs/operations.md, docs/deployment.md).
@main
struct AdmissionCalicoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gardener-extension-admission-calico",
        abstract: "Validating admission webhook for Shoots with calico networking.")

    @Option(help: "Path to the garden cluster kubeconfig (GARDEN_KUBECONFIG overrides it).") var kubeconfig: String = ""
    @Option(help: "API server URL override.") var master: String = ""
    @Option(help: "Leader election on/off.") var leaderElection: Bool = true
    @Option(help: "Leader election lease name.") var leaderElectionId: String = "admission-calico-leader-election"
    @Option(help: "Leader election namespace (default: LEADER_ELECTION_NAMESPACE).") var leaderElectionNamespace: String?
    @Option(help: "Webhook server listen host.") var webhookConfigServerHost: String = ""
    @Option(help: "Webhook server listen port.") var webhookConfigServerPort: Int = 443
    @Option(help: "Directory for the serving certificate and key.") var webhookConfigCertDir: String = "/tmp/admission-calico-cert"
    @Option(help: "Webhook config mode: service, url or url-service.") var webhookConfigMode: String = ""
    @Option(help: "host[:port] used in url mode.") var webhookConfigUrl: String = ""
    @Option(help: "Service port (service/url-service mode; defaults to the server port).") var webhookConfigServicePort: Int = 0
    @Option(help: "Namespace of the service and certificate secrets (default: WEBHOOK_CONFIG_NAMESPACE).") var webhookConfigNamespace: String?
    @Option(help: "Owner namespace of the webhook configuration (default: the namespace).") var webhookConfigOwnerNamespace: String = ""
    @Option(help: "Prometheus metrics address.") var metricsBindAddress: String = ":8080"
    @Option(help: "Health probe address.") var healthBindAddress: String = ":8081"
    @Option(help: "Webhooks to disable (validator, or * for all).") var disableWebhooks: [String] = []
    @Option(help: "Log level: info, debug or error.") var logLevel: String = "info"
    @Option(help: "Log format: json or text.") var logFormat: String = "json"
    @Flag(help: "Print the version and exit.") var version = false

    func run() async throws {
        if version {
            print("gardener-extension-admission-calico v0.1.0")
            return
        }
        let logging: LoggingOptions
        do { logging = try LoggingOptions.parse(level: logLevel, format: logFormat) } catch { throw ValidationError(error.description) }
        logging.bootstrap()
        let logger = Logger(label: "admission-calico")

        var options = AdmissionOptions()
        options.kubeconfig = kubeconfig
        options.master = master
        options.leaderElection = leaderElection
        options.leaderElectionID = leaderElectionId
        options.leaderElectionNamespace = leaderElectionNamespace ?? ""
        options.serverHost = webhookConfigServerHost
        options.serverPort = webhookConfigServerPort
        options.certDirectory = webhookConfigCertDir
        options.mode = webhookConfigMode
        options.url = webhookConfigUrl
        options.servicePort = webhookConfigServicePort
        options.namespace = webhookConfigNamespace ?? ""
        options.ownerNamespace = webhookConfigOwnerNamespace
        options.metricsBindAddress = metricsBindAddress
        options.healthBindAddress = healthBindAddress
        options.disableWebhooks = disableWebhooks
        options.applyEnvironment(
            ProcessInfo.processInfo.environment, namespaceFlagSet: webhookConfigNamespace != nil,
            leaderNamespaceFlagSet: leaderElectionNamespace != nil)
        do {
            _ = try options.webhookDisabled()
            _ = try options.registrationOptions()
        } catch {
            throw ValidationError(error.description)
        }
        logger.info("Starting admission-calico")
        let runtime = try await AdmissionRuntime.start(options, logger: logger)
        await waitForTermination()
        logger.info("Stopping admission-calico")
        await runtime.stop()
    }
}

/// Suspends until SIGTERM or SIGINT.
func waitForTermination() async {
    let stream = AsyncStream<Int32> { continuation in
        let queue = DispatchQueue(label: "signals")
        let sources = [SIGTERM, SIGINT].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            return source
        }
        // Keep the sources alive for the life of the process.
        SignalSources.keep(sources)
    }
    for await _ in stream { return }
}

enum SignalSources {
    nonisolated(unsafe) static var retained: [any DispatchSourceSignal] = []
    static func keep(_ s: [any DispatchSourceSignal]) { retained += s }
}
