import Testing
@testable import NetworkingCalico

// Replace with real tests of NetworkingCalico.
@Test func NetworkingCalicoModuleLinks() {}
