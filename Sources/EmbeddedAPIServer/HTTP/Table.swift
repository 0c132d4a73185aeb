import Foundation
import KubeCore

/// Table responses for `kubectl get` and a small JSONPath evaluator for printer columns.
enum TableRenderer {
    enum IncludeObject { case metadata, object, none }

    static func wantsTable(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.containsBytes("as=Table")
    }

    static func columnDefinitions(_ info: ResourceInfo) -> JSON {
        if info.behavior == .event { return EventTable.columnDefinitions }
        var defs: [JSON] = [
            [
                "name": "Name", "type": "string", "format": "name",
                "description": "Name must be unique within a namespace.", "priority": 0,
            ]
        ]
        for c in info.printerColumns {
            defs.append([
                "name": .string(c.name), "type": .string(c.type), "format": .string(c.format),
                "description": .string(c.description), "priority": .int(Int64(c.priority)),
            ])
        }
        return .array(defs)
    }

    static func row(_ info: ResourceInfo, _ object: JSON, include: IncludeObject) -> JSON {
        var cells: [JSON]
        if info.behavior == .event {
            cells = EventTable.cells(EventConversion.isEventsAPI(info) ? EventConversion.toCore(object) : object)
        } else {
            cells = [object[path: "metadata", "name"] ?? ""]
            for c in info.printerColumns { cells.append(cell(c, object)) }
        }
        var row: JSON = ["cells": .array(cells)]
        switch include {
        case .metadata:
            row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? .emptyObject]
        case .object:
            row["object"] = object
        case .none:
            break
        }
        return row
    }

    static func cell(_ c: PrinterColumn, _ object: JSON) -> JSON {
        let values = JSONPath.evaluate(c.jsonPath, on: object)
        guard let first = values.first, !first.isNull else {
            // Built-in "count" columns (Data, Webhooks) count entries.
            return .null
        }
        switch c.type {
        case "date":
            if let s = first.stringValue, let d = KubeTime.parse(s) { return .string(KubeTime.age(since: d)) }
            return first.stringValue.map(JSON.string) ?? .null
        case "integer":
            if let i = first.intValue { return .int(Int64(i)) }
            if let o = first.objectValue { return .int(Int64(o.count)) }
            if let a = first.arrayValue { return .int(Int64(a.count)) }
            return .null
        case "number":
            if case .double = first { return first }
            if let i = first.intValue { return .int(Int64(i)) }
            return .null
        case "boolean":
            return first.boolValue.map(JSON.bool) ?? .null
        default:
            if values.count > 1 { return .string(values.map(text).joined(separator: " ")) }
            return .string(text(first))
        }
    }

    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .double(let d): return String(d)
        case .null: return "<none>"
        default: return v.serializedString()
        }
    }

    static func table(_ info: ResourceInfo, objects: [JSON], listMeta: JSON, include: IncludeObject, withColumns: Bool = true) -> JSON {
        var t: JSON = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": listMeta]
        // In watch streams only the first event carries the column definitions.
        if withColumns { t["columnDefinitions"] = columnDefinitions(info) }
        t["rows"] = .array(objects.map { row(info, $0, include: include) })
        return t
    }
}

/// kube-apiserver's own table of Events (both API groups), which `kubectl get events` prints:
/// no leading Name column, the involved object as `kind/name`, and times that fall back from
/// `lastTimestamp` to `firstTimestamp` to `eventTime` (or the series' last observation). The
/// columns of priority 1 are those `-o wide` adds.
enum EventTable {
    static let columnDefinitions: JSON = .array(
        [
            ("Last Seen", 0, "Time of the last occurrence."), ("Type", 0, "Normal or Warning."),
            ("Reason", 0, "Why the event happened, in CamelCase."), ("Object", 0, "The object the event is about."),
            ("Subobject", 1, "The part of the object (fieldPath)."), ("Source", 1, "The component (and host) that reported it."),
            ("Message", 0, "What happened, for humans."), ("First Seen", 1, "Time of the first occurrence."),
            ("Count", 1, "How often it happened."), ("Name", 1, "Name of the Event object."),
        ].map { name, priority, description in
            ["name": .string(name), "type": "string", "format": "", "description": .string(description), "priority": .int(Int64(priority))]
        })

