import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import KubeCore

/// `validate FILE...`: validates NetworkConfig, Network or Shoot documents (YAML or JSON,
/// multi-document, `List` objects too) and prints every finding as `FILE:DOC: path: message` (DOC counts
/// from 1), or `FILE:DOC: skipped: reason` for a Shoot it does not check. A Network is checked with the
/// Cluster of the same file as `render` would check it.
/// Exit status: 0 valid, 1 field errors, 2 unreadable input.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Validate NetworkConfig, Network or Shoot files.",
        discussion: "Prints every finding as `FILE:DOC: path: message`. Exit status 0 = valid, 1 = errors, 2 = unreadable input.")

    @Argument(help: "Files to validate ('-' reads standard input).") var files: [String]

    func run() async throws {
        var sawErrors = false
        var unreadable = false
        for file in files {
            let input: InputDocuments
            do { input = try InputDocuments.read(file) } catch let failure as InputDocuments.Failure {
                if failure.isDuplicateField {
                    print(failure.message)
                    sawErrors = true
                } else {
                    FileHandle.standardError.write(Data("\(failure.message)\n".utf8))
                    unreadable = true
                }
                continue
            }
            // A Cluster in the same file is the context of its Network (render's checks run with it).
            let cluster = input.first(kind: "Cluster")
            for (index, doc) in input.documents.enumerated() {
                let prefix = "\(file):\(index + 1):"
                let kind = doc["kind"]?.stringValue ?? ""
                if input.documents.count > 1, ["Cluster", "Namespace"].contains(kind) { continue }
                let outcome = ValidateCommand.check(document: doc, cluster: cluster, duplicates: input.providerConfigDuplicates(of: doc))
                if let reason = outcome.skipped { print("\(prefix) skipped: \(reason)") }
                for line in outcome.findings { print("\(prefix) \(line)") }
                if !outcome.findings.isEmpty {
                    sawErrors = true
                    FileHandle.standardError.write(Data("\(prefix) \(outcome.findings.count) error(s)\n".utf8))
                }
            }
        }
        if unreadable { throw ExitCode(2) }
        if sawErrors { throw ExitCode(1) }
    }

    /// The result of checking one document: findings, or why it was not checked.
    struct Outcome {
        var findings: [String] = []
        var skipped: String?
    }

    /// Validates one document and, when it validates, runs the render's own checks with its Cluster
    /// (a Network) or the Network and Cluster built from it (a Shoot), so that `validate` fails where `render` would.
    /// `duplicates` are the provider config's keys given twice (see `InputDocuments.providerConfigDuplicates`).
    static func check(document: JSON, cluster: JSON?, duplicates: [String] = []) -> Outcome {
        let kind = document["kind"]?.stringValue ?? ""
        if kind == "Shoot" {
            let shoot = Shoot(raw: document)
            guard let networking = shoot.networking else { return Outcome(skipped: "no networking") }
            guard networking.type == CalicoAPIGroup.networkType else { return Outcome(skipped: "not calico") }
            if shoot.isWorkerless { return Outcome(skipped: "workerless shoot") }
        }
        var outcome = Outcome(findings: validate(document: document, duplicates: duplicates))
        guard outcome.findings.isEmpty else { return outcome }
        do {
            switch kind {
            case "Shoot":
                let side = try Plan.Side(shoot: document)
                _ = try renderShootManifests(network: side.network, cluster: side.cluster)
            case "Network" where cluster != nil:
                _ = try renderShootManifests(network: document, cluster: cluster ?? .null)
            default: break
            }
        } catch let error as RenderError {
            outcome.findings.append("\(error.field ?? "<root>"): \(error.message)")
        } catch {
            outcome.findings.append("<root>: \(error)")
        }
        return outcome
    }

    /// `path: message` lines for one document (empty when valid).
    static func validate(document: JSON, duplicates: [String] = []) -> [String] {
        guard case .object(let o) = document else { return ["<document>: expected an object, got \(document.typeName)"] }
        let kind = o["kind"]?.stringValue ?? ""
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        switch kind {
        case "List",
            _ where kind.hasSuffix("List") && o["items"] != nil:
            return (o["items"]?.arrayValue ?? []).flatMap { validate(document: $0) }
        case "Shoot":
            return validateShoot(document, duplicates: duplicates)
        case "Network" where apiVersion.hasPrefix("extensions.gardener.cloud/"):
            return validateNetwork(document, duplicates: duplicates)
        case "NetworkConfig", "":
            return validateNetworkConfig(document, root: "", ipFamilies: ["IPv4"], duplicates: duplicates)
        default:
            if apiVersion == CalicoAPIGroup.apiVersion {
                return validateNetworkConfig(document, root: "", ipFamilies: ["IPv4"], duplicates: duplicates)
            }
            return ["kind: unsupported kind \(goQuote(kind)) (expected NetworkConfig, Network or Shoot)"]
        }
    }

    static func line(_ e: FieldError, root: FieldPath) -> String {
        if e.type == .decode {
            let path = e.field.isEmpty ? root.string : root.child(e.field).string
            return "\(path.isEmpty ? "<root>" : path): \(e.detail)"
        }
        return e.description
    }

    static func validateNetworkConfig(_ json: JSON, root: FieldPath, ipFamilies: [String], duplicates: [String] = []) -> [String] {
        do {
            let config = try NetworkConfig.decode(json, duplicateFields: duplicates)
            return config.validate(root: root, ipFamilies: ipFamilies).map { line($0, root: root) }
        } catch {
            return error.errors.map { line($0, root: root) }
        }
    }

    /// Network: Gardener's checks of the Network object, which the actuator runs first, then the provider config.
    static func validateNetwork(_ json: JSON, duplicates: [String] = []) -> [String] {
        var errs: [FieldError] = []
        let spec = json["spec"]
        if (spec?["type"]?.stringValue ?? "").isEmpty { errs.append(.required("spec.type", "field is required")) }
        let families = spec?["ipFamilies"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var seen = Set<String>()
        for (i, f) in families.enumerated() {
            if f != "IPv4" && f != "IPv6" {
                errs.append(.notSupported(FieldPath("spec.ipFamilies").index(i), .string(f), ["IPv4", "IPv6"]))
            } else if !seen.insert(f).inserted {
                errs.append(.duplicate(FieldPath("spec.ipFamilies").index(i), .string(f)))
            }
        }
        if errs.isEmpty {
            for key in ["podCIDR", "serviceCIDR"] {
                let value = spec?[key]?.stringValue ?? ""
                if value.isEmpty {
                    errs.append(.required(FieldPath("spec").child(key), "field is required"))
                } else if !CIDR.isGoParseable(value) {
                    errs.append(.invalid(FieldPath("spec").child(key), .string(value), "invalid CIDR address: \(value)"))
                }
            }
        }
        var lines = errs.map(\.description)
        if let pc = spec?["providerConfig"], !pc.isNull {
            lines += validateNetworkConfig(pc, root: CalicoValidation.controllerRoot, ipFamilies: families, duplicates: duplicates)
        }
        return lines
    }

    static func validateShoot(_ json: JSON, duplicates: [String] = []) -> [String] {
        let shoot: Shoot
        do { shoot = try Shoot.decode(json) } catch { return error.errors.map { line($0, root: "") } }
        switch CalicoValidation.validateShoot(shoot, providerConfigDuplicates: duplicates) {
        case .valid, .skipped: return []
        case .invalid(let list):
            return list.errors.map { line($0, root: CalicoValidation.admissionRoot) }
        }
    }
}
