import Foundation
import KubeClient
import Prometheus
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension MetricsRegistry {
    /// client-go's request-latency buckets.
    static let requestBuckets: [Double] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60]

    /// An observer that counts `client`'s requests as client-go does:
    /// `rest_client_requests_total{code,host,method}` (`<error>` when no answer came) and
    /// `rest_client_request_duration_seconds{host,verb}`.
    public func restClientObserver() -> RequestObserver {
        { [self] observation in
            let code = observation.statusCode.map(String.init) ?? "<error>"
            counter(
                "rest_client_requests_total", "Number of HTTP requests, partitioned by status code, method, and host.",
                [("code", code), ("host", observation.host), ("method", observation.method)]
            ).increment()
            histogram(
                "rest_client_request_duration_seconds", "Request latency in seconds. Broken down by verb, and host.",
                [("host", observation.host), ("verb", observation.method)], Self.requestBuckets
            ).record(observation.duration.seconds)
        }
    }
}

/// The `process_*` metrics of Prometheus' Go client (CPU, memory, file descriptors, start time),
/// read from `/proc` at scrape time, which dashboards for Go extensions chart.
public enum ProcessMetrics {
    /// When this process started, in seconds since the epoch (read once).
    static let startTime: Double = {
        // Field 22 of /proc/self/stat is the start time in clock ticks after boot.
        guard let fields = statFields(), fields.count > 19, let ticks = Double(fields[19]),
            let uptime = (try? String(contentsOfFile: "/proc/uptime", encoding: .utf8))?.split(separator: " ").first.flatMap({ Double($0) })
        else { return Date().timeIntervalSince1970 }
        let bootTime = Date().timeIntervalSince1970 - uptime
        return bootTime + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }()

    /// The fields of /proc/self/stat after the command name (field 3 on).
    static func statFields() -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return nil
        }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// The metrics in Prometheus text format.
    public static func exposition() -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ type: String, _ value: Double) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let f = statFields(), f.count > 21, let utime = Double(f[11]), let stime = Double(f[12]), let vsize = Double(f[20]),
            let rssPages = Double(f[21])
        {
            gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", (utime + stime) / tick)
            gauge(
                "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", rssPages * Double(sysconf(Int32(_SC_PAGESIZE))))
            gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", vsize)
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            gauge("process_open_fds", "Number of open file descriptors.", "gauge", Double(fds.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            gauge("process_max_fds", "Maximum number of open file descriptors.", "gauge", Double(limit.rlim_cur))
        }
        gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge", startTime)
        return out
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
