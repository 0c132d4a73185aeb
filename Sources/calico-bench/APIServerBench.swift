import ArgumentParser

/// `apiserver` benchmark.
struct APIServerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apiserver")
    func run() async throws { print("apiserver: not implemented yet") }
}
