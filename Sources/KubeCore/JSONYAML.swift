import Yams

/// A YAML document that cannot be represented as JSON, or a YAML syntax error.
public struct YAMLConversionError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, for the error message.
    public var description: String
    /// An error with the given message.
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
            var expansion = YAMLAliasExpansion()
            while let node = try parser.nextRoot() {
                let value = try JSON(yamlNode: node, expansion: &expansion)
                if !value.isNull { documents.append(value) }
            }
            return documents
        } catch let error as YAMLConversionError {
            throw error
        } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
            // The parser refuses to build a mapping with a repeated key; name it the way strict
            // decoding does (see docs/usage.md), with its path in block-style YAML.
            let key = keys.first ?? ""
            let path = yamlBlockPath(text, line: context.mark.line, column: context.mark.column, key: key)
            throw YAMLConversionError("duplicate field \(goQuote(path)) (line \(context.mark.line))")
        } catch {
            throw YAMLConversionError("invalid YAML: \(error)")
        }
    }

    /// The dotted path of `key` at `line`:`column` (1-based) in block-style YAML: the keys of the
    /// less indented lines above it (sequence items add no step). Flow-style parents are not seen.
    static func yamlBlockPath(_ text: String, line: Int, column: Int, key: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var path = [key]
        var indent = column - 1
        var i = min(line - 1, lines.count) - 1
        while i >= 0, indent > 0 {
            let raw = lines[i]
            i -= 1
            if raw.first == "-" && raw.hasPrefix("---") { break }
            var content = raw.drop { $0 == " " }
            var keyColumn = raw.count - content.count
            while content.hasPrefix("- ") {
                content = content.dropFirst(2).drop { $0 == " " }
                keyColumn = raw.count - content.count
            }
            guard !content.isEmpty, !content.hasPrefix("#"), keyColumn < indent else { continue }
            indent = keyColumn
            if let colon = content.firstIndex(of: ":") {
                var name = content[..<colon]
                while name.last == " " { name = name.dropLast() }
                let quoted = name.count >= 2 && (name.first == "\"" || name.first == "'")
                path.insert(String(quoted ? name.dropFirst().dropLast() : name), at: 0)
            }
        }
        return path.joined(separator: ".")
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

    /// Converts one node. Yams resolves an alias to (a shared copy of) the anchored node, so an
    /// alias shows up as a node carrying an anchor seen before; everything converted below such
    /// a node is counted against the alias budget (billion-laughs defence, see docs/operations.md).
    init(yamlNode node: Node, expansion: inout YAMLAliasExpansion) throws {
        let viaAlias = expansion.enter(node)
        defer { if viaAlias { expansion.aliasDepth -= 1 } }
        switch node {
        case .scalar(let scalar):
            try expansion.produced(bytes: scalar.string.utf8.count)
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
            try expansion.produced(bytes: 0)
            var object = JSONObject(minimumCapacity: mapping.count)
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw YAMLConversionError("YAML mapping keys must be scalars (line \((keyNode.mark?.line).map(String.init) ?? "?"))")
                }
                try expansion.produced(bytes: keyScalar.string.utf8.count)
                object[keyScalar.string] = try JSON(yamlNode: valueNode, expansion: &expansion)
            }
            self = .object(object)
        case .sequence(let sequence):
            try expansion.produced(bytes: 0)
            self = .array(try sequence.map { try JSON(yamlNode: $0, expansion: &expansion) })
        case .alias:
            throw YAMLConversionError("YAML aliases are not supported")
        }
    }
}

/// The bound on what YAML aliases may expand to: a few hundred bytes of nested aliases can
/// otherwise expand to gigabytes ("billion laughs"). Counting stops the conversion early, long
/// before the expansion is built.
struct YAMLAliasExpansion {
    /// Values (scalars, mappings, sequences, keys) one stream may produce through aliases.
    static let maxNodes = 100_000
    /// Bytes of scalars and keys one stream may produce through aliases: the API server's
    /// request body limit, so an alias cannot smuggle a larger object past it.
    static let maxBytes = 3 * 1024 * 1024

    private var anchors: Set<String> = []
    /// How many alias expansions enclose the node being converted.
    var aliasDepth = 0
    private var nodes = 0
    private var bytes = 0

    /// Notes the node's anchor; returns whether the node is an alias of an earlier anchor (the
    /// caller decrements `aliasDepth` when done with it).
    mutating func enter(_ node: Node) -> Bool {
        guard let anchor = node.anchor?.rawValue else { return false }
        if aliasDepth == 0 && anchors.insert(anchor).inserted { return false }
        aliasDepth += 1
        return true
    }

    /// Counts a value (and its scalar or key bytes) when it comes from an alias.
    mutating func produced(bytes count: Int) throws {
        guard aliasDepth > 0 else { return }
        nodes += 1
        bytes += count
        if nodes > Self.maxNodes {
            throw YAMLConversionError("excessive aliasing: YAML aliases expand to more than \(Self.maxNodes) values")
        }
        if bytes > Self.maxBytes {
            throw YAMLConversionError("excessive aliasing: YAML aliases expand to more than \(Self.maxBytes) bytes")
        }
    }
}
