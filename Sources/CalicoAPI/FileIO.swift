#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file fully (CalicoAPI stays free of Foundation; only used for `--config-file`).
struct FileReadError: Error, CustomStringConvertible {
    var description: String
}

func readWholeFile(_ path: String) throws -> String {
    guard let f = fopen(path, "rb") else {
        throw FileReadError(description: "open \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n > 0 { out.append(contentsOf: buf[0..<n]) }
        if n < buf.count {
            if ferror(f) != 0 { throw FileReadError(description: "read \(path): \(String(cString: strerror(errno)))") }
            break
        }
        if out.count > 16 << 20 { throw FileReadError(description: "read \(path): file too large") }
    }
    return String(decoding: out, as: UTF8.self)
}
