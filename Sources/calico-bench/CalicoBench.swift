import ArgumentParser

/// Benchmarks as an executable: `swift run -c release calico-bench <name>`.
/// Each subcommand reports median and p99 (and what else it measures) on stdout.
@main
struct CalicoBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calico-bench",
        abstract: "Benchmarks of rendering, validation, the webhook, the embedded API server and the controller.",
        subcommands: [RenderBench.self, PlanBench.self, ValidateBench.self, APIServerBench.self, ControllerBench.self, APIServerSoak.self]
    )
}
