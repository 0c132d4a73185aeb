import Testing
@testable import KubeClient

// Replace with real tests of KubeClient.
@Test func KubeClientModuleLinks() {}
