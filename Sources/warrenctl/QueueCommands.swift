import ArgumentParser
import Foundation

struct PurgeQueue: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge_queue", abstract: "Drops a queue's ready messages.")
    @Argument var queue: String
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Purging queue '\(queue)' in vhost '\(vhost)' ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("DELETE", "/api/queues/\(segment(vhost))/\(segment(queue))/contents")
    }
}

struct DeleteQueue: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "delete_queue", abstract: "Deletes a queue.")
    @Argument var queue: String
    @Flag(name: [.customShort("e"), .customLong("if-empty")], help: "Only if it has no messages.") var ifEmpty = false
    @Flag(name: [.customShort("u"), .customLong("if-unused")], help: "Only if it has no consumers.") var ifUnused =
        false
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Deleting queue '\(queue)' on vhost '\(vhost)' ..." }

    func perform(_ client: ManagementClient) async throws {
        var query: [String] = []
        if ifEmpty { query.append("if-empty=true") }
        if ifUnused { query.append("if-unused=true") }
        let suffix = query.isEmpty ? "" : "?" + query.joined(separator: "&")
        try await client.request("DELETE", "/api/queues/\(segment(vhost))/\(segment(queue))\(suffix)")
    }
}

struct CloseConnection: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "close_connection", abstract: "Closes a client connection (by its name) with a reason.")
    @Argument(help: "The connection's name, as list_connections name shows it.") var name: String
    @Argument var explanation: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Closing connection \(name), reason: \(explanation)..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("DELETE", "/api/connections/\(segment(name))", headers: ["X-Reason": explanation])
    }
}

struct ExportDefinitions: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "export_definitions", abstract: "Writes the definitions to a file ('-' for standard output).")
    @Argument var path: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Exporting definitions in JSON to a file at \"\(path)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        let definitions = try await client.request("GET", "/api/definitions") ?? [String: Any]()
        let text = Table.json(definitions, pretty: true) + "\n"
        if path == "-" {
            print(text, terminator: "")
        } else {
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw ManagementClient.Failure(
                    description: "cannot write '\(path)': \(error.localizedDescription)", exitCode: 73)
            }
        }
    }
}

struct ImportDefinitions: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "import_definitions", abstract: "Loads definitions from a file ('-' for standard input).")
    @Argument var path: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Importing definitions in JSON from a file at \"\(path)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw ManagementClient.Failure(description: "cannot read '\(path)'", exitCode: 66)
            }
            data = contents
        }
        guard let definitions = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ManagementClient.Failure(description: "'\(path)' is not a JSON object", exitCode: 65)
        }
        try await client.request("POST", "/api/definitions", body: definitions)
    }
}

func parseJSONObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
