/// One HTTP request the client sent (each retry is a request of its own), for metrics such as
/// client-go's `rest_client_requests_total` and `rest_client_request_duration_seconds`.
public struct RequestObservation: Sendable {
    /// HTTP method (`GET`, `PATCH`, ...).
    public var method: String
    /// `host:port` of the API server.
    public var host: String
    /// The HTTP status code, or nil when no answer came (connection or TLS failure, timeout).
    public var statusCode: Int?
    /// From sending the request to the response head (watches: until the stream opened).
    public var duration: Duration
}

/// Receives every request a ``KubernetesClient`` sends; called on the request's task, so it must
/// be quick (count, observe a histogram).
public typealias RequestObserver = @Sendable (RequestObservation) -> Void
