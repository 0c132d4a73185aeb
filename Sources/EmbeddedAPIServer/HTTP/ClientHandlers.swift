import NIOCore

/// Channel handlers of the server that the loopback client in EmbeddedAPIServerTesting reuses.
package enum ClientHandlers {
    /// A ``WriteCoalescer``: a request's head and body then go out in one TLS record.
    package static func writeCoalescer() -> any ChannelHandler { WriteCoalescer() }
}
