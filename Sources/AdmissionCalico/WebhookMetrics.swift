import Synchronization

/// The webhook's metrics under controller-runtime's webhook metric names (so dashboards and alerts
/// written for controller-runtime webhooks work unchanged), plus a decision counter by outcome:
/// - `controller_runtime_webhook_requests_total{webhook,code}` (code = HTTP status code),
/// - `controller_runtime_webhook_latency_seconds{webhook}` histogram (Prometheus default buckets),
/// - `controller_runtime_webhook_requests_in_flight{webhook}` gauge,
/// - `admission_calico_webhook_decisions_total{webhook,outcome}` (allowed, denied, errored, skipped, malformed),
/// - `admission_calico_webhook_decision_duration_seconds{webhook,outcome}` histogram (same buckets):
///   latency by outcome, which controller-runtime's histogram cannot tell apart.
///
/// (Own small implementation: the hot path is one lock acquisition over fixed-size state.)
public final class WebhookMetrics: Sendable {
    /// The `webhook` label: the served path, as controller-runtime labels it.
    public static let webhookLabel = AdmissionReviewHandler.path
    /// Histogram bucket upper bounds in seconds (Prometheus' `DefBuckets`, as controller-runtime uses).
    public static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct State {
        var codes: [Int: UInt64] = [:]
        var outcomes = [UInt64](repeating: 0, count: AdmissionOutcome.allCases.count)
        var count: UInt64 = 0
        var sum: Double = 0
        var bucketCounts = [UInt64](repeating: 0, count: WebhookMetrics.buckets.count)
        /// Per outcome: bucket counts (first matching bucket) and the sum of seconds.
        var outcomeBuckets = [[UInt64]](
            repeating: [UInt64](repeating: 0, count: WebhookMetrics.buckets.count), count: AdmissionOutcome.allCases.count)
        var outcomeSums = [Double](repeating: 0, count: AdmissionOutcome.allCases.count)
    }

    private let state = Mutex(State())
    private let inFlight = Atomic<Int>(0)

    /// Empty metrics.
    public init() {}

    /// Records one finished request: its HTTP status code, the admission outcome and the latency.
    public func record(code: Int, outcome: AdmissionOutcome, seconds: Double) {
        let outcomeIndex = AdmissionOutcome.allCases.firstIndex(of: outcome) ?? 0
        state.withLock { s in
            s.codes[code, default: 0] += 1
            s.outcomes[outcomeIndex] += 1
            s.count += 1
            s.sum += seconds
            // Buckets are cumulative in the exposition; store the first matching bucket only.
            s.outcomeSums[outcomeIndex] += seconds
            if let i = Self.buckets.firstIndex(where: { seconds <= $0 }) {
                s.bucketCounts[i] += 1
                s.outcomeBuckets[outcomeIndex][i] += 1
            }
        }
    }

    /// Counts a request in flight.
    public func requestStarted() { inFlight.add(1, ordering: .relaxed) }
    /// Counts a request as no longer in flight.
    public func requestFinished() { inFlight.subtract(1, ordering: .relaxed) }

    /// Decisions recorded for an outcome.
    public func count(outcome: AdmissionOutcome) -> UInt64 {
        let i = AdmissionOutcome.allCases.firstIndex(of: outcome) ?? 0
        return state.withLock { $0.outcomes[i] }
    }

    /// Requests recorded with an HTTP status code.
    public func count(code: Int) -> UInt64 { state.withLock { $0.codes[code] ?? 0 } }

    /// Prometheus text exposition.
    public func exposition() -> String {
        let s = state.withLock { $0 }
        let w = "webhook=\"\(Self.webhookLabel)\""
        var out = "# HELP controller_runtime_webhook_latency_seconds Histogram of the latency of processing admission requests\n"
        out += "# TYPE controller_runtime_webhook_latency_seconds histogram\n"
        var cumulative: UInt64 = 0
        for (i, b) in Self.buckets.enumerated() {
            cumulative += s.bucketCounts[i]
            out += "controller_runtime_webhook_latency_seconds_bucket{\(w),le=\"\(Self.format(b))\"} \(cumulative)\n"
        }
        out += "controller_runtime_webhook_latency_seconds_bucket{\(w),le=\"+Inf\"} \(s.count)\n"
        out += "controller_runtime_webhook_latency_seconds_sum{\(w)} \(s.sum)\n"
        out += "controller_runtime_webhook_latency_seconds_count{\(w)} \(s.count)\n"
        out += "# HELP controller_runtime_webhook_requests_in_flight Current number of admission requests being served.\n"
        out += "# TYPE controller_runtime_webhook_requests_in_flight gauge\n"
        out += "controller_runtime_webhook_requests_in_flight{\(w)} \(inFlight.load(ordering: .relaxed))\n"
        out += "# HELP controller_runtime_webhook_requests_total Total number of admission requests by HTTP status code.\n"
        out += "# TYPE controller_runtime_webhook_requests_total counter\n"
        for code in s.codes.keys.sorted() {
            out += "controller_runtime_webhook_requests_total{code=\"\(code)\",\(w)} \(s.codes[code] ?? 0)\n"
        }
        out += "# HELP admission_calico_webhook_decisions_total Admission requests by outcome (allowed, denied, errored, skipped, malformed).\n"
        out += "# TYPE admission_calico_webhook_decisions_total counter\n"
        for (i, o) in AdmissionOutcome.allCases.enumerated() {
            out += "admission_calico_webhook_decisions_total{outcome=\"\(o.rawValue)\",\(w)} \(s.outcomes[i])\n"
        }
        out += "# HELP admission_calico_webhook_decision_duration_seconds Latency of admission requests by outcome.\n"
        out += "# TYPE admission_calico_webhook_decision_duration_seconds histogram\n"
        for (i, o) in AdmissionOutcome.allCases.enumerated() {
            let labels = "outcome=\"\(o.rawValue)\",\(w)"
            var running: UInt64 = 0
            for (j, b) in Self.buckets.enumerated() {
                running += s.outcomeBuckets[i][j]
                out += "admission_calico_webhook_decision_duration_seconds_bucket{\(labels),le=\"\(Self.format(b))\"} \(running)\n"
            }
            out += "admission_calico_webhook_decision_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(s.outcomes[i])\n"
            out += "admission_calico_webhook_decision_duration_seconds_sum{\(labels)} \(s.outcomeSums[i])\n"
            out += "admission_calico_webhook_decision_duration_seconds_count{\(labels)} \(s.outcomes[i])\n"
        }
        return out
    }

    /// Bucket bounds as Prometheus' Go client prints them (`0.005`, `1`, `2.5`).
    static func format(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : "\(v)"
    }
}
