import ArgumentParser

/// `apiserver` subcommand.
struct APIServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apiserver", abstract: "Run the embedded Kubernetes API server.")

    func run() async throws {
        throw ValidationError("apiserver is not implemented yet")
    }
}
