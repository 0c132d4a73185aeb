import BuildInfo
import Foundation
import KubeCore

/// One image of the image vector: a name, where it comes from and, optionally, the Kubernetes
/// versions it applies to (Gardener's `targetVersion` constraint).
public struct ImageSource: Sendable, Equatable {
    /// The name the chart looks the image up by (e.g. `calico-node`).
    public var name: String
    /// The image repository; an overwrite may replace it (e.g. for a mirror).
    public var repository: String?
    /// The tag or, when it starts with `sha256:`, the digest; nil uses the extension's version.
    public var tag: String?
    /// Where the image's source lives; informational, as in Gardener's image vectors.
    public var sourceRepository: String?
    /// A constraint such as `>= 1.30, < 1.33` on the shoot's Kubernetes version; nil = any.
    public var targetVersion: String?

    /// Creates an entry; only the name is required.
    public init(name: String, repository: String? = nil, tag: String? = nil, sourceRepository: String? = nil, targetVersion: String? = nil) {
        self.name = name
        self.repository = repository
        self.tag = tag
        self.sourceRepository = sourceRepository
        self.targetVersion = targetVersion
    }

    /// `<repository>:<tag>`, `<repository>@<digest>` for `sha256:` tags, or the bare repository.
    public func reference(tagOverride: String? = nil) -> String {
        let repo = repository ?? ""
        guard let tag = tag ?? tagOverride, !tag.isEmpty else { return repo }
        return tag.hasPrefix("sha256:") ? "\(repo)@\(tag)" : "\(repo):\(tag)"
    }
}

/// Errors of image-vector loading and lookup.
public struct ImageVectorError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The message, naming the image or the malformed entry.
    public var description: String
    /// Creates an error with its message.
    public init(_ description: String) { self.description = description }
}

/// The images the extension deploys, loaded from `Resources/images.yaml`
/// and overridable with a Gardener image-vector overwrite document.
public struct ImageVector: Sendable, Equatable {
    /// The entries in file order, overwrite entries appended; `find(_:kubernetesVersion:)` picks among them.
    public var images: [ImageSource]
    /// The tag of images without a tag in the vector (`cni-plugins`): the extension's version.
    public var extensionVersion: String

    /// The version the binary was built as (tag of `cni-plugins`): the `VERSION` file or the build's `EFFECTIVE_VERSION`.
    public static let defaultExtensionVersion = BuildInfo.current.gitVersion

    /// The nine image names the chart needs; rendering fails when one is missing.
    public static let chartImageNames = [
        "calico-cni", "calico-typha", "calico-kube-controllers", "calico-node", "calico-cpa", "calico-cpva",
        "bird-exporter", "multus-cni", "cni-plugins",
    ]

    /// Creates a vector; the default version tags images that have none.
    public init(images: [ImageSource], extensionVersion: String = ImageVector.defaultExtensionVersion) {
        self.images = images
        self.extensionVersion = extensionVersion
    }

    /// The built-in vector from the bundled data file.
    public static let `default`: ImageVector = {
        do {
            return try loadBundled()
        } catch {
            // The data file is part of the build; failing here means a broken installation.
            fatalError("CalicoManifests: cannot load the bundled image vector: \(error)")
        }
    }()

