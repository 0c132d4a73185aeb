import ArgumentParser

/// `render` benchmark.
struct RenderBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render")
    func run() async throws { print("render: not implemented yet") }
}
