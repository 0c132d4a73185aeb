import Synchronization

/// Request counts and latency histograms by outcome, in Prometheus text format.
/// (Own small implementation: the webhook needs two families only and this keeps the hot path
/// to one lock acquisition.)
public final class WebhookMetrics: Sendable {
    /// Histogram bucket upper bounds in seconds.
    public static let buckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Family {
        var count: UInt64 = 0
        var sum: Double = 0
        var bucketCounts = [UInt64](repeating: 0, count: WebhookMetrics.buckets.count)
    }

    private let state = Mutex<[String: Family]>([:])
    private let inFlight = Atomic<Int>(0)

    public init() {}

    /// Records one finished request.
    public func record(outcome: String, seconds: Double) {
        state.withLock { s in
            var f = s[outcome] ?? Family()
            f.count += 1
            f.sum += seconds
            for (i, b) in Self.buckets.enumerated() where seconds <= b { f.bucketCounts[i] += 1 }
            s[outcome] = f
        }
    }

    public func requestStarted() { inFlight.add(1, ordering: .relaxed) }
    public func requestFinished() { inFlight.subtract(1, ordering: .relaxed) }

    /// Total requests recorded for an outcome.
    public func count(outcome: String) -> UInt64 { state.withLock { $0[outcome]?.count ?? 0 } }

    /// Prometheus text exposition.
    public func exposition() -> String {
        let snapshot = state.withLock { $0 }
        var out = "# HELP admission_calico_webhook_requests_total Total number of admission requests by outcome.\n"
        out += "# TYPE admission_calico_webhook_requests_total counter\n"
        for key in snapshot.keys.sorted() {
            out += "admission_calico_webhook_requests_total{webhook=\"/webhooks/validate\",outcome=\"\(key)\"} \(snapshot[key]!.count)\n"
        }
        out += "# HELP admission_calico_webhook_latency_seconds Latency of admission requests by outcome.\n"
        out += "# TYPE admission_calico_webhook_latency_seconds histogram\n"
        for key in snapshot.keys.sorted() {
            let f = snapshot[key]!
            let labels = "webhook=\"/webhooks/validate\",outcome=\"\(key)\""
            for (i, b) in Self.buckets.enumerated() {
                out += "admission_calico_webhook_latency_seconds_bucket{\(labels),le=\"\(b)\"} \(f.bucketCounts[i])\n"
            }
            out += "admission_calico_webhook_latency_seconds_bucket{\(labels),le=\"+Inf\"} \(f.count)\n"
            out += "admission_calico_webhook_latency_seconds_sum{\(labels)} \(f.sum)\n"
            out += "admission_calico_webhook_latency_seconds_count{\(labels)} \(f.count)\n"
        }
        out += "# HELP admission_calico_webhook_requests_in_flight Admission requests being served.\n"
        out += "# TYPE admission_calico_webhook_requests_in_flight gauge\n"
        out += "admission_calico_webhook_requests_in_flight{webhook=\"/webhooks/validate\"} \(inFlight.load(ordering: .relaxed))\n"
        return out
    }
}
