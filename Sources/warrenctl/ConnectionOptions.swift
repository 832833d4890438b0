import ArgumentParser
import Foundation

/// Where the broker's management API is and who to be: flags first, then the environment
/// (`WARREN_URL`, `WARREN_USER`, `WARREN_PASSWORD`), then a config file (`--config`, or
/// `~/.warrenctl.conf`) of `url = ...`, `username = ...`, `password = ...` lines.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "The management API's URL (default http://localhost:15672).")
    var url: String?

    @Option(name: .long, help: "The user to log in as (default guest).")
    var username: String?

    @Option(name: .long, help: "The user's password (default guest).")
    var password: String?

    @Option(name: .long, help: "A file of 'url = ...', 'username = ...', 'password = ...' lines.")
    var config: String?

    func client() throws -> ManagementClient {
        let environment = ProcessInfo.processInfo.environment
        let file = try configFile()
        let text = url ?? environment["WARREN_URL"] ?? file["url"] ?? "http://localhost:15672"
        guard let baseURL = URL(string: text), baseURL.scheme == "http" || baseURL.scheme == "https" else {
            throw ValidationError("--url must be an http:// or https:// URL, got '\(text)'")
        }
        return ManagementClient(
            baseURL: baseURL, username: username ?? environment["WARREN_USER"] ?? file["username"] ?? "guest",
            password: password ?? environment["WARREN_PASSWORD"] ?? file["password"] ?? "guest")
    }

    private func configFile() throws -> [String: String] {
        let explicit = config
        let path =
            explicit ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".warrenctl.conf").path
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            if let explicit { throw ValidationError("cannot read config file '\(explicit)'") }
            return [:]
        }
        var values: [String: String] = [:]
        for (index, line) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ValidationError("\(path):\(index + 1): expected 'key = value'")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            guard ["url", "username", "password"].contains(key) else {
                throw ValidationError("\(path):\(index + 1): unknown key '\(key)' (url, username, password)")
            }
            values[key] = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return values
    }
}

/// How results are printed: an aligned table (default) or JSON, with or without the
/// informational line before it.
struct OutputOptions: ParsableArguments {
    enum Formatter: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(name: .long, help: "table (default) or json.")
    var formatter: Formatter = .table

    @Flag(name: [.customShort("q"), .long], help: "No informational messages, for scripts.")
    var quiet = false

    @Flag(name: .customLong("no-table-headers"), help: "Leave out the header row of tables.")
    var noTableHeaders = false

    /// An informational line (to standard error, so it never mixes with the data).
    func info(_ text: String) {
        guard !quiet && formatter == .table else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Runs a command's body, turning a failed request into its message and exit code, never a
/// stack trace.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as ManagementClient.Failure {
        FileHandle.standardError.write(Data("Error: \(failure.description)\n".utf8))
        throw ExitCode(failure.exitCode)
    }
}
