import ArgumentParser

/// `local` subcommand.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "local", abstract: "Run the extension locally against an embedded API server.")

    func run() async throws {
        throw ValidationError("local is not implemented yet")
    }
}
