import Testing
@testable import KubeRuntime

// Replace with real tests of KubeRuntime.
@Test func KubeRuntimeModuleLinks() {}
