import ArgumentParser

/// `validate` subcommand.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Validate NetworkConfig, Network or Shoot files.")

    func run() async throws {
        throw ValidationError("validate is not implemented yet")
    }
}
