import ArgumentParser

/// A command that makes requests and prints a line saying what it did (unless `-q`).
protocol ClientCommand: AsyncParsableCommand {
    var connection: ConnectionOptions { get }
    var output: OutputOptions { get }
    /// What is about to happen, as rabbitmqctl announces it ("Adding user "bob" ...").
    var announcement: String { get }
    func perform(_ client: ManagementClient) async throws
}

extension ClientCommand {
    func run() async throws {
        try await reportingFailures {
            let client = try connection.client()
            output.info(announcement)
            try await perform(client)
        }
    }
}
