import ArgumentParser
import BuildInfo
import Foundation
import KubeRuntime
import Testing

/// `--version` as Go's verflag prints it, from the version stamped at build time.
struct VersionFlagsTests {
    @Test func theStampedVersionIsTheVersionFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("VERSION"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Builds in tests are plain `swift build`s: no EFFECTIVE_VERSION, so VERSION is stamped.
        if ProcessInfo.processInfo.environment["EFFECTIVE_VERSION"] == nil {
            #expect(BuildInfo.current.gitVersion == file)
        }
        #expect(BuildInfo.current.platform.hasPrefix("linux/") || BuildInfo.current.platform.hasPrefix("darwin/"))
    }

    @Test func majorAndMinorAreDerivedAsTheGoBuildDoes() {
        #expect(BuildInfo(gitVersion: "v1.60.0-dev").major == "1")
        #expect(BuildInfo(gitVersion: "v1.60.0-dev").minor == "60+")
        #expect(BuildInfo(gitVersion: "v1.61.2").minor == "61")
        #expect(BuildInfo(gitVersion: "v1.61").minor == "61")
        #expect(BuildInfo(gitVersion: "v1.61.2+build.5").minor == "61")
        #expect(BuildInfo(gitVersion: "1.61.2").major == "")
        #expect(BuildInfo(gitVersion: "v1.61.2.3").minor == "")
        // Nothing stamped: Go's defaults.
        let unstamped = BuildInfo(gitVersion: "")
        #expect(unstamped.gitVersion == "v0.0.0-master+$Format:%H$")
        #expect(unstamped.minor == "0+")
        #expect(unstamped.buildDate == "1970-01-01T00:00:00Z")
    }

    @Test func outputIsVerflags() throws {
        let build = BuildInfo(
            gitVersion: "v1.61.0", gitCommit: "0123abcd", gitTreeState: "clean", buildDate: "2026-12-06T02:00:00+00:00",
            swiftVersion: "swift6.3", platform: "linux/arm64")
        let flags = { (args: [String]) throws -> VersionFlags in
            try VersionFlags.parse(try GoFlagSyntax.normalize(args, booleanFlags: Set(VersionFlags.booleanFlags)))
        }
        #expect(try flags([]).output(build) == nil)
        #expect(try flags(["--version=false"]).output(build) == nil)
        #expect(try flags(["--version=0"]).output(build) == nil)
        #expect(try flags(["--version"]).output(build) == "gardener-extension v1.61.0")
        #expect(try flags(["--version=T"]).output(build) == "gardener-extension v1.61.0")
        #expect(
            try flags(["--version=raw"]).output(build)
                == #"version.Info{Major:"1", Minor:"61", EmulationMajor:"", EmulationMinor:"", MinCompatibilityMajor:"", "#
                + #"MinCompatibilityMinor:"", GitVersion:"v1.61.0", GitCommit:"0123abcd", GitTreeState:"clean", "#
                + #"BuildDate:"2026-12-06T02:00:00+00:00", GoVersion:"swift6.3", Compiler:"swiftc", Platform:"linux/arm64"}"#)
        #expect(throws: GoFlagSyntax.InvalidBool.self) { try flags(["--version=rawr"]) }
        // `raw` is special to --version only.
        #expect(throws: GoFlagSyntax.InvalidBool.self) {
            try GoFlagSyntax.normalize(["--leader-election=raw"], booleanFlags: ["leader-election", "version"])
        }
    }
}
