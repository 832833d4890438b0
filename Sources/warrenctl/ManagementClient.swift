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

        static func unavailable(_ url: URL, _ reason: String) -> Failure {
            Failure(description: "unable to reach the broker at \(url.absoluteString): \(reason)", exitCode: 69)
        }
    }

    /// Sends a request; returns the parsed JSON body (nil for an empty one).
    @discardableResult
    func request(_ method: String, _ path: String, body: Any? = nil, headers: [String: String] = [:]) async throws
        -> Any?
    {
        guard let url = URL(string: baseURL.absoluteString.trimmingSuffix("/") + path) else {
            throw Failure(description: "invalid URL path '\(path)'", exitCode: 64)
        }
        var request = URLRequest(url: url, timeoutInterval: 30)
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
            (data, response) = try await Self.session.data(for: request)
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

    /// A session that refuses HTTP authentication challenges instead of waiting on them: the
    /// credentials already went with the request, and Foundation on Linux otherwise stalls on
    /// a 401 that asks for Basic credentials.
    private static let session = URLSession(
        configuration: .ephemeral, delegate: ChallengeRefuser(), delegateQueue: nil)

    private static func failure(status: Int, body: Any?, path: String) -> Failure {
        let object = body as? [String: Any]
        let reason = (object?["reason"] as? String) ?? (object?["error"] as? String) ?? "HTTP \(status)"
        switch status {
        case 401: return Failure(description: "access refused (401): \(reason)", exitCode: 77)
        case 404: return Failure(description: "not found (404): \(path)", exitCode: 70)
        case 503: return Failure(description: "check failed: \(describe(body) ?? reason)", exitCode: 69)
        default: return Failure(description: "the broker refused the request (\(status)): \(reason)", exitCode: 65)
        }
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
