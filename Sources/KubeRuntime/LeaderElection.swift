import Foundation
import KubeClient
import KubeCore
import Logging
import Prometheus
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Leader-election settings (controller-runtime defaults: 15 s / 10 s / 2 s).
public struct LeaderElectionConfiguration: Sendable {
    /// Lease name (`--leader-election-id`).
    public var name: String
    /// Lease namespace (`--leader-election-namespace`).
    public var namespace: String
    /// This process's identity, `<hostname>_<uuid>` by default.
    public var identity: String
    /// How long a lease is valid without renewal; followers wait this long before taking over.
    public var leaseDuration: Duration
    /// How long the leader keeps retrying a renewal before it gives leadership up.
    public var renewDeadline: Duration
    /// Pause between acquire and renew attempts.
    public var retryPeriod: Duration
    /// Give the lease up on graceful shutdown so a successor takes over at once.
    public var releaseOnCancel: Bool

    /// controller-runtime's default lease duration.
    public static let defaultLeaseDuration: Duration = .seconds(15)
    /// controller-runtime's default renew deadline.
    public static let defaultRenewDeadline: Duration = .seconds(10)
    /// controller-runtime's default retry period.
    public static let defaultRetryPeriod: Duration = .seconds(2)

    /// Election on the Lease `namespace/name`.
    public init(
        name: String, namespace: String, identity: String = LeaderElectionConfiguration.defaultIdentity(),
        leaseDuration: Duration = defaultLeaseDuration, renewDeadline: Duration = defaultRenewDeadline,
        retryPeriod: Duration = defaultRetryPeriod, releaseOnCancel: Bool = true
    ) {
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.releaseOnCancel = releaseOnCancel
    }

    /// `<hostname>_<random UUID>`.
    public static func defaultIdentity() -> String { "\(hostName())_\(randomUUID())" }

    /// This machine's host name (`unknown` when it cannot be read).
    public static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        return gethostname(&buf, buf.count) == 0
            ? String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
    }
}

/// A random version-4 UUID string.
public func randomUUID() -> String {
    var g = SystemRandomNumberGenerator()
    var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
    bytes[6] = (bytes[6] & 0x0F) | 0x40
    bytes[8] = (bytes[8] & 0x3F) | 0x80
    return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { Hex.lowercase(bytes[$0]) }.joined(separator: "-")
}

/// Thrown when the lease could not be renewed within the renew deadline.
public struct LeaderElectionLostError: Error, CustomStringConvertible, Sendable {
    /// The lease name.
    public var name: String
    /// The message naming the lease.
    public var description: String { "leader election lost for lease \(name)" }
}

/// Lease-based leader election (client-go's algorithm on a `coordination.k8s.io/v1` Lease).
public final class LeaderElector: Sendable {
    /// The election settings.
    public let configuration: LeaderElectionConfiguration
    private let client: KubernetesClient
    private let logger: Logger
    private let statusGauge: Gauge?
    private let events: EventRecorder?

    private struct State {
        var observedSpec: JSON?
        var observedTime: ContinuousClock.Instant = .now
        var observedResourceVersion: String?
        var isLeader = false
        var attempts = 0
    }
    private let state = Mutex(State())

    /// An elector; `metrics` gets `leader_election_master_status`, `events` a LeaderElection event on acquire.
    public init(
        client: KubernetesClient, configuration: LeaderElectionConfiguration, metrics: MetricsRegistry? = nil,
        events: EventRecorder? = nil, logger: Logger = Logger(label: "leader-election")
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.statusGauge = metrics?.leaderElectionStatus(name: configuration.name)
        self.events = events
        statusGauge?.set(0.0)
    }

    /// Whether this process holds the lease (as of the last successful acquire/renew).
    public var isLeader: Bool { state.withLock { $0.isLeader } }

    private func setLeader(_ value: Bool) {
        state.withLock { $0.isLeader = value }
        statusGauge?.set(value ? 1.0 : 0.0)
    }

    /// Number of finished acquire/renew attempts (tests see that a candidate has tried).
    public var attempts: Int { state.withLock { $0.attempts } }

