import ArgumentParser
import Foundation

/// What one `list_*` command reads: its API path (per vhost or not), rabbitmqctl's columns
/// and default columns, and where each column is in the API's objects.
struct ListingSpec: Sendable {
    var what: String
    var path: @Sendable (_ vhost: String) -> String
    var defaultColumns: [String]
    /// rabbitmqctl column name to the API's dotted field path, where they differ.
    var fields: [String: String] = [:]
    var perVirtualHost = true
    /// Fixed values for columns the API has no field for.
    var constants: [String: String] = [:]

    func run(columns requested: [String], vhost: String, connection: ConnectionOptions, output: OutputOptions)
        async throws
    {
        let columns = requested.isEmpty ? defaultColumns : requested
        try await reportingFailures {
            let client = try connection.client()
            output.info(perVirtualHost ? "Listing \(what) for vhost \(vhost) ..." : "Listing \(what) ...")
            guard let items = try await client.request("GET", path(vhost)) as? [[String: Any]] else {
                throw ManagementClient.Failure(
                    description: "the answer is not a list of \(what): is --url the management API?", exitCode: 65)
            }
            let rows = items.map { item in
                columns.map { column in constants[column] ?? field(item, fields[column] ?? column) }
            }
            Table(columns: columns, rows: rows).print(output)
        }
    }
}

/// The `list_*` commands, one type each so ArgumentParser shows each one's help.
protocol ListCommand: AsyncParsableCommand {
    static var spec: ListingSpec { get }
    var columns: [String] { get }
    var vhost: String { get }
    var connection: ConnectionOptions { get }
    var output: OutputOptions { get }
}

extension ListCommand {
    func run() async throws {
        try await Self.spec.run(columns: columns, vhost: vhost, connection: connection, output: output)
    }
}

struct ListQueues: ListCommand {
    static let configuration = CommandConfiguration(
        commandName: "list_queues", abstract: "Queues and their columns (default: name messages).")
    static let spec = ListingSpec(
        what: "queues", path: { "/api/queues/\(segment($0))" }, defaultColumns: ["name", "messages"])
    @Argument(help: "Columns: name, messages, messages_ready, messages_unacknowledged, consumers, durable, ...")
    var columns: [String] = []
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListExchanges: ListCommand {
    static let configuration = CommandConfiguration(
        commandName: "list_exchanges", abstract: "Exchanges (default columns: name type).")
    static let spec = ListingSpec(
        what: "exchanges", path: { "/api/exchanges/\(segment($0))" }, defaultColumns: ["name", "type"])
    @Argument(help: "Columns: name, type, durable, auto_delete, internal, arguments, policy.")
    var columns: [String] = []
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListBindings: ListCommand {
    static let configuration = CommandConfiguration(commandName: "list_bindings", abstract: "Bindings.")
    static let spec = ListingSpec(
        what: "bindings", path: { "/api/bindings/\(segment($0))" },
        defaultColumns: [
            "source_name", "source_kind", "destination_name", "destination_kind", "routing_key", "arguments",
        ],
        fields: ["source_name": "source", "destination_name": "destination", "destination_kind": "destination_type"],
        constants: ["source_kind": "exchange"])
    @Argument(help: "Columns: source_name, source_kind, destination_name, destination_kind, routing_key, arguments.")
    var columns: [String] = []
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListConnections: ListCommand {
    static let configuration = CommandConfiguration(
        commandName: "list_connections", abstract: "Client connections (default: user peer_host peer_port state).")
    static let spec = ListingSpec(
        what: "connections", path: { _ in "/api/connections" },
        defaultColumns: ["user", "peer_host", "peer_port", "state"], perVirtualHost: false)
    @Argument(help: "Columns: name, user, vhost, peer_host, peer_port, host, port, ssl, channels, state, ...")
    var columns: [String] = []
    var vhost: String { "/" }
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListChannels: ListCommand {
    static let configuration = CommandConfiguration(
        commandName: "list_channels",
        abstract: "Channels (default: name user consumer_count messages_unacknowledged).")
    static let spec = ListingSpec(
        what: "channels", path: { _ in "/api/channels" },
        defaultColumns: ["name", "user", "consumer_count", "messages_unacknowledged"], fields: ["pid": "name"],
        perVirtualHost: false)
    @Argument(help: "Columns: name, number, user, vhost, consumer_count, messages_unacknowledged, prefetch_count, ...")
    var columns: [String] = []
    var vhost: String { "/" }
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListConsumers: ListCommand {
    static let configuration = CommandConfiguration(commandName: "list_consumers", abstract: "Consumers.")
    static let spec = ListingSpec(
        what: "consumers", path: { "/api/consumers/\(segment($0))" },
        defaultColumns: [
            "queue_name", "channel_pid", "consumer_tag", "ack_required", "prefetch_count", "active", "arguments",
        ],
        fields: ["queue_name": "queue.name", "channel_pid": "channel_details.name"])
    @Argument(help: "Columns: queue_name, channel_pid, consumer_tag, ack_required, prefetch_count, active, arguments.")
    var columns: [String] = []
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListUsers: ListCommand {
    static let configuration = CommandConfiguration(commandName: "list_users", abstract: "Users and their tags.")
    static let spec = ListingSpec(
        what: "users", path: { _ in "/api/users" }, defaultColumns: ["user", "tags"], fields: ["user": "name"],
        perVirtualHost: false)
    @Argument(help: "Columns: user, tags.") var columns: [String] = []
    var vhost: String { "/" }
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListVirtualHosts: ListCommand {
    static let configuration = CommandConfiguration(commandName: "list_vhosts", abstract: "Virtual hosts.")
    static let spec = ListingSpec(
        what: "vhosts", path: { _ in "/api/vhosts" }, defaultColumns: ["name"], perVirtualHost: false)
    @Argument(help: "Columns: name, messages, messages_ready, messages_unacknowledged, tracing.")
    var columns: [String] = []
    var vhost: String { "/" }
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListPermissions: ListCommand {
    static let configuration = CommandConfiguration(
        commandName: "list_permissions", abstract: "Users' permissions in a virtual host.")
    static let spec = ListingSpec(
        what: "permissions", path: { "/api/vhosts/\(segment($0))/permissions" },
        defaultColumns: ["user", "configure", "write", "read"])
    @Argument(help: "Columns: user, configure, write, read.") var columns: [String] = []
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}

struct ListPolicies: ListCommand {
    static let configuration = CommandConfiguration(
        commandName: "list_policies", abstract: "Policies in a virtual host.")
    static let spec = ListingSpec(
        what: "policies", path: { "/api/policies/\(segment($0))" },
        defaultColumns: ["vhost", "name", "pattern", "apply-to", "definition", "priority"])
    @Argument(help: "Columns: vhost, name, pattern, apply-to, definition, priority.") var columns: [String] = []
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}
