import AsyncHTTPClient
import Foundation
import KubeCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

extension KubernetesClient {
    /// Sends one logical request (with rate limiting and retries) and decodes the JSON answer.
    /// `decodeAnswer: false` reads the answer but skips its decoding (and returns an empty object).
    func requestJSON(
        _ method: HTTPMethod, path: String, query: [(String, String)] = [], body: JSON? = nil,
        contentType: String? = nil, decodeAnswer: Bool = true
    ) async throws -> JSON {
        let bodyBytes = body.map { $0.serialized() }
        let response = try await send(
            method, path: path, query: query, body: bodyBytes, contentType: contentType,
            deadline: { .now() + .init(self.configuration.requestTimeout) })
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw KubeError.transport("\(method) \(path): reading the response failed: \(error)")
        }
        if buffer.readableBytes == 0 || !decodeAnswer { return .object([:]) }
        do {
            return try JSON.parse(buffer.readableBytesView)
        } catch {
            throw KubeError.other("\(method) \(path): response is not JSON: \(error)", code: Int(response.status.code))
        }
    }

    /// Sends a request and returns the 2xx response with its body not yet read; every other
    /// outcome is retried per the policy or thrown as ``KubeError``.
    func send(
        _ method: HTTPMethod, path: String, query: [(String, String)], body: [UInt8]?, contentType: String?,
        deadline: @Sendable () -> NIODeadline
    ) async throws -> HTTPClientResponse {
        let url = baseURL + path + Self.encodeQuery(query)
        let idempotent = method == .GET || method == .HEAD || method == .PUT || method == .DELETE || method == .OPTIONS
        var attempt = 0
        var reloadedToken = false
        var refreshExec = false
        while true {
            try Task.checkCancellation()
            if let limiter { try await limiter.wait() }
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "User-Agent", value: configuration.userAgent)
            request.headers.add(name: "Accept", value: "application/json")
            let auth = try await authorizationHeader(refresh: refreshExec)
            refreshExec = false
            if let auth {
                request.headers.add(name: "Authorization", value: auth)
            }
            if let body {
                request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
                request.body = .bytes(body)
            }
            let response: HTTPClientResponse
            let observer = requestObserver.withLock { $0 }
            let started = ContinuousClock.now
            do {
                response = try await http.execute(request, deadline: deadline(), logger: nil)
                observer?(
                    RequestObservation(
                        method: method.rawValue, host: serverHost, statusCode: Int(response.status.code), duration: ContinuousClock.now - started))
            } catch {
                observer?(RequestObservation(method: method.rawValue, host: serverHost, statusCode: nil, duration: ContinuousClock.now - started))
                if Task.isCancelled { throw CancellationError() }
                let failure = KubeError.transport("\(method) \(url): \(Self.describe(error))")
                if idempotent, attempt < configuration.maxRetries, !Self.isPermanent(error) {
                    let delay = backoff(attempt: attempt, retryAfter: nil)
                    logger.debug(
                        "retrying after transport error",
                        metadata: [
                            "method": "\(method)", "path": "\(path)", "attempt": "\(attempt + 1)", "error": "\(failure.message)", "delay": "\(delay)",
                        ])
                    attempt += 1
                    try await Task.sleep(for: delay)
                    continue
                }
                throw failure
            }
            let code = Int(response.status.code)
            if (200..<300).contains(code) { return response }

            // Error answer: read the (small) body to decode the Status.
            let errorBody = try? await response.body.collect(upTo: 1024 * 1024)
            let json = errorBody.flatMap { try? JSON.parse($0.readableBytesView) }
            let text = errorBody.map { String(buffer: $0) }.flatMap { $0.isEmpty ? nil : String($0.prefix(512)) }
            let retryAfterHeader = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let error = KubeError.fromResponse(code: code, body: json, retryAfterHeader: retryAfterHeader, fallbackMessage: text)

            if code == 401, tokenSource != nil || execSource != nil, !reloadedToken {
                // The token may have been rotated (or revoked) since we last looked: re-read the
                // file or run the exec plugin again, and retry once.
                reloadedToken = true
                _ = try? tokenSource?.token(forceReload: true)
                refreshExec = execSource != nil
                continue
            }
            if attempt < configuration.maxRetries, shouldRetry(code: code, idempotent: idempotent, hasRetryAfter: error.retryAfterSeconds != nil) {
                let delay = backoff(attempt: attempt, retryAfter: error.retryAfterSeconds)
                logger.debug(
                    "retrying after error answer",
                    metadata: ["method": "\(method)", "path": "\(path)", "code": "\(code)", "attempt": "\(attempt + 1)", "delay": "\(delay)"])
                attempt += 1
                try await Task.sleep(for: delay)
                continue
            }
            throw error
        }
    }

    func shouldRetry(code: Int, idempotent: Bool, hasRetryAfter: Bool) -> Bool {
        if code == 429 { return true }
        if (500...599).contains(code) && code != 501 {
            return idempotent || hasRetryAfter
        }
        return false
    }

    /// `Retry-After` when given (capped at a minute), else exponential backoff with jitter.
    func backoff(attempt: Int, retryAfter: Int?) -> Duration {
        if let retryAfter {
            return .seconds(min(max(retryAfter, 0), 60))
        }
        let base = configuration.retryBaseDelay
        let exp = base * (1 << min(attempt, 20))
        let capped = min(exp, configuration.retryMaxDelay)
        // Jitter in [50%, 100%] so synchronized clients spread out.
        return capped * Double.random(in: 0.5...1.0)
    }

    func authorizationHeader(refresh: Bool = false) async throws -> String? {
        switch configuration.authentication {
        case .none:
            return nil
        case .bearerToken(let token):
            return "Bearer \(token)"
        case .tokenFile:
            guard let tokenSource else { return nil }
            return "Bearer \(try tokenSource.token())"
        case .basic(let username, let password):
            let encoded = Base64.encode(Array("\(username):\(password)".utf8))
            return "Basic \(encoded)"
        case .exec:
            guard let execSource else { return nil }
            return "Bearer \(try await execSource.token(forceRefresh: refresh))"
        }
    }

    /// Errors that a retry cannot fix (TLS verification, bad configuration).
    static func isPermanent(_ error: Error) -> Bool {
        if error is NIOSSLExtraError { return true }
        if let ssl = error as? NIOSSLError, case .handshakeFailed = ssl { return true }
        let text = String(describing: error)
        return text.contains("handshakeFailed") || text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("invalidURL")
            || text.contains("unsupportedScheme")
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return String(describing: e) }
        return String(describing: error)
    }

    static func encodeQuery(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    /// RFC 3986 unreserved characters stay; everything else (`=`, `,`, `!`, `(`, spaces) is escaped.
    static func percentEncode(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Resource.hex(byte)
            }
        }
        return out
    }
}
