import Prometheus

/// The Prometheus registry of one manager plus factories for the metric families that
/// controller-runtime and client-go expose, under the same names and labels so existing
/// dashboards and alerts keep working.
public final class MetricsRegistry: Sendable {
    /// The underlying swift-prometheus registry (add your own metrics here).
    public let prometheus: PrometheusCollectorRegistry

    /// A registry over `prometheus`.
    public init(prometheus: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.prometheus = prometheus
    }

    /// The registry in Prometheus text exposition format (what `/metrics` serves).
    public func exposition() -> String { prometheus.emitToString() }

    /// controller-runtime's reconcile-time buckets.
    static let reconcileBuckets: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
        1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
    ]
    /// client-go's work-queue buckets: exponential from 10 ns, factor 10, 12 buckets.
    static let queueBuckets: [Double] = (0..<12).map { i in
        var v = 1e-8
        for _ in 0..<i { v *= 10 }
        return v
    }

    func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        prometheus.makeCounter(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        prometheus.makeGauge(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    func histogram(_ name: String, _ help: String, _ labels: [(String, String)], _ buckets: [Double]) -> ValueHistogram {
        prometheus.makeValueHistogram(
            descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels, buckets: buckets)
    }

    /// Work-queue metrics (`workqueue_*`) labelled with `controller` and `name` like controller-runtime.
    public func workQueueMetrics(name: String) -> WorkQueueMetrics {
        let l = [("controller", name), ("name", name)]
        return WorkQueueMetrics(
            depth: gauge("workqueue_depth", "Current depth of workqueue", l),
            adds: counter("workqueue_adds_total", "Total number of adds handled by workqueue", l),
            queueDuration: histogram(
                "workqueue_queue_duration_seconds",
                "How long in seconds an item stays in workqueue before being requested", l, Self.queueBuckets),
            workDuration: histogram(
                "workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes",
                l, Self.queueBuckets),
            retries: counter("workqueue_retries_total", "Total number of retries handled by workqueue", l),
            unfinishedWork: gauge(
                "workqueue_unfinished_work_seconds",
                "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
                l),
            longestRunning: gauge(
                "workqueue_longest_running_processor_seconds",
                "How many seconds has the longest running processor for workqueue been running.", l))
    }

    /// Controller metrics (`controller_runtime_*`) for one controller.
    public func controllerMetrics(name: String) -> ControllerMetrics {
        let l = [("controller", name)]
        let totalHelp = "Total number of reconciliations per controller"
        func total(_ result: String) -> Counter {
            counter("controller_runtime_reconcile_total", totalHelp, [("controller", name), ("result", result)])
        }
        return ControllerMetrics(
            success: total("success"), error: total("error"), requeue: total("requeue"),
            requeueAfter: total("requeue_after"), terminalError: total("terminal_error"),
            errors: counter(
                "controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller", l),
            terminalErrors: counter(
                "controller_runtime_terminal_reconcile_errors_total",
                "Total number of terminal reconciliation errors per controller", l),
            panics: counter(
                "controller_runtime_reconcile_panics_total", "Total number of reconciliation panics per controller", l),
            reconcileTime: histogram(
                "controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller", l,
                Self.reconcileBuckets),
            maxConcurrent: gauge(
                "controller_runtime_max_concurrent_reconciles", "Maximum number of concurrent reconciles per controller",
                l),
            activeWorkers: gauge(
                "controller_runtime_active_workers", "Number of currently used workers per controller", l))
    }

    /// client-go's `leader_election_master_status{name}` gauge: 1 while this process leads.
    public func leaderElectionStatus(name: String) -> Gauge {
        gauge(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
            [("name", name)])
    }
}

/// The `workqueue_*` instruments of one queue.
public struct WorkQueueMetrics: Sendable {
    /// `workqueue_depth`.
    public let depth: Gauge
    /// `workqueue_adds_total`.
    public let adds: Counter
    /// `workqueue_queue_duration_seconds`.
    public let queueDuration: ValueHistogram
    /// `workqueue_work_duration_seconds`.
    public let workDuration: ValueHistogram
    /// `workqueue_retries_total`.
    public let retries: Counter
    /// `workqueue_unfinished_work_seconds`.
    public let unfinishedWork: Gauge
    /// `workqueue_longest_running_processor_seconds`.
    public let longestRunning: Gauge
}

/// The `controller_runtime_*` instruments of one controller.
public struct ControllerMetrics: Sendable {
    /// Reconciles that succeeded.
    public let success: Counter
    /// Reconciles that failed (`result="error"`).
    public let error: Counter
    /// Reconciles that asked for a rate-limited requeue.
    public let requeue: Counter
    /// Reconciles that asked for a requeue after a delay.
    public let requeueAfter: Counter
    /// `controller_runtime_reconcile_total{result="terminal_error"}`: failed, not requeued.
    public let terminalError: Counter
    /// `controller_runtime_reconcile_errors_total`: every failed reconcile, terminal or not.
    public let errors: Counter
    /// `controller_runtime_terminal_reconcile_errors_total`.
    public let terminalErrors: Counter
    /// `controller_runtime_reconcile_panics_total`.
    public let panics: Counter
    /// `controller_runtime_reconcile_time_seconds`.
    public let reconcileTime: ValueHistogram
    /// `controller_runtime_max_concurrent_reconciles`.
    public let maxConcurrent: Gauge
    /// `controller_runtime_active_workers`.
    public let activeWorkers: Gauge
}
