import ArgumentParser
import KubeRuntime

/// The extension's single binary: the controller manager by default, plus tools.
@main
struct NetworkingCalicoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gardener-extension-networking-calico",
        abstract: "Gardener networking extension for Calico.",
        subcommands: [ControllerCommand.self, RenderCommand.self, ValidateCommand.self, PlanCommand.self],
        defaultSubcommand: ControllerCommand.self
    )

    /// Go pflag syntax for the controller's boolean flags (charts pass `--flag=value`).
    static func main() async {
        do {
            await main(try GoFlagSyntax.normalize(Array(CommandLine.arguments.dropFirst()), booleanFlags: ControllerCommand.booleanFlags))
        } catch {
            exit(withError: ValidationError(error.description))
        }
    }
}
