import Foundation
import KubeCore

/// Minimal decoder of Kubernetes protobuf request bodies for Namespace, ConfigMap and Secret
/// (what `kubectl create namespace|configmap|secret` send: those commands speak only protobuf);
/// the auth kinds' fields are in Auth/AuthProtobuf.swift, Deployment's in WorkloadProtobuf.swift.
enum KubeProtobuf {
    struct DecodeError: Error, CustomStringConvertible { var description: String }

    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    /// A protobuf field: number plus either a varint or a length-delimited payload.
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    static func fields(_ data: ArraySlice<UInt8>) throws -> [(Int, Value)] {
        var out: [(Int, Value)] = []
        var i = data.startIndex
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < data.endIndex, shift < 64 else { throw DecodeError(description: "truncated varint") }
                let b = data[i]
                i += 1
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while i < data.endIndex {
            let tag = try varint()
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: out.append((number, .varint(try varint())))
            case 2:
                let len = Int(try varint())
                guard len >= 0, i + len <= data.endIndex else { throw DecodeError(description: "truncated field \(number)") }
                out.append((number, .bytes(data[i..<(i + len)])))
                i += len
            case 1:
                guard i + 8 <= data.endIndex else { throw DecodeError(description: "truncated fixed64") }
                i += 8
                out.append((number, .fixed))
            case 5:
                guard i + 4 <= data.endIndex else { throw DecodeError(description: "truncated fixed32") }
                i += 4
                out.append((number, .fixed))
            default: throw DecodeError(description: "unsupported wire type \(tag & 7)")
            }
        }
        return out
    }

    static func string(_ v: Value) -> String? {
        if case .bytes(let b) = v { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    static func mapEntry(_ v: Value) throws -> (String, ArraySlice<UInt8>)? {
        guard case .bytes(let b) = v else { return nil }
        var key = ""
        var value: ArraySlice<UInt8> = []
        for (n, f) in try fields(b) {
            if n == 1, let s = string(f) { key = s }
            if n == 2, case .bytes(let vb) = f { value = vb }
        }
        return (key, value)
    }

    /// Decodes an envelope (`k8s\0` + Unknown{typeMeta, raw}) into a JSON object.
    static func decode(_ body: [UInt8]) throws -> JSON {
        guard body.count >= 4, Array(body.prefix(4)) == magic else { throw DecodeError(description: "missing protobuf magic prefix") }
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        for (n, v) in try fields(body[4...]) {
            if n == 1, case .bytes(let tm) = v {
                for (tn, tv) in try fields(tm) {
                    if tn == 1 { apiVersion = string(tv) ?? "" }
                    if tn == 2 { kind = string(tv) ?? "" }
                }
            }
            if n == 2, case .bytes(let r) = v { raw = r }
        }
        var obj: JSON = ["apiVersion": .string(apiVersion), "kind": .string(kind)]
        for (n, v) in try fields(raw) {
            if n == 1, case .bytes(let m) = v { obj["metadata"] = try objectMeta(m) }
            switch (kind, n) {
            case ("Namespace", 2):
                if case .bytes(let spec) = v {
                    var fins: [JSON] = []
                    for (sn, sv) in try fields(spec) where sn == 1 { if let s = string(sv) { fins.append(.string(s)) } }
                    if !fins.isEmpty { obj[path: "spec", "finalizers"] = .array(fins) }
                }
            case ("ConfigMap", 2):
                if let (k, val) = try mapEntry(v) { obj[path: "data", k] = .string(String(decoding: val, as: UTF8.self)) }
            case ("ConfigMap", 3):
                if let (k, val) = try mapEntry(v) { obj[path: "binaryData", k] = .string(Data(val).base64EncodedString()) }
            case ("ConfigMap", 4), ("Secret", 5):
                if case .varint(let b) = v { obj["immutable"] = .bool(b != 0) }
            case ("Secret", 2):
                if let (k, val) = try mapEntry(v) { obj[path: "data", k] = .string(Data(val).base64EncodedString()) }
            case ("Secret", 3):
                if let s = string(v) { obj["type"] = .string(s) }
            case ("Secret", 4):
                if let (k, val) = try mapEntry(v) { obj[path: "stringData", k] = .string(String(decoding: val, as: UTF8.self)) }
            default:
                try AuthProtobuf.field(kind: kind, number: n, value: v, into: &obj)
                try WorkloadProtobuf.field(kind: kind, number: n, value: v, into: &obj)
            }
        }
        if obj["metadata"] == nil { obj["metadata"] = .emptyObject }
        return obj
    }

    static func objectMeta(_ data: ArraySlice<UInt8>) throws -> JSON {
        var meta: JSON = .emptyObject
        for (n, v) in try fields(data) {
            switch n {
            case 1: meta["name"] = string(v).map(JSON.string)
            case 2: meta["generateName"] = string(v).map(JSON.string)
            case 3: meta["namespace"] = string(v).map(JSON.string)
            case 5: meta["uid"] = string(v).map(JSON.string)
            case 6: meta["resourceVersion"] = string(v).map(JSON.string)
            case 11: if let (k, val) = try mapEntry(v) { meta[path: "labels", k] = .string(String(decoding: val, as: UTF8.self)) }
            case 12: if let (k, val) = try mapEntry(v) { meta[path: "annotations", k] = .string(String(decoding: val, as: UTF8.self)) }
            case 14:
                if let s = string(v) {
                    var fins = meta["finalizers"]?.arrayValue ?? []
                    fins.append(.string(s))
                    meta["finalizers"] = .array(fins)
                }
            default: break
            }
        }
        // Empty strings mean "unset" in protobuf.
        for key in ["name", "generateName", "namespace", "uid", "resourceVersion"] where meta[key]?.stringValue == "" { meta[key] = nil }
        return meta
    }
}
