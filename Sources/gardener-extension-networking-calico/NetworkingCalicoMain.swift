import ArgumentParser

/// The extension's single binary: the controller manager by default, plus tools.
@main
struct NetworkingCalicoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gardener-extension-networking-calico",
        abstract: "Gardener networking extension for Calico.",
        subcommands: [ControllerCommand.self, RenderCommand.self, ValidateCommand.self, PlanCommand.self],
        defaultSubcommand: ControllerCommand.self
    )
}
