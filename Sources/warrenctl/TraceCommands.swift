import ArgumentParser

/// `trace_on` and `trace_off`: the firehose (`amq.rabbitmq.trace`) for one vhost.
struct TraceOn: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace_on", abstract: "Copies every publish and delivery in a vhost to amq.rabbitmq.trace.")
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Starting tracing for vhost \"\(vhost)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await setTracing(client, vhost: vhost, on: true)
    }
}

struct TraceOff: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace_off", abstract: "Stops the firehose for a vhost.")
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Stopping tracing for vhost \"\(vhost)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await setTracing(client, vhost: vhost, on: false)
    }
}

/// Tracing is a vhost setting in the API; the vhost must exist (a PUT would create it).
private func setTracing(_ client: ManagementClient, vhost: String, on: Bool) async throws {
    try await client.request("GET", "/api/vhosts/\(segment(vhost))")
    try await client.request("PUT", "/api/vhosts/\(segment(vhost))", body: ["tracing": on])
}
