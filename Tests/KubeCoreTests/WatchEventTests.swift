import KubeCore
import Testing

@Suite struct WatchEventTests {
    @Test func typesUseTheWireNames() {
        #expect(WatchEvent.EventType.allCases.map(\.rawValue) == ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"])
        let event = WatchEvent(type: .bookmark, object: ["kind": "Lease", "metadata": ["resourceVersion": "42"]])
        #expect(event.resourceVersion == "42")
        #expect(WatchEvent(type: .error, object: ["kind": "Status", "code": 410]).resourceVersion == nil)
    }
}
