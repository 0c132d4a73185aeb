import ArgumentParser

/// `render` subcommand.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Render the shoot manifests for a Network and Cluster.")

    func run() async throws {
        throw ValidationError("render is not implemented yet")
    }
}
