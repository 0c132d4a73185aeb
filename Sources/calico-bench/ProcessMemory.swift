import Foundation

/// Where a process's resident pages are, from `/proc/<pid>/smaps`: per mapping (file and
/// permissions) and per kind, so an RSS number can be traced to the binary's code, its data,
/// shared libraries, the heap or thread stacks.
struct ProcessMemory {
    struct Mapping {
        var name: String  // file path, [heap], [stack], or "" for anonymous
        var perms: String
        var sizeKiB: Int
        var rssKiB: Int
        var anonymousKiB: Int
    }

    var mappings: [Mapping] = []

    /// nil if the process is gone or smaps is unreadable.
    init?(pid: Int32) {
        // Read to EOF: /proc files report size 0, and String(contentsOfFile:) stops after one chunk.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps"),
            let data = try? handle.readToEnd()
        else { return nil }
        try? handle.close()
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), fields.count >= 5, first.first?.isHexDigit == true {
                // Header: address perms offset dev inode [path]
                let bounds = first.split(separator: "-").compactMap { Int($0, radix: 16) }
                let size = bounds.count == 2 ? (bounds[1] - bounds[0]) / 1024 : 0
                let name = fields.count >= 6 ? fields[5...].joined(separator: " ") : ""
                mappings.append(Mapping(name: name, perms: String(fields[1]), sizeKiB: size, rssKiB: 0, anonymousKiB: 0))
            } else if !mappings.isEmpty, fields.count >= 2, let kib = Int(fields[1]) {
                if first == "Rss:" { mappings[mappings.count - 1].rssKiB = kib }
                if first == "Anonymous:" { mappings[mappings.count - 1].anonymousKiB = kib }
            }
        }
    }

    var totalRSSKiB: Int { mappings.reduce(0) { $0 + $1.rssKiB } }

    /// The kind of a mapping: the executable's code/read-only data, its writable data, shared
    /// libraries, heap, stacks (threads' stacks are anonymous 8 MiB mappings) or other anonymous memory.
    func kind(of m: Mapping, executable: String) -> String {
        if m.name == executable { return m.perms.hasPrefix("rw") ? "binary data (rw)" : "binary code+rodata (\(m.perms))" }
        if m.name.hasPrefix("/") { return "shared libraries" }
        if m.name == "[heap]" { return "heap (brk)" }
        if m.name == "[stack]" { return "main stack" }
        if m.name.hasPrefix("[") { return m.name }
        if m.sizeKiB == 8192 || m.sizeKiB == 8196 { return "thread stacks (anonymous 8 MiB)" }
        return "anonymous (malloc arenas, runtime)"
    }

    /// A few lines: RSS by kind, then the largest mappings.
    func report(pid: Int32, top: Int = 12) -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        var byKind: [String: (rss: Int, anon: Int, count: Int)] = [:]
        for m in mappings {
            let k = kind(of: m, executable: executable)
            let old = byKind[k] ?? (0, 0, 0)
            byKind[k] = (old.rss + m.rssKiB, old.anon + m.anonymousKiB, old.count + 1)
        }
        var lines = [String(format: "  smaps Rss total %.1f MiB", Double(totalRSSKiB) / 1024)]
        for (k, v) in byKind.sorted(by: { $0.value.rss > $1.value.rss }) where v.rss > 0 {
            lines.append(
                String(format: "    %7.2f MiB  ", Double(v.rss) / 1024) + k
                    + String(format: " (%d mappings, %.2f MiB anonymous)", v.count, Double(v.anon) / 1024))
        }
        lines.append("  largest mappings:")
        for m in mappings.sorted(by: { $0.rssKiB > $1.rssKiB }).prefix(top) where m.rssKiB > 0 {
            let file = m.name.isEmpty ? "[anonymous]" : (m.name.split(separator: "/").last.map(String.init) ?? m.name)
            lines.append(String(format: "    %7.2f MiB of %7.1f MiB  ", Double(m.rssKiB) / 1024, Double(m.sizeKiB) / 1024) + "\(m.perms) \(file)")
        }
        return lines.joined(separator: "\n")
    }
}
