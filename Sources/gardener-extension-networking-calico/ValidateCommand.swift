import ArgumentParser
import CalicoAPI
import Foundation
import KubeCore

/// `validate FILE...`: validates NetworkConfig, Network or Shoot documents (YAML or JSON,
/// multi-document, `List` objects too) and prints every field error as `path: message`.
/// Exit status: 0 valid, 1 field errors, 2 unreadable input.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Validate NetworkConfig, Network or Shoot files.",
        discussion: "Prints every field error as `path: message`. Exit status 0 = valid, 1 = errors, 2 = unreadable input.")

    @Argument(help: "Files to validate ('-' reads standard input).") var files: [String]

    func run() async throws {
        var sawErrors = false
        var unreadable = false
        for file in files {
            let text: String
            do {
                if file == "-" {
                    text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                } else {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                }
            } catch {
                FileHandle.standardError.write(Data("\(file): cannot read: \(error.localizedDescription)\n".utf8))
                unreadable = true
                continue
            }
            let documents: [JSON]
            do {
                documents = try ValidateCommand.parseDocuments(text)
            } catch {
                FileHandle.standardError.write(Data("\(file): cannot parse: \(error)\n".utf8))
                unreadable = true
                continue
            }
            for (index, doc) in documents.enumerated() {
                let lines = ValidateCommand.validate(document: doc)
                for line in lines { print(line) }
                if !lines.isEmpty {
                    sawErrors = true
                    FileHandle.standardError.write(Data("\(file) (document \(index + 1)): \(lines.count) error(s)\n".utf8))
                }
            }
        }
        if unreadable { throw ExitCode(2) }
        if sawErrors { throw ExitCode(1) }
    }

    /// JSON (one document) or YAML (multi-document).
    static func parseDocuments(_ text: String) throws -> [JSON] {
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        if trimmed.first == "{" || trimmed.first == "[" {
            if let single = try? JSON.parse(string: text) { return [single] }
        }
        return try JSON.parseYAMLDocuments(text)
    }

    /// `path: message` lines for one document (empty when valid).
    static func validate(document: JSON) -> [String] {
        guard case .object(let o) = document else { return ["<document>: expected an object, got \(document.typeName)"] }
        let kind = o["kind"]?.stringValue ?? ""
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        switch kind {
        case "List",
            _ where kind.hasSuffix("List") && o["items"] != nil:
            return (o["items"]?.arrayValue ?? []).flatMap { validate(document: $0) }
        case "Shoot":
            return validateShoot(document)
        case "Network" where apiVersion.hasPrefix("extensions.gardener.cloud/"):
            return validateNetwork(document)
        case "NetworkConfig", "":
            return validateNetworkConfig(document, root: "", ipFamilies: ["IPv4"])
        default:
            if apiVersion == CalicoAPIGroup.apiVersion { return validateNetworkConfig(document, root: "", ipFamilies: ["IPv4"]) }
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

    static func validateNetworkConfig(_ json: JSON, root: FieldPath, ipFamilies: [String]) -> [String] {
        do {
            let config = try NetworkConfig.decode(json)
            return config.validate(root: root, ipFamilies: ipFamilies).map { line($0, root: root) }
        } catch {
            return error.errors.map { line($0, root: root) }
        }
    }

    /// Network: Gardener's checks of the Network object, which the actuator runs first, then the provider config.
    static func validateNetwork(_ json: JSON) -> [String] {
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
            lines += validateNetworkConfig(pc, root: CalicoValidation.controllerRoot, ipFamilies: families)
        }
        return lines
    }

    static func validateShoot(_ json: JSON) -> [String] {
        let shoot: Shoot
        do { shoot = try Shoot.decode(json) } catch { return error.errors.map { line($0, root: "") } }
        switch CalicoValidation.validateShoot(shoot) {
        case .valid, .skipped: return []
        case .invalid(let list):
            return list.errors.map { line($0, root: CalicoValidation.admissionRoot) }
        }
    }
}
