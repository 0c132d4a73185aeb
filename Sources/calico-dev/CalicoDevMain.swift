import ArgumentParser

/// The development executable: the embedded API server and local mode, which the shipped
/// controller binary does not carry (see DEVELOPERS.md).
@main
struct CalicoDevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calico-dev",
        abstract: "Development tools of the Calico networking extension: embedded API server and local mode.",
        subcommands: [APIServerCommand.self, LocalCommand.self]
    )
}
