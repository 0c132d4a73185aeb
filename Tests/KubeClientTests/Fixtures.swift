import Foundation
import KubeClient
import KubeCore

/// Test-only self-signed certificate and key (generated for these tests; trusts nothing real).
enum TestPEM {
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBijCCATGgAwIBAgIUYaEWnalcvx7l6bWUpJvtteLmjXswCgYIKoZIzj0EAwIw
        GjEYMBYGA1UEAwwPa3ViZWNsaWVudC10ZXN0MCAXDTI2MTEyNTAxMDg1NFoYDzIx
        MjYxMTAxMDEwODU0WjAaMRgwFgYDVQQDDA9rdWJlY2xpZW50LXRlc3QwWTATBgcq
        hkjOPQIBBggqhkjOPQMBBwNCAAQ0AIzE+LfJ+tCPc5aHE53MgYvx0XL21jBt+jgg
        lixI0Vwo82fzW1A2o5Zq+b51SDQ4pDMoA1uTvKRVwnuxhxo0o1MwUTAdBgNVHQ4E
        FgQUlj7GH0f61dZX6Saqzk4JV99hR2gwHwYDVR0jBBgwFoAUlj7GH0f61dZX6Saq
        zk4JV99hR2gwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAvpd9N
        IuKscNEpBuw4u2AQ7UbJxXqrPgudhF2h+TGqRgIgZIvoDSWV/Xg66NoMO+x5FTDh
        PuFshcs30BFAYra6TXY=
        -----END CERTIFICATE-----

        """
    static let key = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQga1CHIYP/BwLaeQnz
        Z7t4PVLUhOQ4kxIGN3c8B6Ti2byhRANCAAQ0AIzE+LfJ+tCPc5aHE53MgYvx0XL2
        1jBt+jgglixI0Vwo82fzW1A2o5Zq+b51SDQ4pDMoA1uTvKRVwnuxhxo0
        -----END PRIVATE KEY-----

        """
    static var certificateBase64: String { Data(certificate.utf8).base64EncodedString() }
    static var keyBase64: String { Data(key.utf8).base64EncodedString() }
}

/// A scratch directory removed at the end of the test.
final class ScratchDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("kubeclient-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file.path
    }
}

/// Runs `body` and returns the ConfigurationError it throws (nil if it did not throw one).
func configurationError(_ body: () throws -> Any) -> ConfigurationError? {
    do {
        _ = try body()
        return nil
    } catch let error as ConfigurationError {
        return error
    } catch {
        return nil
    }
}
