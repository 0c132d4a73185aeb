import BuildInfo
import Foundation
import KubeCore

/// One image of the image vector: a name, where it comes from and, optionally, the versions and
/// architectures it applies to (Gardener's image vector entry; see docs/operations.md).
public struct ImageSource: Sendable, Equatable {
    /// The name the chart looks the image up by (e.g. `calico-node`).
    public var name: String
    /// The image repository; an overwrite may replace it (e.g. for a mirror).
    public var repository: String?
    /// The tag or, when it starts with `sha256:`, the digest; nil: the extension's version for
    /// `cni-plugins`, `v<shoot version>` for other images (Gardener's rule).
    public var tag: String?
    /// A complete reference (`registry/repo@sha256:...`); wins over repository and tag.
    public var ref: String?
    /// Where the image's source lives; informational, as in Gardener's image vectors.
    public var sourceRepository: String?
    /// A constraint such as `>= 1.30, < 1.33` on the shoot's Kubernetes version; nil = any.
    public var targetVersion: String?
    /// A constraint on the Kubernetes version the image runs on (for shoot images: the shoot's); nil = any.
    public var runtimeVersion: String?
    /// The CPU architectures the image is for; nil = multi-arch (`amd64` and `arm64`).
    public var architectures: [String]?
    /// Gardener's informational `version` of the image.
    public var version: String?
    /// The entry's labels (OCM metadata such as `gardener.cloud/cve-categorisation`), kept verbatim.
    public var labels: JSON?

    /// Creates an entry; only the name is required.
    public init(
        name: String, repository: String? = nil, tag: String? = nil, ref: String? = nil, sourceRepository: String? = nil,
        targetVersion: String? = nil, runtimeVersion: String? = nil, architectures: [String]? = nil, version: String? = nil,
        labels: JSON? = nil
    ) {
        self.name = name
        self.repository = repository
        self.tag = tag
        self.ref = ref
        self.sourceRepository = sourceRepository
        self.targetVersion = targetVersion
        self.runtimeVersion = runtimeVersion
        self.architectures = architectures
        self.version = version
        self.labels = labels
    }

    /// `ref` if set, else `<repository>:<tag>`, `<repository>@<digest>` for `sha256:` tags, or the bare repository.
    public func reference(tagOverride: String? = nil) -> String {
        if let ref { return ref }
        let repo = repository ?? ""
        guard let tag = tag ?? tagOverride, !tag.isEmpty else { return repo }
        return tag.hasPrefix("sha256:") ? "\(repo)@\(tag)" : "\(repo):\(tag)"
    }

    /// This entry with `override` merged over it (Gardener's merge): fields the override sets win;
    /// an override `ref` clears repository and tag, and an override `repository` drops an old `ref`.
    func merged(with override: ImageSource) -> ImageSource {
        var out = override
        out.repository = override.repository ?? repository
        out.tag = override.tag ?? tag
        out.version = override.version ?? version ?? (override.tag == nil ? nil : tag)
        out.ref = override.ref ?? (override.repository == nil ? ref : nil)
        if out.ref != nil {
            out.repository = nil
            out.tag = nil
        }
        out.sourceRepository = override.sourceRepository ?? sourceRepository
        out.labels = override.labels ?? labels
        return out
    }

    /// Entries with equal keys are merged (name, both constraints and the architecture list).
    var mergeKey: String {
        [name, runtimeVersion ?? "", targetVersion ?? "", (architectures ?? []).joined(separator: ","), architectures == nil ? "-" : "+"]
            .joined(separator: "\u{0}")
    }
}

/// Errors of image-vector loading and lookup.
public struct ImageVectorError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The message, naming the image or the malformed entry.
    public var description: String
    /// Creates an error with its message.
    public init(_ description: String) { self.description = description }
}

/// The images the extension deploys, loaded from `Resources/images.yaml` and overridable with a
/// Gardener image-vector overwrite document (`IMAGEVECTOR_OVERWRITE`), with Gardener's semantics:
/// see docs/operations.md.
public struct ImageVector: Sendable, Equatable {
    /// The entries in file order; an overwrite entry replaces the entry with its key in place, others are appended.
    public var images: [ImageSource]
    /// The tag of `cni-plugins` when it has none in the vector: the extension's version.
    public var extensionVersion: String
    /// Problems that do not stop the extension (unknown keys in an overwrite); logged at start.
    public var warnings: [String] = []

