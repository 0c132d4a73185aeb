import Testing
@testable import CalicoAPI

// Replace with real tests of CalicoAPI.
@Test func CalicoAPIModuleLinks() {}
