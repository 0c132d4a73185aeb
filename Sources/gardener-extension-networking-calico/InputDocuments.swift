import Foundation
import KubeCore

/// Reading the commands' input files: a path or `-` (standard input), JSON or multi-document YAML,
/// with the Network, Cluster and Shoot picked out by kind.
struct InputDocuments {
    /// Why a file could not be used.
    struct Failure: Error { var message: String }

    /// The documents in file order (`List` items are not expanded).
    var documents: [JSON]

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
        let documents: [JSON]
        do { documents = try parse(text).filter { !$0.isNull } } catch { throw Failure(message: "\(path): cannot parse: \(error)") }
        guard !documents.isEmpty else { throw Failure(message: "\(path): empty file: no documents") }
        return InputDocuments(documents: documents)
    }

    /// JSON (one document) or YAML (multi-document).
    static func parse(_ text: String) throws -> [JSON] {
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        if trimmed.first == "{" || trimmed.first == "[" {
            if let single = try? JSON.parse(string: text) { return [single] }
        }
        return try JSON.parseYAMLDocuments(text)
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
}
