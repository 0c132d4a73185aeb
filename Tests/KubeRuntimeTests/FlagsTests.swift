import ArgumentParser
import Testing

@testable import KubeRuntime

enum TestLease: LeaderElectionDefaults {
    static let leaseName = "test-leader-election"
}

/// The shared option groups: defaults, Go pflag boolean syntax and the settings they build.
@Suite struct FlagsTests {
    static let booleans = Set(LeaderElectionFlags<TestLease>.booleanFlags)

    static func leaderElection(_ arguments: [String]) throws -> LeaderElectionFlags<TestLease> {
        try GoFlagSyntax.parse(LeaderElectionFlags<TestLease>.self, arguments, booleanFlags: booleans)
    }

    @Test func defaults() throws {
        let le = try Self.leaderElection([])
        #expect(le.leaderElection && le.leaderElectionID == "test-leader-election" && le.leaderElectionNamespace == nil)
        let config = try #require(le.configuration(fallbackNamespace: "fallback", environment: [:]))
        #expect(config.name == "test-leader-election" && config.namespace == "fallback")
        #expect(config.leaseDuration == LeaderElectionConfiguration.defaultLeaseDuration)
        #expect(le.configuration(fallbackNamespace: "x", environment: ["LEADER_ELECTION_NAMESPACE": "env"])?.namespace == "env")

        let manager = try ManagerFlags.parse([]).managerOptions(leaderElection: nil)
        #expect(manager.metricsBindAddress == BindAddress(host: "0.0.0.0", port: 8080))
        #expect(manager.healthBindAddress == BindAddress(host: "0.0.0.0", port: 8081))
        #expect(manager.gracefulShutdownTimeout == ManagerOptions().gracefulShutdownTimeout)
        let disabled = try ManagerFlags.parse(["--metrics-bind-address", "0", "--health-bind-address=127.0.0.1:0"])
            .managerOptions(leaderElection: nil)
        #expect(disabled.metricsBindAddress == nil && disabled.healthBindAddress == BindAddress(host: "127.0.0.1", port: 0))
        #expect(throws: ValidationError.self) { try ManagerFlags.parse(["--metrics-bind-address", "nope"]).managerOptions(leaderElection: nil) }

        #expect(try LoggingFlags.parse([]).options() == LoggingOptions())
        #expect(try LoggingFlags.parse(["--log-level", "debug", "--log-format=text"]).options() == LoggingOptions(level: .debug, format: .text))
        #expect(throws: ValidationError.self) { try LoggingFlags.parse(["--log-level", "loud"]).options() }
    }

    @Test func bareBooleanFlagMeansTrue() throws {
        #expect(try Self.leaderElection(["--leader-election"]).leaderElection)
        #expect(
            try GoFlagSyntax.normalize(["--leader-election", "--leader-election-id", "x"], booleanFlags: Self.booleans) == [
                "--leader-election=true", "--leader-election-id", "x",
            ])
    }

    @Test(arguments: ["1", "t", "T", "true", "TRUE", "True"])
    func goTrueSpellings(_ value: String) throws {
        var le = try Self.leaderElection(["--leader-election=false"])
        #expect(!le.leaderElection)
        le = try Self.leaderElection(["--leader-election=\(value)"])
        #expect(le.leaderElection)
    }

    @Test(arguments: ["0", "f", "F", "false", "FALSE", "False"])
    func goFalseSpellings(_ value: String) throws {
        #expect(try !Self.leaderElection(["--leader-election=\(value)"]).leaderElection)
    }

    @Test func invalidBooleanNamesTheFlag() {
        #expect(throws: GoFlagSyntax.InvalidBool(flag: "leader-election", value: "yes")) {
            try GoFlagSyntax.normalize(["--leader-election=yes"], booleanFlags: Self.booleans)
        }
        let message = GoFlagSyntax.InvalidBool(flag: "leader-election", value: "yes").description
        #expect(message == #"invalid argument "yes" for "--leader-election" flag: strconv.ParseBool: parsing "yes": invalid syntax"#)
    }

    @Test func booleanNeverTakesTheNextArgument() throws {
        // As in pflag: `--flag false` is `--flag` followed by a stray argument.
        #expect(throws: (any Error).self) { try Self.leaderElection(["--leader-election", "false"]) }
        // Other flags and everything after `--` are left alone.
        #expect(
            try GoFlagSyntax.normalize(["--leader-election-id=T", "--", "--leader-election"], booleanFlags: Self.booleans) == [
                "--leader-election-id=T", "--", "--leader-election",
            ])
    }
}
