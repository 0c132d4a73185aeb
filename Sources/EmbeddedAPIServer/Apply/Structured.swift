import KubeCore

/// The structured operations of server-side apply on JSON objects, driven by an ``ApplySchema``:
/// field sets of a value, comparison of two values, merge of an applied configuration and removal
/// of fields a manager stopped applying.
enum Structured {
    /// Metadata fields the server owns: never part of a manager's field set.
    static let serverMetadata: Set<String> = [
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion",
    ]

    /// Whether a member of the object at `depth` (0: the root, 1: metadata) is left out of field sets.
    @inline(__always)
    private static func skipped(_ key: String, _ level: Level) -> Bool {
        switch level {
        case .root: return key == "apiVersion" || key == "kind"
        case .metadata: return serverMetadata.contains(key)
        case .nested: return false
        }
    }

    enum Level { case root, metadata, nested }

    private static func childLevel(_ level: Level, _ key: String) -> Level { level == .root && key == "metadata" ? .metadata : .nested }

    /// The path element of each item of a non-atomic list, in order.
    static func itemElements(_ items: [JSON], _ kind: ListKind) -> [String] {
        items.enumerated().map { i, item in
            switch kind {
            case .atomic: return FieldSet.index(i)
            case .set: return FieldSet.value(item)
            case .map(let keys):
                let fields = keys.compactMap { k in item[k].map { (k, $0) } }
                return fields.isEmpty ? FieldSet.index(i) : FieldSet.key(fields)
            }
        }
    }

    // MARK: field set of a value

    /// The fields a value sets (an applied configuration's ownership).
    static func fieldSet(of object: JSON, schema: ApplySchema) -> FieldSet { fieldSet(object, schema, .root) }

    private static func fieldSet(_ value: JSON, _ schema: ApplySchema, _ level: Level) -> FieldSet {
        switch value {
        case .object(let o):
            if level == .nested && schema.atomicMap { return FieldSet(member: true) }
            var out = FieldSet()
            for (k, v) in o where !skipped(k, level) {
                let (cs, declared) = schema.child(k)
                var sub = fieldSet(v, cs, childLevel(level, k))
                let emptyMap = v.objectValue?.isEmpty == true
                if level != .root || k != "metadata" {
                    if v.isNull || emptyMap || !declared { sub.member = true }
                }
                if !sub.isEmpty { out.children[FieldSet.field(k)] = sub }
            }
            return out
        case .array(let items):
            let kind = schema.listKind
            if kind == .atomic { return FieldSet(member: true) }
            var out = FieldSet()
            let itemSchema = schema.item
            for (pe, item) in zip(itemElements(items, kind), items) {
                var sub = fieldSet(item, itemSchema, .nested)
                sub.member = true
                out.children[pe] = sub
            }
            return out
        default:
            return FieldSet(member: true)
        }
    }

    // MARK: comparison

    /// What changed between two versions of an object, as field sets.
    struct Comparison {
        var added = FieldSet()
        var modified = FieldSet()
        var removed = FieldSet()

        var isEmpty: Bool { added.isEmpty && modified.isEmpty && removed.isEmpty }

        fileprivate mutating func attach(_ element: String, _ sub: Comparison) {
            if !sub.added.isEmpty { added.children[element] = sub.added }
            if !sub.modified.isEmpty { modified.children[element] = sub.modified }
            if !sub.removed.isEmpty { removed.children[element] = sub.removed }
        }
    }

    /// Compares two versions of an object (server metadata and `apiVersion`/`kind` left out).
    static func compare(_ old: JSON, _ new: JSON, schema: ApplySchema) -> Comparison {
        compare(old, new, schema, .root)
    }

    private static func compare(_ lhs: JSON?, _ rhs: JSON?, _ schema: ApplySchema, _ level: Level) -> Comparison {
        var c = Comparison()
        if let lhs, let rhs, lhs == rhs { return c }
        let granularMap = level != .nested || !schema.atomicMap
        // A granular map or list compares member by member; anything else is one leaf.
        var container = true
        switch (lhs, rhs) {
        case (.object(let l)?, .object(let r)?) where granularMap: compareMembers(l, r, schema, level, &c)
        case (.object(let l)?, nil) where granularMap: compareMembers(l, [:], schema, level, &c)
        case (nil, .object(let r)?) where granularMap: compareMembers([:], r, schema, level, &c)
        case (.array(let l)?, .array(let r)?): container = compareItems(l, r, schema, &c)
        case (.array(let l)?, nil): container = compareItems(l, [], schema, &c)
        case (nil, .array(let r)?): container = compareItems([], r, schema, &c)
        default: container = false
        }
        guard level == .nested else { return c }
        if lhs == nil {
            c.added.member = true
        } else if rhs == nil {
            c.removed.member = true
        } else if !container {
            c.modified.member = true
        }
        return c
    }