    /// The cells of one Event in the core form, in column order.
    static func cells(_ event: JSON, now: Date = Date()) -> [JSON] {
        func since(_ field: JSON?) -> String? {
            guard let text = field?.stringValue, let date = KubeTime.parse(text) else { return nil }
            return KubeTime.age(since: date, now: now)
        }
        let first = since(event["firstTimestamp"]) ?? since(event["eventTime"]) ?? "<unknown>"
        var last = since(event["lastTimestamp"]) ?? first
        var count = event["count"]?.intValue ?? 0
        if let series = event["series"], series.isObject {
            last = since(series["lastObservedTime"]) ?? last
            count = series["count"]?.intValue ?? count
        } else if count == 0 {
            count = 1  // a singleton of the events.k8s.io API has no count
        }
        let kind = (event[path: "involvedObject", "kind"]?.stringValue ?? "").lowercased()
        let name = event[path: "involvedObject", "name"]?.stringValue ?? ""
        let component =
            event[path: "source", "component"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? event["reportingComponent"]?.stringValue ?? ""
        let host =
            event[path: "source", "host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? event["reportingInstance"]?.stringValue ?? ""
        return [
            .string(last), event["type"] ?? "", event["reason"] ?? "", .string(name.isEmpty ? kind : "\(kind)/\(name)"),
            event[path: "involvedObject", "fieldPath"] ?? "", .string(host.isEmpty ? component : "\(component), \(host)"),
            .string((event["message"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)), .string(first),
            .int(Int64(count)), event[path: "metadata", "name"] ?? "",
        ]
    }
}

/// The JSONPath subset used by printer columns: `.a.b`, `.a[0]`, `.a[*].b`, `.a[?(@.k=="v")].b`, `{...}`.
enum JSONPath {
    static func evaluate(_ expression: String, on object: JSON) -> [JSON] {
        var expr = expression.trimmedSpaces()
        if expr.hasPrefix("{") && expr.hasSuffix("}") { expr = String(expr.dropFirst().dropLast()) }
        if expr.hasPrefix("$") { expr.removeFirst() }
        var current: [JSON] = [object]
        let chars = Array(expr)
        var i = 0
        while i < chars.count {
            if chars[i] == "." {
                i += 1
                var key = ""
                while i < chars.count, chars[i] != ".", chars[i] != "[" {
                    key.append(chars[i])
                    i += 1
                }
                if key.isEmpty { continue }
                current = current.compactMap { $0[key] }
            } else if chars[i] == "[" {
                guard let close = matchingBracket(chars, i) else { return [] }
                let inner = String(chars[(i + 1)..<close]).trimmedSpaces()
                i = close + 1
                if inner == "*" {
                    current = current.flatMap { $0.arrayValue ?? Array(($0.objectValue ?? [:]).values) }
                } else if let idx = Int(inner) {
                    current = current.compactMap { v in
                        guard let a = v.arrayValue else { return nil }
                        let j = idx < 0 ? a.count + idx : idx
                        return a.indices.contains(j) ? a[j] : nil
                    }
                } else if inner.hasPrefix("?(") && inner.hasSuffix(")") {
                    let cond = String(inner.dropFirst(2).dropLast())
                    current = current.flatMap { v in (v.arrayValue ?? []).filter { filterMatches(cond, $0) } }
                } else if inner.hasPrefix("'") || inner.hasPrefix("\"") {
                    let key = String(inner.dropFirst().dropLast())
                    current = current.compactMap { $0[key] }
                } else {
                    return []
                }
            } else {
                var key = ""
                while i < chars.count, chars[i] != ".", chars[i] != "[" {
                    key.append(chars[i])
                    i += 1
                }
                current = current.compactMap { $0[key] }
            }
        }
        return current
    }

    static func matchingBracket(_ chars: [Character], _ open: Int) -> Int? {
        var depth = 0
        var quote: Character?
        for j in open..<chars.count {
            let c = chars[j]
            if let q = quote {
                if c == q { quote = nil }
                continue
            }
            if c == "\"" || c == "'" {
                quote = c
                continue
            }
            if c == "[" { depth += 1 }
            if c == "]" {
                depth -= 1
                if depth == 0 { return j }
            }
        }
        return nil
    }

    /// `@.path=="value"` / `@.path!="value"` / `@.path`.
    static func filterMatches(_ cond: String, _ element: JSON) -> Bool {
        var op = ""
        var parts: [String] = [cond]
        for candidate in ["==", "!="] {
            if let r = cond.range(of: candidate) {
                op = candidate
                parts = [String(cond[..<r.lowerBound]), String(cond[r.upperBound...])]
                break
            }
        }
        let lhsPath = parts[0].trimmedSpaces()
        guard lhsPath.hasPrefix("@") else { return false }
        let lhs = evaluate(String(lhsPath.dropFirst()), on: element).first
        if op.isEmpty { return lhs != nil && lhs != .null }
        var rhsText = parts[1].trimmedSpaces()
        if (rhsText.hasPrefix("\"") && rhsText.hasSuffix("\"")) || (rhsText.hasPrefix("'") && rhsText.hasSuffix("'")) {
            rhsText = String(rhsText.dropFirst().dropLast())
        }
        let lhsText = lhs.map(TableRenderer.text) ?? ""
        return op == "==" ? lhsText == rhsText : lhsText != rhsText
    }
}
