import KubeJSON

/// Multi-document YAML emission of rendered objects.
enum ManifestYAML {
    static func writeStream(_ objects: [JSON], to out: inout [UInt8]) {
        let writer = YAMLWriter()
        for object in objects {
            out.append(contentsOf: "---\n".utf8)
            writer.write(object, to: &out)
        }
    }
}
