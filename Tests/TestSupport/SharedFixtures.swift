import Foundation

/// Locates `../shared` (the spec and golden cases), which CI places beside the checkout.
/// Fails loudly instead of skipping: tests that need it must not silently pass without it.
public enum SharedFixtures {
    /// The package root (the folder holding Package.swift).
    public static var packageRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/TestSupport/SharedFixtures.swift
        return url
    }

    /// `../shared` next to the package root, or `SHARED_DIR` when set.
    public static func sharedDirectory() throws -> URL {
        let env = ProcessInfo.processInfo.environment["SHARED_DIR"]
        let url = env.map { URL(fileURLWithPath: $0) } ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
            throw MissingSharedDirectory(path: url.path)
        }
        return url
    }

    /// `../shared` (or `SHARED_DIR`) is not there: tests fail loudly instead of skipping.
    public struct MissingSharedDirectory: Error, CustomStringConvertible {
        /// Where it was looked for.
        public var path: String
        /// The message, with the remedy.
        public var description: String { "the shared spec/golden directory is missing at \(path) (set SHARED_DIR)" }
    }
}
