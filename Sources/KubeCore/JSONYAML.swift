import Yams

/// A YAML document that cannot be represented as JSON, or a YAML syntax error.
public struct YAMLConversionError: Error, Sendable, CustomStringConvertible {
    /// The reason, as printed.
    public var description: String
    /// An error with the given reason.
    public init(_ description: String) { self.description = description }
}

extension JSON {
    /// No regex rules: plain scalars are typed by `YAMLScalarResolver` (same rules without ICU).
    /// With `.basic` every implicit tag resolves to `str`, which is all Yams itself needs (it
    /// resolves mapping keys only, to find duplicates).
    private static let resolver = Resolver.basic

    /// Parses every document of a (multi-document) YAML stream. Empty documents are dropped.
    public static func parseYAMLDocuments(_ text: String) throws -> [JSON] {
        do {
            var documents: [JSON] = []
            // Iterate the parser directly: `compose_all`'s sequence swallows syntax errors
            // (it just ends), which made invalid YAML parse as an empty stream.
            let parser = try Parser(yaml: text, resolver: resolver)
            while let node = try parser.nextRoot() {
                let value = try JSON(yamlNode: node)
                if !value.isNull { documents.append(value) }
            }
            return documents
        } catch let error as YAMLConversionError {
            throw error
        } catch {
            throw YAMLConversionError("invalid YAML: \(error)")
        }
    }

    /// Parses a single YAML document (JSON is YAML too). An empty document is `.null`.
    public static func parseYAML(_ text: String) throws -> JSON {
        let documents = try parseYAMLDocuments(text)
        guard documents.count <= 1 else {
            throw YAMLConversionError("expected one YAML document, found \(documents.count)")
        }
        return documents.first ?? .null
    }

    /// Parses JSON if the text looks like JSON, YAML otherwise.
    public static func parseJSONOrYAML(_ text: String) throws -> JSON {
        let trimmed = text.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" })
        if trimmed.first == "{" || trimmed.first == "[" {
            if let value = try? JSON.parse(string: text) { return value }
        }
        return try parseYAML(text)
    }

    init(yamlNode node: Node) throws {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain && scalar.style != .any {
                self = .string(scalar.string)
                return
            }
            // The parser's own tag: empty for an untagged plain scalar (typed by its text),
            // the explicit tag otherwise (`!!str 1`, `!!float 1`); `! 1` is a string.
            let explicit = scalar.tag.rawValue
            let tag = explicit.isEmpty ? YAMLScalarResolver.resolve(scalar.string) : Tag.Name(rawValue: explicit)
            switch tag {
            case Tag.Name.null: self = .null
            case Tag.Name.bool: self = node.bool.map(JSON.bool) ?? .string(scalar.string)
            case Tag.Name.int:
                if let i = node.int { self = .int(Int64(i)) } else if let d = node.float { self = .double(d) } else { self = .string(scalar.string) }
            case Tag.Name.float: self = node.float.map(JSON.double) ?? .string(scalar.string)
            default: self = .string(scalar.string)
            }
        case .mapping(let mapping):
            var object = JSONObject(minimumCapacity: mapping.count)
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw YAMLConversionError("YAML mapping keys must be scalars (line \((keyNode.mark?.line).map(String.init) ?? "?"))")
                }
                object[keyScalar.string] = try JSON(yamlNode: valueNode)
            }
            self = .object(object)
        case .sequence(let sequence):
            self = .array(try sequence.map { try JSON(yamlNode: $0) })
        case .alias:
            throw YAMLConversionError("YAML aliases are not supported")
        }
    }
}
