import Foundation
import KubeCore

/// Reading the commands' input files: a path or `-` (standard input), JSON or multi-document YAML,
/// with the Network, Cluster and Shoot picked out by kind.
struct InputDocuments {
    /// Why a file could not be used.
    struct Failure: Error {
        var message: String
        /// The file parses except for a key given twice: a finding about its content, not unreadable input.
        var isDuplicateField = false
    }

    /// The documents in file order (`List` items are not expanded).
    var documents: [JSON]
    /// Keys a JSON document gave twice (JSON input is one document; YAML input with a repeated key
    /// does not parse at all), which strict decoding of the provider config rejects.
    var duplicateKeys: [JSONDuplicateKey] = []

    /// Reads and parses `path`; an empty file is an error.
    static func read(_ path: String) throws -> InputDocuments {
        let text: String
        do {
            if path == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                text = try String(contentsOfFile: path, encoding: .utf8)
            }
        } catch {
            throw Failure(message: "\(path): cannot read: \(error.localizedDescription)")
        }
        let parsed: InputDocuments
        do { parsed = try parse(text) } catch let error as YAMLConversionError where error.description.hasPrefix("duplicate field ") {
            throw Failure(message: "\(path): strict decoding error: \(error)", isDuplicateField: true)
        } catch {
            throw Failure(message: "\(path): cannot parse: \(error)")
        }
        guard !parsed.documents.isEmpty else { throw Failure(message: "\(path): empty file: no documents") }
        return parsed
    }

    /// JSON (one document) or YAML (multi-document); empty documents are dropped.
    static func parse(_ text: String) throws -> InputDocuments {
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        if trimmed.first == "{" || trimmed.first == "[" {
            if let (single, duplicates) = try? JSON.parseReportingDuplicateKeys(Array(text.utf8)) {
                return InputDocuments(documents: single.isNull ? [] : [single], duplicateKeys: duplicates)
            }
        }
        return InputDocuments(documents: try JSON.parseYAMLDocuments(text).filter { !$0.isNull })
    }

    /// The paths, relative to the provider config, of keys given twice in `document`'s provider config
    /// (`spec.providerConfig` of a Network, `spec.networking.providerConfig` of a Shoot, a NetworkConfig itself).
    func providerConfigDuplicates(of document: JSON) -> [String] {
        guard !duplicateKeys.isEmpty else { return [] }
        let prefix: [String]
        switch document["kind"]?.stringValue ?? "" {
        case "Network": prefix = ["spec", "providerConfig"]
        case "Shoot": prefix = ["spec", "networking", "providerConfig"]
        default: prefix = []
        }
        return duplicateKeys.compactMap { $0.path(below: prefix) }
    }

    /// The first document of `kind` (for a Network: `extensions.gardener.cloud`), else nil.
    func first(kind: String) -> JSON? {
        documents.first {
            $0["kind"]?.stringValue == kind && (kind != "Network" || ($0["apiVersion"]?.stringValue ?? "").hasPrefix("extensions.gardener.cloud/"))
        }
    }

    /// The document of `kind`; a single-document file counts as that kind whatever it says (the render's
    /// own validation then reports a wrong kind).
    func pick(_ kind: String, path: String) throws -> JSON {
        if let found = first(kind: kind) { return found }
        if documents.count == 1, let only = documents.first { return only }
        throw Failure(message: "\(path): no \(kind) document among \(documents.count)")
    }

    /// The `kind` document of the file at `path` (see `pick`) with its provider config's keys given twice.
    static func readDocument(_ path: String, kind: String) throws -> (document: JSON, providerConfigDuplicates: [String]) {
        let input = try read(path)
        let document = try input.pick(kind, path: path)
        return (document, input.providerConfigDuplicates(of: document))
    }
}
