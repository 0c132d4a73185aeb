import ArgumentParser
import Foundation
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

    /// Go pflag syntax for the controller's boolean flags (charts pass `--flag=value`). Usage errors
    /// exit 2, as Go's flag parsing does and as `plan` documents; other failures keep their codes.
    static func main() async {
        let arguments: [String]
        do {
            arguments = try GoFlagSyntax.normalize(Array(CommandLine.arguments.dropFirst()), booleanFlags: ControllerCommand.booleanFlags)
        } catch {
            FileHandle.standardError.write(Data((fullMessage(for: ValidationError(error.description)) + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
