import Foundation
import KubeCore
import Synchronization

/// ServiceAccount tokens issued through the TokenRequest API: opaque random strings, kept only as
/// SHA-256 hashes (in memory and, with a data directory, in `serviceaccount-tokens.json` next to
/// the server's other credentials, so they survive restarts; see docs/local.md). A token is valid
/// until it expires and while its ServiceAccount (same UID) exists.
final class ServiceAccountTokens: Sendable {
    /// What a token was issued for.
    struct Record: Sendable, Equatable {
        var namespace: String
        var name: String
        var uid: String
        var expires: Int64
        var id: String
        var audiences: [String]
    }

    /// The audience the API server itself accepts (kube's default `--api-audiences`).
    static let apiAudience = "https://kubernetes.default.svc.cluster.local"

    private let records: Mutex<[String: Record]>
    private let file: URL?

    /// Tokens kept only in memory.
    init() {
        file = nil
        records = Mutex([:])
    }

    /// Tokens kept in `dataDirectory` (loaded now), or only in memory when nil.
    init(dataDirectory: String?) throws {
        file = dataDirectory.map { URL(fileURLWithPath: $0).appendingPathComponent("serviceaccount-tokens.json") }
        var loaded: [String: Record] = [:]
        if let file, FileManager.default.fileExists(atPath: file.path) {
            let doc: JSON
            do { doc = try JSON.parse(Array(try Data(contentsOf: file))) } catch {
                throw EmbeddedAPIServerError(
                    description: "\(file.path): unreadable (\(error)); delete it to start without issued ServiceAccount tokens")
            }
            for entry in doc["tokens"]?.arrayValue ?? [] {
                guard let hash = entry["sha256"]?.stringValue, let ns = entry["namespace"]?.stringValue, let name = entry["name"]?.stringValue,
                    let uid = entry["uid"]?.stringValue, let expires = entry["expires"]?.intValue
                else { continue }
                loaded[hash] = Record(
                    namespace: ns, name: name, uid: uid, expires: Int64(expires), id: entry["id"]?.stringValue ?? "",
                    audiences: entry["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            }
        }
        records = Mutex(loaded)
    }

    static func hash(_ token: String) -> String { SHA256Digest.hex(token) }

    /// A new token for the ServiceAccount, valid `seconds` from `now` (stored before it is returned).
    func issue(namespace: String, name: String, uid: String, audiences: [String], seconds: Int64, now: Date = Date()) throws -> (
        token: String, expires: Date
    ) {
        let token = EmbeddedAPIServer.randomToken()
        let expires = Int64(now.timeIntervalSince1970) + seconds
        let record = Record(namespace: namespace, name: name, uid: uid, expires: expires, id: UUID().uuidString.lowercased(), audiences: audiences)
        let nowSeconds = Int64(now.timeIntervalSince1970)
        let snapshot = records.withLock { r -> [String: Record] in
            r = r.filter { $0.value.expires > nowSeconds }
            r[Self.hash(token)] = record
            return r
        }
        try persist(snapshot)
        return (token, Date(timeIntervalSince1970: TimeInterval(expires)))
    }

    /// The record of an unexpired token, or nil (the caller checks that its ServiceAccount still exists).
    func lookup(_ token: String, now: Date = Date()) -> Record? {
        guard let r = records.withLock({ $0[Self.hash(token)] }), r.expires > Int64(now.timeIntervalSince1970) else { return nil }
        return r
    }

    private func persist(_ snapshot: [String: Record]) throws {
        guard let file else { return }
        let entries: [JSON] = snapshot.keys.sorted().compactMap { hash in
            guard let r = snapshot[hash] else { return nil }
            return [
                "sha256": .string(hash), "namespace": .string(r.namespace), "name": .string(r.name), "uid": .string(r.uid),
                "expires": .int(r.expires), "id": .string(r.id), "audiences": .array(r.audiences.map(JSON.string)),
            ]
        }
        let doc: JSON = ["tokens": .array(entries)]
        closeFD(try Persistence.replaceDurably(file, with: doc.serialized(), in: file.deletingLastPathComponent()))
    }
}
