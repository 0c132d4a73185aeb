import Testing
@testable import AdmissionCalico

// Replace with real tests of AdmissionCalico.
@Test func AdmissionCalicoModuleLinks() {}
