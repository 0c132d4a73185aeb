import Testing
@testable import GardenerExtensions

// Replace with real tests of GardenerExtensions.
@Test func GardenerExtensionsModuleLinks() {}