    /// The version the binary was built as (tag of `cni-plugins`): the `VERSION` file or the build's `EFFECTIVE_VERSION`.
    public static let defaultExtensionVersion = BuildInfo.current.gitVersion

    /// The nine image names the chart needs; rendering fails when one is missing.
    public static let chartImageNames = [
        "calico-cni", "calico-typha", "calico-kube-controllers", "calico-node", "calico-cpa", "calico-cpva",
        "bird-exporter", "multus-cni", "cni-plugins",
    ]

    /// The image tagged with the extension's own version when the vector gives it no tag.
    static let selfVersionedImage = "cni-plugins"
    /// The architecture the shoot's images are looked up for (Gardener's default when none is given).
    static let defaultArchitecture = "amd64"
    /// Keys of an image entry Gardener's image vectors use; others are reported as warnings.
    static let knownEntryKeys: Set<String> = [
        "name", "repository", "tag", "ref", "sourceRepository", "targetVersion", "runtimeVersion", "architectures", "version",
        "labels", "resourceId", "extraIdentity",
    ]
    /// Top-level keys of an image vector document.
    static let knownDocumentKeys: Set<String> = ["images", "caBundle"]

    /// Creates a vector; the default version tags `cni-plugins` when it has no tag.
    public init(images: [ImageSource], extensionVersion: String = ImageVector.defaultExtensionVersion, warnings: [String] = []) {
        self.images = images
        self.extensionVersion = extensionVersion
        self.warnings = warnings
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

    /// Parses an image vector document (`images: [{name, repository, tag, ref, targetVersion, ...}]`),
    /// validated as Gardener validates one.
    public static func parse(yaml text: String) throws -> [ImageSource] {
        try parseReportingUnknownKeys(yaml: text).images
    }

    /// `parse`, plus one warning per key Gardener's image vectors do not know (Go ignores them silently).
    static func parseReportingUnknownKeys(yaml text: String) throws -> (images: [ImageSource], warnings: [String]) {
        let doc: JSON
        do { doc = try JSON.parseYAML(text) } catch { throw ImageVectorError("invalid image vector: \(error)") }
        if doc.isNull { return ([], []) }
        guard doc.isObject else { throw ImageVectorError("invalid image vector: the document must be a map with `images`") }
        var warnings: [String] = []
        for key in doc.objectValue?.keys ?? [] where !knownDocumentKeys.contains(key) {
            warnings.append("image vector: unknown key \"\(key)\" ignored")
        }
        guard let list = doc["images"]?.arrayValue else {
            if doc["images"] == nil || doc["images"]?.isNull == true { return ([], warnings) }
            throw ImageVectorError("invalid image vector: images must be a list")
        }
        var result: [ImageSource] = []
        for (i, entry) in list.enumerated() {
            let path = "images[\(i)]"
            guard entry.isObject else { throw ImageVectorError("invalid image vector: \(path) must be a map") }
            func string(_ key: String) throws -> String? {
                guard let v = entry[key], !v.isNull else { return nil }
                guard let s = v.stringValue else { throw ImageVectorError("invalid image vector: \(path).\(key) must be a string") }
                return s
            }
            guard let name = try string("name"), !name.isEmpty else {
                throw ImageVectorError("invalid image vector: \(path).name: Required value: image name is required")
            }
            for key in entry.objectValue?.keys ?? [] where !knownEntryKeys.contains(key) {
                warnings.append("image vector: unknown key \"\(key)\" in \(path) (\(name)) ignored")
            }
            var architectures: [String]?
            if let a = entry["architectures"], !a.isNull {
                guard let list = a.arrayValue, let names = Optional(list.compactMap(\.stringValue)), names.count == list.count else {
                    throw ImageVectorError("invalid image vector: \(path).architectures must be a list of strings")
                }
                architectures = names
            }
            let labels = entry["labels"].flatMap { $0.isNull ? nil : $0 }
            let source = ImageSource(
                name: name, repository: try string("repository"), tag: try string("tag"), ref: try string("ref"),
                sourceRepository: try string("sourceRepository"), targetVersion: try string("targetVersion"),
                runtimeVersion: try string("runtimeVersion"), architectures: architectures, version: try string("version"), labels: labels)
            try validate(source, path: path)
            result.append(source)
        }
        return (result, warnings)
    }

    /// Gardener's entry validation: `ref` or `repository` is required, `ref` excludes repository and
    /// tag, none may be empty, constraints must parse.
    static func validate(_ source: ImageSource, path: String) throws {
        func fail(_ message: String) -> ImageVectorError { ImageVectorError("invalid image vector: \(path).\(message)") }
        if source.ref == nil && source.repository == nil {
            throw fail("ref/repository: Required value: either image ref or repository+tag is required")
        }
        if let ref = source.ref {
            if ref.isEmpty { throw fail("ref: Invalid value: \"\": ref must not be empty if specified") }
            if source.repository != nil { throw fail("repository: Forbidden: cannot specify repository when ref is set") }
            if source.tag != nil { throw fail("tag: Forbidden: cannot specify tag when ref is set") }
        } else {
            if source.repository == "" { throw fail("repository: Invalid value: \"\": repository must not be empty if specified") }
            if source.tag == "" { throw fail("tag: Invalid value: \"\": image tag must not be empty if specified") }
        }
        for (key, constraint) in [("runtimeVersion", source.runtimeVersion), ("targetVersion", source.targetVersion)] {
            guard let constraint else { continue }
            do { _ = try VersionConstraint(constraint) } catch { throw fail("\(key): Invalid value: \"\(constraint)\": \(error)") }
        }
    }

    /// This vector with an overwrite document merged over it (Gardener's merge): an entry with the
    /// same name, `runtimeVersion`, `targetVersion` and `architectures` is merged in place (see
    /// `ImageSource.merged`), other entries are appended; unknown keys become `warnings`.
    public func overwritten(with yaml: String) throws -> ImageVector {
        var merged = images
        var index: [String: Int] = [:]
        for (i, image) in merged.enumerated() where index[image.mergeKey] == nil { index[image.mergeKey] = i }
        let (overrides, newWarnings) = try ImageVector.parseReportingUnknownKeys(yaml: yaml)
        for new in overrides {
            if let i = index[new.mergeKey] {
                merged[i] = merged[i].merged(with: new)
            } else {
                index[new.mergeKey] = merged.count
                merged.append(new)
            }
        }
        return ImageVector(images: merged, extensionVersion: extensionVersion, warnings: warnings + newWarnings)
    }

    /// The built-in vector, overwritten by the file named in `IMAGEVECTOR_OVERWRITE` if set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ImageVector {
        guard let path = environment["IMAGEVECTOR_OVERWRITE"], !path.isEmpty else { return .default }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ImageVectorError("cannot read image vector overwrite \(path): \(error.localizedDescription)")
        }
        do { return try ImageVector.default.overwritten(with: text) } catch { throw ImageVectorError("\(path): \(error)") }
    }

    /// The image for `name` on a shoot of `kubernetesVersion` (Gardener's lookup with that version as
    /// both runtime and target version, architecture amd64): each constraint that matches scores 1,
    /// an exact one (`1.31.2`, `= 1.31`) 2; a single-architecture entry scores above a multi-arch one;
    /// the first entry with the best score wins. Without a version, constraints are not checked.
    public func find(_ name: String, kubernetesVersion: String? = nil) throws -> ImageSource {
        var best: ImageSource?
        var bestScore = 0
        for image in images where image.name == name {
            guard let score = ImageVector.score(image, kubernetesVersion: kubernetesVersion) else { continue }
            if best == nil || score > bestScore {
                best = image
                bestScore = score
            }
        }
        guard let best else { throw ImageVectorError("could not find image \"\(name)\"") }
        return best
    }

    static func score(_ image: ImageSource, kubernetesVersion: String?) -> Int? {
        var score = 0
        for constraint in [image.runtimeVersion, image.targetVersion] {
            guard let constraint, let version = kubernetesVersion else { continue }
            guard let parsed = try? VersionConstraint(constraint), parsed.matches(version) else { return nil }
            score += parsed.isExact ? 2 : 1
        }
        let architectures = image.architectures ?? ["amd64", "arm64"]
        guard architectures.contains(defaultArchitecture) else { return nil }
        return score + (architectures.count == 1 ? 2 : 1)
    }

    /// The image reference string for `name`: `ref` verbatim; an entry without tag gets the
    /// extension's version (`cni-plugins`) or `v<shoot version>` (Gardener's rule for other images).
    public func reference(_ name: String, kubernetesVersion: String? = nil) throws -> String {
        let image = try find(name, kubernetesVersion: kubernetesVersion)
        if name == ImageVector.selfVersionedImage { return image.reference(tagOverride: extensionVersion) }
        let versionTag = kubernetesVersion.map { "v" + $0.drop(while: { $0 == "v" }) }
        return image.reference(tagOverride: versionTag)
    }
}

