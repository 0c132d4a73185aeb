/// What a binary was built from: the fields of Kubernetes' `version.Info`, which Go's `verflag`
/// prints for `--version=raw`. The version comes from the `VERSION` file or the build's
/// `EFFECTIVE_VERSION`, stamped at build time by the `BuildStamp` plugin (see docs/deployment.md).
public struct BuildInfo: Sendable, Equatable {
    /// Major version, from `gitVersion` (`1` for `v1.60.0-dev`); empty when it is no `vX.Y...` version.
    public var major: String
    /// Minor version, with `+` when `gitVersion` has a pre-release part (`60+` for `v1.60.0-dev`).
    public var minor: String
    /// The version: the chart image tag, the `cni-plugins` tag and what `--version` prints.
    public var gitVersion: String
    /// The commit built, when the build knew it.
    public var gitCommit: String
    /// `clean` or `dirty`, when the build knew it.
    public var gitTreeState: String
    /// Build time (`2026-01-02T03:04:05+00:00`), when the build set it.
    public var buildDate: String
    /// The compiler's language version (`swift6.3`), in the place of Go's `goVersion`.
    public var swiftVersion: String
    /// The compiler (`swiftc`, where Go prints `gc`).
    public var compiler: String
    /// `<os>/<arch>` in Go's spelling (`linux/amd64`).
    public var platform: String

    /// The name `--version` prints before the version, as the Go build sets it in verflag.
    public static let programName = "gardener-extension"
    /// What Go's version package reports when nothing was injected; used for unset stamp fields.
    public static let unstampedVersion = "v0.0.0-master+$Format:%H$"

    /// Fields of an arbitrary build; empty stamp fields take Go's un-injected defaults.
    public init(
        gitVersion: String, gitCommit: String = "", gitTreeState: String = "", buildDate: String = "",
        swiftVersion: String = BuildInfo.compilerVersion, compiler: String = "swiftc", platform: String = BuildInfo.hostPlatform
    ) {
        let version = gitVersion.isEmpty ? BuildInfo.unstampedVersion : gitVersion
        (major, minor) = BuildInfo.majorMinor(version)
        self.gitVersion = version
        self.gitCommit = gitCommit.isEmpty ? "$Format:%H$" : gitCommit
        self.gitTreeState = gitTreeState
        self.buildDate = buildDate.isEmpty ? "1970-01-01T00:00:00Z" : buildDate
        self.swiftVersion = swiftVersion
        self.compiler = compiler
        self.platform = platform
    }

    /// This binary's build.
    public static let current = BuildInfo(
        gitVersion: stampedGitVersion, gitCommit: stampedGitCommit, gitTreeState: stampedGitTreeState, buildDate: stampedBuildDate)

    /// `--version`: `gardener-extension v1.60.0-dev`.
    public var versionLine: String { "\(BuildInfo.programName) \(gitVersion)" }

    /// `--version=raw`: Go's `%#v` of `version.Info` (the emulation fields stay empty, as in Go's binaries).
    public var rawDescription: String {
        let fields: [(String, String)] = [
            ("Major", major), ("Minor", minor), ("EmulationMajor", ""), ("EmulationMinor", ""), ("MinCompatibilityMajor", ""),
            ("MinCompatibilityMinor", ""), ("GitVersion", gitVersion), ("GitCommit", gitCommit), ("GitTreeState", gitTreeState),
            ("BuildDate", buildDate), ("GoVersion", swiftVersion), ("Compiler", compiler), ("Platform", platform),
        ]
        return "version.Info{" + fields.map { "\($0.0):\(BuildInfo.goQuoted($0.1))" }.joined(separator: ", ") + "}"
    }

    /// Major and minor as the Go build derives them: `v<major>.<minor>[.<patch>][-<pre>][+<meta>]`,
    /// minor suffixed with `+` when there is a pre-release part; both empty for anything else.
    static func majorMinor(_ version: String) -> (String, String) {
        guard version.hasPrefix("v") else { return ("", "") }
        var core = Substring(version.dropFirst())
        var preRelease = false
        if let cut = core.firstIndex(where: { $0 == "-" || $0 == "+" }) {
            preRelease = core[cut] == "-"
            core = core[..<cut]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            return ("", "")
        }
        return (String(parts[0]), preRelease ? "\(parts[1])+" : String(parts[1]))
    }

    /// A Go-syntax quoted string (`strconv.Quote` for the characters a stamp can hold).
    static func goQuoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The compiler that built this binary (language-mode version granularity: `swift6.3`).
    public static var compilerVersion: String {
        #if compiler(>=6.5)
            "swift6.5"
        #elseif compiler(>=6.4)
            "swift6.4"
        #elseif compiler(>=6.3)
            "swift6.3"
        #elseif compiler(>=6.2)
            "swift6.2"
        #elseif compiler(>=6.1)
            "swift6.1"
        #else
            "swift6.0"
        #endif
    }

    /// `<os>/<arch>` with Go's names (`linux/amd64`, `darwin/arm64`).
    public static var hostPlatform: String {
        #if os(Linux)
            let os = "linux"
        #elseif os(macOS)
            let os = "darwin"
        #else
            let os = "unknown"
        #endif
        #if arch(x86_64)
            let arch = "amd64"
        #elseif arch(arm64)
            let arch = "arm64"
        #else
            let arch = "unknown"
        #endif
        return "\(os)/\(arch)"
    }
}
