import ArgumentParser

/// `validate` benchmark.
struct ValidateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate")
    func run() async throws { print("validate: not implemented yet") }
}