/// A version constraint in the syntax Gardener's image vectors use (Masterminds semver):
/// alternatives separated by `||`, each a comma- or space-separated conjunction of `op version`
/// clauses (`>= 1.30, < 1.33`, `1.31.x`, `~1.31`, `^1.2`); a partial version matches as a prefix.
struct VersionConstraint {
    enum Op: String {
        case ge = ">="
        case gt = ">"
        case le = "<="
        case lt = "<"
        case eq = "="
        case ne = "!="
        case tilde = "~"
        case caret = "^"
    }
    struct Clause {
        var op: Op
        var numbers: [Int]  // the given components (1 to 3)
    }
    var alternatives: [[Clause]]
    /// Whether the constraint names one version (`1.31.2`, `= 1.31`): Gardener prefers such entries.
    var isExact: Bool

    init(_ text: String) throws {
        let invalid = ImageVectorError("invalid version constraint \"\(text)\"")
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let body = trimmed.hasPrefix("v") ? trimmed.dropFirst() : Substring(trimmed)
        let numbers = body.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false).prefix(3)
        isExact = trimmed.hasPrefix("=") || (numbers.count == 3 && numbers.allSatisfy { Int($0.prefix(while: \.isNumber)) != nil && !$0.isEmpty })
        alternatives = []
        for alternative in trimmed.components(separatedBy: "||") {
            var clauses: [Clause] = []
            // Operators may be separated from their version by spaces: join them first.
            var tokens: [String] = []
            for token in alternative.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) {
                if let last = tokens.last, Op(rawValue: last) != nil { tokens[tokens.count - 1] = last + token } else { tokens.append(token) }
            }
            for var s in tokens {
                var op = Op.eq
                for candidate in [Op.ge, .le, .ne, .gt, .lt, .eq, .tilde, .caret] where s.hasPrefix(candidate.rawValue) {
                    op = candidate
                    s = String(s.dropFirst(candidate.rawValue.count))
                    break
                }
                if s.hasPrefix("v") { s.removeFirst() }
                let parts = s.split(separator: ".", omittingEmptySubsequences: false)
                let given = Array(parts.prefix(while: { $0 != "x" && $0 != "X" && $0 != "*" }))
                let values = given.compactMap { Int($0) }
                guard !values.isEmpty, values.count == given.count, parts.count <= 3 else { throw invalid }
                switch op {
                case .tilde:  // ~1.2.3: >= 1.2.3, < 1.3; ~1: >= 1, < 2
                    clauses.append(Clause(op: .ge, numbers: values))
                    clauses.append(Clause(op: .lt, numbers: values.count == 1 ? [values[0] + 1] : [values[0], values[1] + 1]))
                case .caret:  // ^1.2.3: >= 1.2.3, < 2; ^0.2.3: < 0.3
                    clauses.append(Clause(op: .ge, numbers: values))
                    let upper = values[0] > 0 || values.count == 1 ? [values[0] + 1] : [0, values[1] + 1]
                    clauses.append(Clause(op: .lt, numbers: upper))
                default:
                    clauses.append(Clause(op: op, numbers: values))
                }
            }
            guard !clauses.isEmpty else { throw invalid }
            alternatives.append(clauses)
        }
        if alternatives.isEmpty { throw invalid }
    }

    func matches(_ version: String) -> Bool {
        guard let v = VersionConstraint.components(version) else { return false }
        return alternatives.contains { clauses in
            clauses.allSatisfy { clause in
                let have = Array(v.prefix(clause.numbers.count))
                let cmp = have.lexicographicallyPrecedes(clause.numbers) ? -1 : (have == clause.numbers ? 0 : 1)
                switch clause.op {
                case .ge: return cmp >= 0
                case .gt: return cmp > 0
                case .le: return cmp <= 0
                case .lt: return cmp < 0
                case .eq, .tilde, .caret: return cmp == 0
                case .ne: return cmp != 0
                }
            }
        }
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
