import KubeCore

/// A set of field paths, as server-side apply tracks ownership: a trie whose edges are path
/// elements in their `fieldsV1` spelling (`f:name`, `k:{"name":"a"}`, `v:"x"`, `i:0`) and whose
/// nodes may be members themselves (`.` in `fieldsV1`). See docs/local.md for what is and is not
/// reproduced of kube-apiserver's server-side apply.
struct FieldSet: Equatable, Sendable {
    /// The path ending here is in the set.
    var member = false
    var children: [String: FieldSet] = [:]

    /// No path at all is in the set.
    var isEmpty: Bool { !member && children.values.allSatisfy(\.isEmpty) }

    /// Adds the path (its intermediate nodes are not members).
    mutating func insert(_ path: ArraySlice<String>) {
        guard let first = path.first else {
            member = true
            return
        }
        children[first, default: FieldSet()].insert(path.dropFirst())
    }

    /// Whether the path is a member.
    func contains(_ path: ArraySlice<String>) -> Bool {
        guard let first = path.first else { return member }
        return children[first]?.contains(path.dropFirst()) ?? false
    }

    /// The subtree under one child, empty when absent.
    func child(_ element: String) -> FieldSet { children[element] ?? FieldSet() }

    /// Every path of either set.
    func union(_ other: FieldSet) -> FieldSet {
        if other.children.isEmpty && !other.member { return self }
        var out = self
        out.member = member || other.member
        for (k, v) in other.children { out.children[k] = children[k].map { $0.union(v) } ?? v }
        return out
    }

    /// The paths of this set that are not paths of `other` (members only, not their subtrees).
    func subtracting(_ other: FieldSet) -> FieldSet {
        if other.children.isEmpty && !other.member { return self }
        var out = FieldSet(member: member && !other.member)
        for (k, v) in children {
            let rest = other.children[k].map { v.subtracting($0) } ?? v
            if !rest.isEmpty { out.children[k] = rest }
        }
        return out
    }

    /// The paths of both sets.
    func intersection(_ other: FieldSet) -> FieldSet {
        var out = FieldSet(member: member && other.member)
        for (k, v) in children {
            guard let o = other.children[k] else { continue }
            let both = v.intersection(o)
            if !both.isEmpty { out.children[k] = both }
        }
        return out
    }

    /// The member paths, in kube's order, each as its path elements.
    func paths() -> [[String]] {
        var out: [[String]] = []
        collect(prefix: [], into: &out)
        return out
    }

    private func collect(prefix: [String], into out: inout [[String]]) {
        if member && !prefix.isEmpty { out.append(prefix) }
        for k in Self.ordered(children.keys) { children[k]?.collect(prefix: prefix + [k], into: &out) }
    }

    // MARK: fieldsV1

    /// Reads a `fieldsV1` object; nil when it is not one.
    init?(fieldsV1 json: JSON) {
        guard case .object(let o) = json else { return nil }
        for (k, v) in o {
            if k == "." {
                member = true
                continue
            }
            guard let sub = FieldSet(fieldsV1: v) else { return nil }
            // A leaf (`{}`) is a member.
            children[k] = sub.children.isEmpty ? FieldSet(member: true) : sub
        }
    }

    init(member: Bool = false, children: [String: FieldSet] = [:]) {
        self.member = member
        self.children = children
    }

    /// The `fieldsV1` object: `.` first when a node is a member with children, children in kube's order.
    var fieldsV1: JSON {
        var o = JSONObject()
        if member && !children.isEmpty { o["."] = .emptyObject }
        for k in Self.ordered(children.keys) {
            if let v = children[k] { o[k] = v.fieldsV1 }
        }
        return .object(o)
    }

    /// kube orders path elements field names first, then keys, values and indexes.
    static func ordered(_ keys: Dictionary<String, FieldSet>.Keys) -> [String] {
        keys.sorted { a, b in
            let ra = rank(a)
            let rb = rank(b)
            if ra != rb { return ra < rb }
            if ra == 3, let ia = Int(a.dropFirst(2)), let ib = Int(b.dropFirst(2)) { return ia < ib }
            return a < b
        }
    }

    private static func rank(_ element: String) -> Int {
        switch element.first {
        case "f": return 0
        case "k": return 1
        case "v": return 2
        default: return 3
        }
    }

    // MARK: path elements

    /// A field of a map or struct.
    static func field(_ name: String) -> String { "f:" + name }

    /// An item of an associative list, by its key fields (sorted by name).
    static func key(_ fields: [(String, JSON)]) -> String {
        var o = JSONObject()
        for (k, v) in fields.sorted(by: { $0.0 < $1.0 }) { o[k] = v }
        return "k:" + JSON.object(o).serializedString()
    }

    /// An item of a set list, by its value.
    static func value(_ v: JSON) -> String { "v:" + v.serializedString() }

    /// An item of a list by position (lists whose items have no identity).
    static func index(_ i: Int) -> String { "i:\(i)" }

    /// A path as kube prints it in conflict messages: `.spec.containers[name="a"].image`.
    static func describe(_ path: [String]) -> String {
        var out = ""
        for e in path {
            let rest = String(e.dropFirst(2))
            switch e.prefix(2) {
            case "f:": out += "." + rest
            case "k:":
                let fields = (try? JSON.parse(Array(rest.utf8)))?.objectValue ?? [:]
                out += "[" + fields.map { "\($0.key)=\(printed($0.value))" }.joined(separator: ",") + "]"
            case "v:": out += "[=" + printed((try? JSON.parse(Array(rest.utf8))) ?? .string(rest)) + "]"
            default: out += "[" + rest + "]"
            }
        }
        return out
    }

    /// Values in conflict messages: strings quoted, numbers and booleans bare.
    private static func printed(_ v: JSON) -> String {
        if case .string(let s) = v { return "\"" + s + "\"" }
        return v.serializedString()
    }
}
