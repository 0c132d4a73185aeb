// swift-tools-version: 6.1
import PackageDescription

// Module layout and dependency direction: see docs/architecture.md (the map).
// KubeCore <- KubeClient <- KubeRuntime <- GardenerExtensions <- NetworkingCalico
// KubeCore <- CalicoAPI <- CalicoManifests ; BuildInfo (no dependencies) <- KubeRuntime, CalicoManifests, both executables ; CalicoAPI <- AdmissionCalico ; KubeCore <- EmbeddedAPIServer
// Development only (never a dependency of the two shipped executables): EmbeddedAPIServer <- EmbeddedAPIServerTesting ;
// NetworkingCalico, AdmissionCalico, EmbeddedAPIServer <- LocalMode ; both <- calico-dev, calico-bench and the tests.
let package = Package(
    name: "gardener-extension-networking-calico",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gardener-extension-networking-calico", targets: ["gardener-extension-networking-calico"]),
        .executable(name: "gardener-extension-admission-calico", targets: ["gardener-extension-admission-calico"]),
        .executable(name: "calico-bench", targets: ["calico-bench"]),
        .executable(name: "calico-dev", targets: ["calico-dev"]),
        .library(name: "EmbeddedAPIServer", targets: ["EmbeddedAPIServer"]),
        .library(name: "EmbeddedAPIServerTesting", targets: ["EmbeddedAPIServerTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.25.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
    ],
    targets: [
        // The no-I/O core every module shares (JSON/YAML, time, merge patch, field errors, IP/CIDR, names, certificates, Shoot).
        .target(
            name: "KubeCore",
            dependencies: [
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        // Timeouts, connection and TLS limits shared by every HTTP(S) listener.
        .target(
            name: "ListenerLimits",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]),
        .target(
            name: "KubeRuntime",
            dependencies: [
                "KubeClient", "ListenerLimits", "BuildInfo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(name: "GardenerExtensions", dependencies: ["KubeRuntime", "KubeClient"]),
        // The build's version (VERSION / EFFECTIVE_VERSION, commit, date), stamped by the BuildStamp plugin.
        .target(name: "BuildInfo", plugins: ["BuildStamp"]),
        .plugin(name: "BuildStamp", capability: .buildTool()),
        .target(name: "CalicoAPI", dependencies: ["KubeCore"]),
        .target(
            name: "CalicoManifests", dependencies: ["CalicoAPI", "KubeCore", "BuildInfo"],
            resources: [.copy("Resources")]),
        .target(
            name: "NetworkingCalico",
            dependencies: [
                "GardenerExtensions", "CalicoAPI", "CalicoManifests", "KubeRuntime", "KubeClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "AdmissionCalico",
            dependencies: [
                "CalicoAPI", "CalicoManifests", "KubeClient", "KubeRuntime", "ListenerLimits",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "EmbeddedAPIServer",
            dependencies: [
                "KubeCore", "ListenerLimits",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Test-only parts of the embedded server: loopback HTTP client and fault injection.
        .target(
            name: "EmbeddedAPIServerTesting",
            dependencies: [
                "EmbeddedAPIServer", "KubeCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // Local mode: the garden/seed/shoot landscape of `calico-dev local` (also used by tests and benchmarks).
        .target(
            name: "LocalMode",
            dependencies: [
                "NetworkingCalico", "AdmissionCalico", "EmbeddedAPIServer", "GardenerExtensions", "CalicoAPI", "CalicoManifests",
                "KubeRuntime", "KubeClient", "KubeCore",
            ]),
        .executableTarget(
            name: "gardener-extension-networking-calico",
            dependencies: [
                "NetworkingCalico", "CalicoAPI", "CalicoManifests", "KubeClient", "KubeRuntime",
                "GardenerExtensions", "KubeCore", "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "gardener-extension-admission-calico",
            dependencies: [
                "AdmissionCalico", "CalicoAPI", "KubeClient", "KubeRuntime", "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Development executable: the embedded API server (`apiserver`) and local mode (`local`).
        .executableTarget(
            name: "calico-dev",
            dependencies: [
                "NetworkingCalico", "LocalMode", "EmbeddedAPIServer", "EmbeddedAPIServerTesting", "CalicoAPI", "CalicoManifests",
                "KubeClient", "KubeRuntime", "GardenerExtensions", "KubeCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Benchmarks as an executable (median/p99 over many iterations), not timed tests.
        .executableTarget(
            name: "calico-bench",
            dependencies: [
                "CalicoAPI", "CalicoManifests", "EmbeddedAPIServer", "EmbeddedAPIServerTesting", "KubeClient", "KubeCore", "AdmissionCalico",
                "NetworkingCalico", "LocalMode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Shared fixtures for tests: locating ../shared, starting the embedded server, clients, polling, temp dirs.
        .target(
            name: "TestSupport", dependencies: ["EmbeddedAPIServer", "EmbeddedAPIServerTesting", "KubeClient", "KubeCore"], path: "Tests/TestSupport"),
        .testTarget(
            name: "KubeCoreTests",
            dependencies: ["KubeCore", .product(name: "Yams", package: "Yams"), .product(name: "X509", package: "swift-certificates")]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "TestSupport", "EmbeddedAPIServer", "EmbeddedAPIServerTesting"]),
        .testTarget(
            name: "KubeRuntimeTests",
            dependencies: [
                "KubeRuntime", "KubeClient", "TestSupport", "BuildInfo", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "GardenerExtensionsTests", dependencies: ["GardenerExtensions", "KubeClient", "TestSupport", "EmbeddedAPIServerTesting"]),
        .testTarget(name: "CalicoAPITests", dependencies: ["CalicoAPI", "TestSupport"]),
        .testTarget(name: "CalicoManifestsTests", dependencies: ["CalicoManifests", "CalicoAPI", "TestSupport"]),
        .testTarget(
            name: "NetworkingCalicoTests",
            dependencies: ["NetworkingCalico", "LocalMode", "TestSupport", "EmbeddedAPIServer", "EmbeddedAPIServerTesting"]),
        .testTarget(
            name: "AdmissionCalicoTests",
            dependencies: [
                "AdmissionCalico", "TestSupport", "KubeClient", "CalicoAPI",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .testTarget(name: "EmbeddedAPIServerTests", dependencies: ["EmbeddedAPIServer", "EmbeddedAPIServerTesting", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
