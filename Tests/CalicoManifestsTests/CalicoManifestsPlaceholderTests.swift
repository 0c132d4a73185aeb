import Testing
@testable import CalicoManifests

// Replace with real tests of CalicoManifests.
@Test func CalicoManifestsModuleLinks() {}
