import Foundation

/// Median / p99 of a list of durations, for benchmark reports.
struct Stats {
    var samples: [Double]  // seconds

    init(_ samples: [Double]) { self.samples = samples.sorted() }

    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(samples.count - 1)).rounded())
        return samples[min(max(rank, 0), samples.count - 1)]
    }
    var median: Double { percentile(50) }
    var p99: Double { percentile(99) }

    /// Formats seconds as µs or ms.
    static func format(_ seconds: Double) -> String {
        seconds < 1e-3 ? String(format: "%.1fµs", seconds * 1e6) : String(format: "%.3fms", seconds * 1e3)
    }
}

/// Monotonic clock in seconds.
func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Peak resident set size of this process in bytes (Linux VmHWM).
func peakRSSBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}
