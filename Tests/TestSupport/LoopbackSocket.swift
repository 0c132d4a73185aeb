import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Raw TCP to 127.0.0.1 for tests that speak bytes rather than a client library: plaintext
/// requests to TLS ports, and health and metrics endpoints read without an HTTP stack.
public enum LoopbackSocket {
    /// A connection to 127.0.0.1:`port` whose reads give up after `receiveTimeoutSeconds` of
    /// silence (nil: they wait until the peer closes), or nil when nothing accepts it. The caller
    /// closes it.
    public static func connect(port: Int, receiveTimeoutSeconds: Int? = 5) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if let receiveTimeoutSeconds {
            var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Sends `request` on the connected socket `fd` and reads the answer until the peer closes, the
    /// receive timeout passes or `limit` bytes came.
    public static func exchange(_ fd: Int32, _ request: String, limit: Int = 65536) -> [UInt8] {
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answer.count < limit {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return answer
    }
}
