import Testing
@testable import EmbeddedAPIServer

// Replace with real tests of EmbeddedAPIServer.
@Test func EmbeddedAPIServerModuleLinks() {}