    /// One attempt; answers whether we hold the lease afterwards.
    public func tryAcquireOrRenew() async -> Bool {
        defer { state.withLock { $0.attempts += 1 } }
        let cfg = configuration
        let now = Date()
        let leaseSeconds = Int64(cfg.leaseDuration.seconds.rounded())
        do {
            let lease: JSON
            do {
                lease = try await client.get(Resource.leases, namespace: cfg.namespace, name: cfg.name)
            } catch let e as KubeError where e.isNotFound {
                let spec: JSON = [
                    "holderIdentity": .string(cfg.identity), "leaseDurationSeconds": .int(leaseSeconds),
                    "acquireTime": .string(KubeTime.formatMicro(now)), "renewTime": .string(KubeTime.formatMicro(now)),
                    "leaseTransitions": 0,
                ]
                let created = try await client.create(
                    Resource.leases, namespace: cfg.namespace,
                    [
                        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                        "metadata": ["name": .string(cfg.name), "namespace": .string(cfg.namespace)], "spec": spec,
                    ])
                observe(created)
                return true
            }
            let spec = lease["spec"] ?? .emptyObject
            let holder = spec["holderIdentity"]?.stringValue ?? ""
            let observedTime = state.withLock { s -> ContinuousClock.Instant in
                if s.observedSpec != spec {
                    s.observedSpec = spec
                    s.observedTime = .now
                }
                s.observedResourceVersion = lease[path: "metadata", "resourceVersion"]?.stringValue
                return s.observedTime
            }
            let recordDuration = Duration.seconds(spec["leaseDurationSeconds"]?.intValue ?? Int(leaseSeconds))
            if !holder.isEmpty && holder != cfg.identity && observedTime + recordDuration > .now {
                return false
            }
            var newSpec = spec
            newSpec["holderIdentity"] = .string(cfg.identity)
            newSpec["leaseDurationSeconds"] = .int(leaseSeconds)
            newSpec["renewTime"] = .string(KubeTime.formatMicro(now))
            if holder != cfg.identity {
                newSpec["acquireTime"] = .string(KubeTime.formatMicro(now))
                newSpec["leaseTransitions"] = .int(Int64((spec["leaseTransitions"]?.intValue ?? 0) + 1))
            }
            var updated = lease
            updated["spec"] = newSpec
            let result = try await client.update(Resource.leases, namespace: cfg.namespace, updated)
            observe(result)
            return true
        } catch {
            logger.debug("failed to acquire or renew lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func observe(_ lease: JSON) {
        state.withLock { s in
            s.observedSpec = lease["spec"]
            s.observedTime = .now
            s.observedResourceVersion = lease[path: "metadata", "resourceVersion"]?.stringValue
        }
    }

    /// Retries every `retryPeriod` until the lease is ours. Throws `CancellationError` when cancelled.
    public func acquire() async throws {
        logger.info(
            "attempting to acquire leader lease",
            metadata: ["lease": "\(configuration.namespace)/\(configuration.name)", "identity": "\(configuration.identity)"])
        while true {
            try Task.checkCancellation()
            if await tryAcquireOrRenew() {
                setLeader(true)
                logger.info("successfully acquired lease", metadata: ["lease": "\(configuration.namespace)/\(configuration.name)"])
                await events?.record(
                    involved: leaseReference(), type: .normal, reason: "LeaderElection",
                    message: "\(configuration.identity) became leader")
                return
            }
            try await Task.sleep(for: configuration.retryPeriod)
        }
    }

    private func leaseReference() -> JSON {
        [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "namespace": .string(configuration.namespace),
            "name": .string(configuration.name),
        ]
    }

    /// Renews every `retryPeriod`; throws `LeaderElectionLostError` if no renewal succeeded within
    /// `renewDeadline`. Returns normally only by cancellation (`CancellationError`).
    public func renewLoop() async throws {
        var lastRenew = ContinuousClock.now
        while true {
            try await Task.sleep(for: configuration.retryPeriod)
            if await tryAcquireOrRenew() {
                lastRenew = .now
                continue
            }
            try Task.checkCancellation()
            if ContinuousClock.now - lastRenew >= configuration.renewDeadline {
                setLeader(false)
                logger.error("failed to renew lease", metadata: ["lease": "\(configuration.namespace)/\(configuration.name)"])
                throw LeaderElectionLostError(name: configuration.name)
            }
        }
    }

    /// Gives the lease up (holder cleared, duration 1 s) if we hold it, so others acquire at once.
    public func release() async {
        guard isLeader else { return }
        let cfg = configuration
        do {
            var lease = try await client.get(Resource.leases, namespace: cfg.namespace, name: cfg.name)
            guard lease[path: "spec", "holderIdentity"]?.stringValue == cfg.identity else {
                setLeader(false)
                return
            }
            let now = KubeTime.formatMicro(Date())
            lease[path: "spec", "holderIdentity"] = ""
            lease[path: "spec", "leaseDurationSeconds"] = 1
            lease[path: "spec", "renewTime"] = .string(now)
            lease[path: "spec", "acquireTime"] = .string(now)
            _ = try await client.update(Resource.leases, namespace: cfg.namespace, lease)
            logger.info("released leader lease", metadata: ["lease": "\(cfg.namespace)/\(cfg.name)"])
        } catch {
            logger.error("failed to release lease", metadata: ["error": "\(error)"])
        }
        setLeader(false)
    }
}