    static func loadBundled() throws -> ImageVector {
        guard let url = Bundle.module.url(forResource: "images", withExtension: "yaml", subdirectory: "Resources") else {
            throw ImageVectorError("Resources/images.yaml not found in the CalicoManifests bundle")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        return ImageVector(images: try parse(yaml: text))
    }

    /// Parses an image vector document (`images: [{name, repository, tag, targetVersion, ...}]`).
    public static func parse(yaml text: String) throws -> [ImageSource] {
        let doc: JSON
        do { doc = try JSON.parseYAML(text) } catch { throw ImageVectorError("invalid image vector: \(error)") }
        if doc.isNull { return [] }
        guard let list = doc["images"]?.arrayValue else {
            if doc["images"] == nil || doc["images"]?.isNull == true { return [] }
            throw ImageVectorError("invalid image vector: images must be a list")
        }
        var result: [ImageSource] = []
        for (i, entry) in list.enumerated() {
            guard entry.isObject, let name = entry["name"]?.stringValue, !name.isEmpty else {
                throw ImageVectorError("invalid image vector: images[\(i)].name is required")
            }
            for key in ["repository", "tag", "sourceRepository", "targetVersion"] {
                if let v = entry[key], !v.isNull, v.stringValue == nil {
                    throw ImageVectorError("invalid image vector: images[\(i)].\(key) must be a string")
                }
            }
            if let constraint = entry["targetVersion"]?.stringValue {
                _ = try VersionConstraint(constraint)
            }
            result.append(
                ImageSource(
                    name: name, repository: entry["repository"]?.stringValue, tag: entry["tag"]?.stringValue,
                    sourceRepository: entry["sourceRepository"]?.stringValue, targetVersion: entry["targetVersion"]?.stringValue))
        }
        return result
    }

    /// This vector with an overwrite document merged over it (Gardener semantics): an entry with
    /// the same name and the same `targetVersion` is updated field by field (fields given in the
    /// overwrite win); other entries are appended.
    public func overwritten(with yaml: String) throws -> ImageVector {
        var merged = images
        for new in try ImageVector.parse(yaml: yaml) {
            if let i = merged.firstIndex(where: { $0.name == new.name && $0.targetVersion == new.targetVersion }) {
                if let r = new.repository { merged[i].repository = r }
                if let t = new.tag { merged[i].tag = t }
                if let s = new.sourceRepository { merged[i].sourceRepository = s }
            } else {
                merged.append(new)
            }
        }
        return ImageVector(images: merged, extensionVersion: extensionVersion)
    }

    /// The built-in vector, overwritten by the file named in `IMAGEVECTOR_OVERWRITE` if set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ImageVector {
        guard let path = environment["IMAGEVECTOR_OVERWRITE"], !path.isEmpty else { return .default }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ImageVectorError("cannot read image vector overwrite \(path): \(error.localizedDescription)")
        }
        return try ImageVector.default.overwritten(with: text)
    }

    /// The image for `name` and the shoot's Kubernetes version: an entry whose constraint
    /// matches beats an unconstrained one; among equals the last wins (overwrites are appended).
    public func find(_ name: String, kubernetesVersion: String? = nil) throws -> ImageSource {
        var best: ImageSource?
        var bestConstrained = false
        for image in images where image.name == name {
            if let constraint = image.targetVersion {
                guard let version = kubernetesVersion, (try? VersionConstraint(constraint).matches(version)) == true else { continue }
                best = image
                bestConstrained = true
            } else if !bestConstrained {
                best = image
            }
        }
        guard let best else { throw ImageVectorError("could not find image \"\(name)\"") }
        return best
    }

    /// The image reference string for `name` (`cni-plugins` gets the extension version as tag).
    public func reference(_ name: String, kubernetesVersion: String? = nil) throws -> String {
        try find(name, kubernetesVersion: kubernetesVersion).reference(tagOverride: extensionVersion)
    }
}

/// A comma-separated conjunction of `op version` clauses (`>= 1.30, < 1.33`, `1.31.x`).
struct VersionConstraint {
    enum Op: String {
        case ge = ">="
        case gt = ">"
        case le = "<="
        case lt = "<"
        case eq = "="
        case ne = "!="
    }
    var clauses: [(Op, [Int], Int)]  // op, version components, number of given components

    init(_ text: String) throws {
        clauses = []
        for raw in text.split(separator: ",") {
            var s = raw.trimmingCharacters(in: .whitespaces)
            var op = Op.eq
            for candidate in [Op.ge, .le, .ne, .gt, .lt, .eq] where s.hasPrefix(candidate.rawValue) {
                op = candidate
                s = String(s.dropFirst(candidate.rawValue.count)).trimmingCharacters(in: .whitespaces)
                break
            }
            if s.hasPrefix("v") { s.removeFirst() }
            let parts = s.split(separator: ".").filter { $0 != "x" && $0 != "*" }
            let numbers = parts.compactMap { Int($0) }
            guard !numbers.isEmpty, numbers.count == parts.count, numbers.count <= 3 else {
                throw ImageVectorError("invalid version constraint \"\(text)\"")
            }
            clauses.append((op, numbers, numbers.count))
        }
        if clauses.isEmpty { throw ImageVectorError("invalid version constraint \"\(text)\"") }
    }

    func matches(_ version: String) -> Bool {
        guard let v = VersionConstraint.components(version) else { return false }
        for (op, want, given) in clauses {
            let have = Array(v.prefix(given))
            let cmp = have.lexicographicallyPrecedes(want) ? -1 : (have == want ? 0 : 1)
            let ok: Bool
            switch op {
            case .ge: ok = cmp >= 0
            case .gt: ok = cmp > 0
            case .le: ok = cmp <= 0
            case .lt: ok = cmp < 0
            case .eq: ok = cmp == 0
            case .ne: ok = cmp != 0
            }
            if !ok { return false }
        }
        return true
    }

    /// `v1.31.4-gardener.1` → [1, 31, 4] (pre-release and build metadata ignored).
    static func components(_ version: String) -> [Int]? {
        var s = Substring(version)
        if s.hasPrefix("v") { s = s.dropFirst() }
        if let cut = s.firstIndex(where: { $0 == "-" || $0 == "+" || $0 == "~" }) { s = s[..<cut] }
        let parts = s.split(separator: ".")
        var result = parts.compactMap { Int($0) }
        guard !result.isEmpty, result.count == parts.count else { return nil }
        while result.count < 3 { result.append(0) }
        return result
    }
}
