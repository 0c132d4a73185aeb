import KubeCore
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Output format of the process log (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line in zap's style: `level`, `ts`, `logger`, `msg`, then key-values.
    case json
    /// Human-readable console lines for local use.
    case text
}

/// Log configuration from the command line (`--log-level`, `--log-format`).
public struct LoggingOptions: Sendable, Equatable {
    /// Lowest level written.
    public var level: Logger.Level
    /// Line format.
    public var format: LogFormat

    /// Settings from their parts (defaults: info, json).
    public init(level: Logger.Level = .info, format: LogFormat = .json) {
        self.level = level
        self.format = format
    }

    /// Parses the flag values; accepted levels are `debug`, `info`, `error` (as the reference).
    public static func parse(level: String, format: String) throws(LoggingOptionsError) -> LoggingOptions {
        let lvl: Logger.Level
        switch level {
        case "debug": lvl = .debug
        case "info": lvl = .info
        case "error": lvl = .error
        default: throw LoggingOptionsError(message: "invalid --log-level: \(level)")
        }
        guard let fmt = LogFormat(rawValue: format) else {
            throw LoggingOptionsError(message: "invalid --log-format: \(format)")
        }
        return LoggingOptions(level: lvl, format: fmt)
    }

    /// Installs the handler process-wide (call once at start-up, writes to stderr).
    public func bootstrap() {
        let options = self
        LoggingSystem.bootstrap { label in options.makeHandler(label: label, sink: .standardError) }
    }

    /// A handler for `label` in this format and level.
    public func makeHandler(label: String, sink: LogSink) -> any LogHandler {
        var h = LineLogHandler(label: label, format: format, sink: sink)
        h.logLevel = level
        return h
    }
}

/// A bad `--log-level` / `--log-format` value.
public struct LoggingOptionsError: Error, Sendable, CustomStringConvertible {
    /// The message naming the flag.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// Where formatted log lines go. Writes are serialized so concurrent lines never interleave.
public struct LogSink: Sendable {
    /// Writes one encoded line.
    public let write: @Sendable ([UInt8]) -> Void

    /// A sink calling `write` per line.
    public init(write: @escaping @Sendable ([UInt8]) -> Void) { self.write = write }

    private static let lock = Mutex(())

    /// Standard error (zap's and controller-runtime's default destination).
    public static let standardError = LogSink { bytes in
        lock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }

    /// Collects lines in memory (tests).
    public static func collecting(into box: LogCollector) -> LogSink {
        LogSink { bytes in box.append(String(decoding: bytes, as: UTF8.self)) }
    }
}

/// Thread-safe in-memory line collector for tests.
public final class LogCollector: Sendable {
    private let lines = Mutex<[String]>([])
    /// An empty collector.
    public init() {}
    /// Appends one line.
    public func append(_ line: String) { lines.withLock { $0.append(line) } }
    /// All lines written so far (each ends with a newline).
    public var all: [String] { lines.withLock { $0 } }
}

/// zap level names.
func zapLevel(_ level: Logger.Level) -> String {
    switch level {
    case .trace, .debug: return "debug"
    case .info, .notice: return "info"
    case .warning: return "warn"
    case .error: return "error"
    case .critical: return "panic"
    }
}

/// `2025-01-31T12:00:00.123Z` (UTC, milliseconds), like zap's ISO8601 encoder in UTC.
func logTimestamp() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var t = time_t(ts.tv_sec)
    var tm = tm()
    gmtime_r(&t, &tm)
    func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
        + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
}

/// Converts swift-log metadata into JSON values.
func metadataJSON(_ value: Logger.MetadataValue) -> JSON {
    switch value {
    case .string(let s): return .string(s)
    case .stringConvertible(let c):
        if let i = c as? Int { return .int(Int64(i)) }
        if let b = c as? Bool { return .bool(b) }
        if let d = c as? Double { return .double(d) }
        return .string(c.description)
    case .dictionary(let d):
        var o = JSONObject()
        for k in d.keys.sorted() { o[k] = metadataJSON(d[k]!) }
        return .object(o)
    case .array(let a): return .array(a.map(metadataJSON))
    }
}

/// The process log's handler: one line per event in `format`, handler and event metadata merged
/// (the event's win), keys sorted.
/// - `json`: zap-style `{"level":"info","ts":"…","logger":"network","msg":"…","namespace":"…"}`;
/// - `text`: console lines `<ts>\tINFO\t<logger>\t<msg>\t{"key":"value"}`.
public struct LineLogHandler: LogHandler {
    /// Handler metadata added to every line.
    public var metadata: Logger.Metadata = [:]
    /// Lowest level written.
    public var logLevel: Logger.Level = .info
    /// The logger's label (`logger` field).
    public let label: String
    /// The line format.
    public let format: LogFormat
    let sink: LogSink

    /// A handler for `label` writing `format` lines to `sink`.
    public init(label: String, format: LogFormat, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    /// Handler metadata by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let fields = merged.sorted { $0.key < $1.key }
        switch format {
        case .json:
            var o: JSONObject = [
                "level": .string(zapLevel(event.level)), "ts": .string(logTimestamp()), "logger": .string(label),
                "msg": .string(event.message.description),
            ]
            for (key, value) in fields where o[key] == nil {
                o[key] = metadataJSON(value)
            }
            var bytes = JSON.object(o).serialized()
            bytes.append(UInt8(ascii: "\n"))
            sink.write(bytes)
        case .text:
            var line = "\(logTimestamp())\t\(zapLevel(event.level).uppercased())\t\(label)\t\(event.message)"
            if !fields.isEmpty {
                var o = JSONObject()
                for (key, value) in fields { o[key] = metadataJSON(value) }
                line += "\t" + JSON.object(o).serializedString()
            }
            line += "\n"
            sink.write(Array(line.utf8))
        }
    }
}
