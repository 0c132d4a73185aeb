import ArgumentParser

/// `controller` subcommand.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "controller", abstract: "Run the controller manager.")

    func run() async throws {
        throw ValidationError("controller is not implemented yet")
    }
}