    private static func compareMembers(_ l: JSONObject, _ r: JSONObject, _ schema: ApplySchema, _ level: Level, _ c: inout Comparison) {
        for (k, lv) in l where !skipped(k, level) {
            let rv = r[k]
            if let rv, rv == lv { continue }
            c.attach(FieldSet.field(k), compare(lv, rv, schema.child(k).schema, childLevel(level, k)))
        }
        for (k, rv) in r where l[k] == nil && !skipped(k, level) {
            c.attach(FieldSet.field(k), compare(nil, rv, schema.child(k).schema, childLevel(level, k)))
        }
    }

    /// Compares the items of a granular list; false for an atomic list (one leaf).
    private static func compareItems(_ l: [JSON], _ r: [JSON], _ schema: ApplySchema, _ c: inout Comparison) -> Bool {
        let kind = schema.listKind
        if kind == .atomic { return false }
        let itemSchema = schema.item
        let lIndex = Dictionary(zip(itemElements(l, kind), l), uniquingKeysWith: { a, _ in a })
        let rElements = itemElements(r, kind)
        let rIndex = Dictionary(zip(rElements, r), uniquingKeysWith: { a, _ in a })
        for (pe, lv) in lIndex {
            let rv = rIndex[pe]
            if let rv, rv == lv { continue }
            c.attach(pe, compare(lv, rv, itemSchema, .nested))
        }
        for pe in rElements where lIndex[pe] == nil {
            c.attach(pe, compare(nil, rIndex[pe], itemSchema, .nested))
        }
        return true
    }

    // MARK: merge

    /// The live object with an applied configuration merged in: maps member by member, lists by
    /// their kind (atomic lists replaced, sets and keyed lists merged item by item).
    static func merge(_ live: JSON, _ config: JSON, schema: ApplySchema) -> JSON { merge(live, config, schema, .root) }

    private static func merge(_ live: JSON?, _ config: JSON, _ schema: ApplySchema, _ level: Level) -> JSON {
        guard let live else { return config }
        switch (live, config) {
        case (.object(var l), .object(let c)) where level != .nested || !schema.atomicMap:
            for (k, v) in c {
                if v.isNull {
                    l.removeValue(forKey: k)
                } else {
                    l[k] = merge(l[k], v, schema.child(k).schema, childLevel(level, k))
                }
            }
            return .object(l)
        case (.array(let l), .array(let c)):
            let kind = schema.listKind
            if kind == .atomic { return config }
            return .array(mergeItems(l, c, kind, schema.item))
        default:
            return config
        }
    }

    /// Items of both lists: live items keep their place, applied items come in their order,
    /// each before the next live item they share.
    private static func mergeItems(_ l: [JSON], _ c: [JSON], _ kind: ListKind, _ itemSchema: ApplySchema) -> [JSON] {
        let lElements = itemElements(l, kind)
        let cElements = itemElements(c, kind)
        let lIndex = Dictionary(zip(lElements, l), uniquingKeysWith: { a, _ in a })
        let cIndex = Dictionary(zip(cElements, c), uniquingKeysWith: { a, _ in a })
        var out: [JSON] = []
        var emitted = Set<String>()
        var next = 0
        func emitApplied(upTo stop: String?) {
            while next < cElements.count {
                let pe = cElements[next]
                next += 1
                if emitted.insert(pe).inserted, let item = cIndex[pe] { out.append(merge(lIndex[pe], item, itemSchema, .nested)) }
                if pe == stop { return }
            }
        }
        for (pe, item) in zip(lElements, l) {
            if cIndex[pe] != nil {
                if !emitted.contains(pe) { emitApplied(upTo: pe) }
            } else if emitted.insert(pe).inserted {
                out.append(item)
            }
        }
        emitApplied(upTo: nil)
        return out
    }

    // MARK: removal of fields no longer applied

    /// Removes the fields of `previous` (what a manager applied last time) that no manager owns
    /// any more (`owned`: every manager's set after this apply).
    static func prune(_ object: JSON, previous: FieldSet, owned: FieldSet, schema: ApplySchema) -> JSON {
        prune(object, previous, owned, schema, .root)
    }

    private static func prune(_ value: JSON, _ previous: FieldSet, _ owned: FieldSet, _ schema: ApplySchema, _ level: Level) -> JSON {
        switch value {
        case .object(var o):
            for k in Array(o.keys) {
                let pe = FieldSet.field(k)
                guard let prev = previous.children[pe], let v = o[k] else { continue }
                let own = owned.child(pe)
                if prev.member && own.isEmpty {
                    o.removeValue(forKey: k)
                } else if !prev.children.isEmpty {
                    o[k] = prune(v, prev, own, schema.child(k).schema, childLevel(level, k))
                }
            }
            return .object(o)
        case .array(let items):
            let kind = schema.listKind
            if kind == .atomic { return value }
            var out: [JSON] = []
            for (pe, item) in zip(itemElements(items, kind), items) {
                guard let prev = previous.children[pe] else {
                    out.append(item)
                    continue
                }
                let own = owned.child(pe)
                if prev.member && own.isEmpty { continue }
                out.append(prev.children.isEmpty ? item : prune(item, prev, own, schema.item, .nested))
            }
            return .array(out)
        default:
            return value
        }
    }
}
