import Crypto

/// SHA-256 for checksum annotations, hashed object names and the ManagedResource secret checksum
/// (shared by the renderer and the ManagedResource helpers). swift-crypto's implementation uses
/// the CPU's SHA extensions: the secret checksum hashes every rendered manifest on each reconcile.
public enum SHA256Digest {
    /// The 32-byte digest of `bytes`.
    public static func hash<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        let digest: SHA256.Digest =
            bytes.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? SHA256.hash(data: Array(bytes))
        return Array(digest)
    }

    /// Lower-case hex of the digest of `bytes`.
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        Hex.lowercase(hash(bytes))
    }

    /// Hex digest over the concatenated hex digests of every value, keys in sorted order: the
    /// checksum Gardener uses for ManagedResource secret data (and so for the secret's name).
    public static func hexOfValueDigests(_ data: [String: [UInt8]]) -> String {
        var concatenated: [UInt8] = []
        for key in data.keys.sorted() {
            concatenated += Array(hex(data[key] ?? []).utf8)
        }
        return hex(concatenated)
    }

    /// Lower-case hex of the digest of the UTF-8 text.
    public static func hex(_ text: String) -> String { hex(Array(text.utf8)) }

}

/// Lower-case hexadecimal text of bytes (digests, tokens, UUIDs), two digits per byte.
public enum Hex {
    /// `bytes` as lower-case hex, e.g. `[0x0f, 0xa0]` → `0fa0`.
    public static func lowercase<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
