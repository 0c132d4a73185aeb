import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The three clusters of local mode (docs/local.md): the garden (Shoots, admission), the seed
/// (Networks, Clusters, ManagedResources, the controller) and the shoot (what the
/// ManagedResource applies).
public enum LandscapeCluster: String, Sendable, CaseIterable {
    /// Shoots, CloudProfiles, Seeds; the admission webhook is registered here.
    case garden
    /// The shoot's control-plane namespace with its Cluster, Network and ManagedResources.
    case seed
    /// The shoot cluster itself: Nodes and the objects the resource manager applies.
    case shoot
}

/// Where local mode keeps its state: one data directory per cluster (so a restart finds the same
/// objects, CA and token), the kubeconfigs, the remembered ports, the lock and the logs.
public struct LandscapeLayout: Sendable {
    /// The state directory (`--state-dir`).
    public let root: URL

    /// A layout under `root`.
    public init(root: URL) { self.root = root.standardizedFileURL }

    /// The embedded API server's data directory of `cluster`.
    public func dataDirectory(_ cluster: LandscapeCluster) -> String { root.appendingPathComponent(cluster.rawValue).path }
    /// `<state-dir>/<cluster>.kubeconfig`.
    public func kubeconfig(_ cluster: LandscapeCluster) -> String { root.appendingPathComponent("\(cluster.rawValue).kubeconfig").path }
    /// `<state-dir>/kubeconfig`: the seed's, where the controller runs (kept from the single-cluster local mode).
    public var defaultKubeconfig: String { root.appendingPathComponent("kubeconfig").path }
    /// Ports of the last run, reused when free so kubeconfigs stay valid.
    public var portsFile: String { root.appendingPathComponent("ports.json").path }
    /// The lock file (holds the owner's pid).
    public var lockFile: String { root.appendingPathComponent("lock").path }
    /// The controller's (and local mode's controllers') log.
    public var logFile: String { root.appendingPathComponent("controller.log").path }
    /// Serving certificate of the in-process admission webhook.
    public var webhookCertDirectory: String { root.appendingPathComponent("webhook-certs").path }

    /// Whether a previous run left cluster data behind.
    public var hasState: Bool {
        LandscapeCluster.allCases.contains { FileManager.default.fileExists(atPath: dataDirectory($0)) }
    }

    /// Removes everything local mode wrote (`--reset`), keeping the directory and the lock file.
    public func reset() throws {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] where name != "lock" {
            try fm.removeItem(at: root.appendingPathComponent(name))
        }
    }

    /// The ports remembered from the last run (missing entries: none).
    public func rememberedPorts() -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: portsFile), let json = try? JSON.parse(data),
            let object = json.objectValue
        else { return [:] }
        var ports: [String: Int] = [:]
        for (key, value) in object { if let port = value.intValue { ports[key] = port } }
        return ports
    }

    /// Remembers `ports` for the next run.
    public func rememberPorts(_ ports: [String: Int]) throws {
        var object = JSONObject()
        for (key, port) in ports.sorted(by: { $0.key < $1.key }) { object[key] = .int(Int64(port)) }
        try Data(JSON.object(object).serialized(JSONWriteOptions(pretty: true))).write(to: URL(fileURLWithPath: portsFile))
    }
}

/// An exclusive lock on the state directory, held for the life of the process (the kernel
/// releases it when the process ends, also on a crash), so two local modes never share one
/// set of data directories.
public final class StateDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Why the lock could not be taken.
    public struct Held: Error, CustomStringConvertible {
        /// The message naming the holder.
        public let description: String
    }

    /// Takes the lock on `path` or throws `Held` naming the process that holds it.
    public init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Held(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            let who = holder.isEmpty ? "another process" : "process \(holder)"
            throw Held(
                description:
                    "the state directory \((path as NSString).deletingLastPathComponent) is in use by \(who) (another `calico-dev local`); stop it or use --state-dir"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }
}

/// Shared settings of local mode's own controllers.
public enum Landscape {
    /// Fast retries (a local API server answers at once; errors are usually ordering, e.g. a CRD
    /// not yet served): 20 ms doubling up to 5 s per key.
    public static func rateLimiter() -> any RateLimiter {
        MaxOfRateLimiter([ItemExponentialFailureRateLimiter(baseDelay: .milliseconds(20), maxDelay: .seconds(5))])
    }
}

/// A free TCP port on 127.0.0.1: `preferred` when it can be bound, else one the kernel picks.
/// (The port is released again before the caller binds it; local mode accepts that small race.)
public func freeLoopbackPort(preferred: Int = 0) throws -> Int {
    func bind(_ port: Int) -> Int? {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
    if preferred != 0, let port = bind(preferred) { return port }
    guard let port = bind(0) else { throw MessageError("no free port on 127.0.0.1") }
    return port
}
