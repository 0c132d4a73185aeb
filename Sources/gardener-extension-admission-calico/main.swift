import ArgumentParser

/// The admission webhook for Shoots using calico networking.
@main
struct AdmissionCalicoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gardener-extension-admission-calico")
    func run() async throws {
        throw ValidationError("not implemented yet")
    }
}
