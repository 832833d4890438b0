import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of Warren's management HTTP API (also RabbitMQ's): one request per call, JSON in
/// and out, and errors a person can act on.
struct ManagementClient {
    let baseURL: URL
    let username: String
    let password: String

    /// What went wrong, with the exit code rabbitmqctl uses for it (sysexits.h).
    struct Failure: Error, CustomStringConvertible {
        var description: String
        var exitCode: Int32
        /// The broker's JSON answer, when there was one.
        var body: [String: Any]? = nil

        static func unavailable(_ url: URL, _ reason: String) -> Failure {
            Failure(description: "unable to reach the broker at \(url.absoluteString): \(reason)", exitCode: 69)
        }
    }

    /// Sends a request; returns the parsed JSON body (nil for an empty one).
    @discardableResult
    func request(
        _ method: String, _ path: String, body: Any? = nil, headers: [String: String] = [:], timeout: Double = 30
    ) async throws -> Any? {
        guard let url = URL(string: baseURL.absoluteString.trimmingSuffix("/") + path) else {
            throw Failure(description: "invalid URL path '\(path)'", exitCode: 64)
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        let credentials = Data("\(username):\(password)".utf8).base64EncodedString()
        request.setValue("Basic \(credentials)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let data: Data
        let response: URLResponse
        do {
            let prepared = request
            (data, response) = try await Self.withDeadline(seconds: timeout) {
                try await Self.session.data(for: prepared)
            }
        } catch is TimedOut {
            throw Failure.unavailable(baseURL, "no answer within \(max(1, Int(timeout.rounded()))) s")
        } catch let error as URLError where error.code == .cancelled {
            // Only the challenge handler below cancels: the credentials were refused.
            throw Failure(description: "access refused (401): login failed for user '\(username)'", exitCode: 77)
        } catch {
            throw Failure.unavailable(baseURL, error.localizedDescription)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        guard (200..<300).contains(status) else {
            throw Self.failure(status: status, body: json, path: path)
        }
        return json
    }

    private struct TimedOut: Error {}

    /// Runs `body`, abandoning it after `seconds`: Foundation on Linux does not apply a
    /// request's own timeout, so a listener that accepts but never answers would hold us.
    private static func withDeadline<T: Sendable>(
        seconds: Double, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                throw TimedOut()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw TimedOut() }
            return first
        }
    }

    /// A session that refuses HTTP authentication challenges instead of waiting on them: the
    /// credentials already went with the request, and Foundation on Linux otherwise stalls on
    /// a 401 that asks for Basic credentials.
    private static let session: URLSession = {
        URLSession(configuration: .ephemeral, delegate: ChallengeRefuser(), delegateQueue: nil)
    }()

    private static func failure(status: Int, body: Any?, path: String) -> Failure {
        let object = body as? [String: Any]
        let reason = readable((object?["reason"] as? String) ?? (object?["error"] as? String) ?? "HTTP \(status)")
        var failure: Failure
        switch status {
        case 401: failure = Failure(description: "access refused (401): \(reason)", exitCode: 77)
        case 404: failure = Failure(description: "not found (404): \(path)", exitCode: 70)
        case 503: failure = Failure(description: "check failed: \(describe(body) ?? reason)", exitCode: 69)
        default: failure = Failure(description: "the broker refused the request (\(status)): \(reason)", exitCode: 65)
        }
        failure.body = object
        return failure
    }

    /// A reason on one line, without the HTML escaping RabbitMQ's validation messages carry.
    static func readable(_ reason: String) -> String {
        var text = reason
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            text = text.replacing(entity, with: character)
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: ": ")
    }

    private static func describe(_ body: Any?) -> String? {
        guard let body, let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Path segments percent-encoded as the API expects (`/` in a vhost name is `%2F`).
func segment(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

private final class ChallengeRefuser: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}
