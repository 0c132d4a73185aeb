/// One event of a Kubernetes watch stream (`{"type": ..., "object": ...}`), the same for the
/// client that decodes streams, the informers that consume them and the embedded API server that
/// writes them.
public struct WatchEvent: Sendable, Hashable {
    /// The event's `type` member.
    public enum EventType: String, Sendable, Hashable, CaseIterable {
        /// The object was created (or entered the watch's selectors).
        case added = "ADDED"
        /// The object changed and still matches the selectors.
        case modified = "MODIFIED"
        /// The object was deleted (or left the watch's selectors); `object` is its last state.
        case deleted = "DELETED"
        /// A progress notification: `object` carries only `apiVersion`, `kind` and
        /// `metadata.resourceVersion`.
        case bookmark = "BOOKMARK"
        /// The watch failed; `object` is a `Status` (410 when the resourceVersion expired).
        case error = "ERROR"
    }

    /// What happened.
    public var type: EventType
    /// The object (for bookmarks only `apiVersion`, `kind` and `metadata.resourceVersion`; for
    /// errors a `Status`).
    public var object: JSON

    /// An event of `type` carrying `object`.
    public init(type: EventType, object: JSON) {
        self.type = type
        self.object = object
    }

    /// `object.metadata.resourceVersion`.
    public var resourceVersion: String? { object[path: "metadata", "resourceVersion"]?.stringValue }
}
