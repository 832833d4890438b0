import ArgumentParser
import Foundation

struct Status: ClientCommand {
    static let configuration = CommandConfiguration(abstract: "The node's status: version, listeners, alarms, memory.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Status of node ..." }

    func perform(_ client: ManagementClient) async throws {
        let overview = try await client.request("GET", "/api/overview") as? [String: Any] ?? [:]
        let node = (try await client.request("GET", "/api/nodes") as? [[String: Any]])?.first ?? [:]
        let alarms = try await currentAlarms(client)
        var status: [String: Any] = [
            "node": overview["node"] ?? "", "product_name": overview["product_name"] ?? "",
            "product_version": overview["product_version"] ?? "",
            "rabbitmq_version": overview["rabbitmq_version"] ?? "",
            "alarms": alarms, "listeners": overview["listeners"] ?? [],
            "object_totals": overview["object_totals"] ?? [:],
        ]
        for key in ["mem_used", "fd_used", "uptime", "processors"] { status[key] = node[key] }
        switch output.formatter {
        case .json:
            print(Table.json(status, pretty: true))
        case .table:
            for key in status.keys.sorted() { print("\(key): \(Table.text(status[key]))") }
        }
    }
}

struct AwaitStartup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "await_startup", abstract: "Waits until the broker's management API answers.")
    @Option(name: [.customShort("t"), .long], help: "Seconds to wait (default 60).") var timeout = 60
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingFailures {
            let client = try connection.client()
            output.info("Waiting for the broker at \(client.baseURL.absoluteString) to start ...")
            let deadline = ContinuousClock.now + .seconds(timeout)
            while true {
                let remaining = deadline - ContinuousClock.now
                let seconds = max(
                    0.1, Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18)
                do {
                    try await client.request("GET", "/api/overview", timeout: min(seconds, 5))
                    return
                } catch let failure as ManagementClient.Failure where failure.exitCode == 69 {
                    guard ContinuousClock.now < deadline else {
                        throw ManagementClient.Failure(
                            description: "the broker did not start within \(timeout) s: \(failure.description)",
                            exitCode: 69)
                    }
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
        }
    }
}

struct Environment: ClientCommand {
    static let configuration = CommandConfiguration(abstract: "The node's listeners and settings.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Application environment of node ..." }

    func perform(_ client: ManagementClient) async throws {
        let overview = try await client.request("GET", "/api/overview") as? [String: Any] ?? [:]
        let environment: [String: Any] = [
            "listeners": overview["listeners"] ?? [], "exchange_types": overview["exchange_types"] ?? [],
            "rates_mode": overview["rates_mode"] ?? "", "cluster_name": overview["cluster_name"] ?? "",
        ]
        print(Table.json(environment, pretty: true))
    }
}

struct ClusterStatus: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster_status", abstract: "The cluster's nodes (one until clustering).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Cluster status of node ..." }

    func perform(_ client: ManagementClient) async throws {
        let name = (try await client.request("GET", "/api/cluster-name") as? [String: Any])?["name"] ?? ""
        let nodes = try await client.request("GET", "/api/nodes") as? [[String: Any]] ?? []
        let running = nodes.filter { $0["running"] as? Bool == true }.compactMap { $0["name"] }
        let status: [String: Any] = [
            "cluster_name": name, "disk_nodes": nodes.compactMap { $0["name"] }, "running_nodes": running,
            "alarms": try await currentAlarms(client),
        ]
        switch output.formatter {
        case .json: print(Table.json(status, pretty: true))
        case .table: for key in status.keys.sorted() { print("\(key): \(Table.text(status[key]))") }
        }
    }
}

struct CheckRunning: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "check_running", abstract: "Succeeds if the broker is running.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Checking if the broker is running ..." }

    func perform(_ client: ManagementClient) async throws {
        let nodes = try await client.request("GET", "/api/nodes") as? [[String: Any]] ?? []
        guard nodes.contains(where: { $0["running"] as? Bool == true }) else {
            throw ManagementClient.Failure(description: "the node is not running", exitCode: 69)
        }
        if !output.quiet { print("The broker is fully booted and running") }
    }
}

struct CheckAlarms: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "check_alarms", abstract: "Fails if any resource alarm is in effect.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Asking the broker if it has any alarms ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("GET", "/api/health/checks/alarms")
        if !output.quiet { print("Node reported no alarms") }
    }
}

struct CheckPortConnectivity: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "check_port_connectivity", abstract: "Succeeds if every listener accepts TCP connections.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Testing TCP connections to all active listeners ..." }

    func perform(_ client: ManagementClient) async throws {
        let overview = try await client.request("GET", "/api/overview") as? [String: Any] ?? [:]
        let listeners = overview["listeners"] as? [[String: Any]] ?? []
        let host = client.baseURL.host ?? "localhost"
        for listener in listeners {
            guard let port = (listener["port"] as? NSNumber)?.intValue else { continue }
            guard canConnect(host: host, port: port) else {
                throw ManagementClient.Failure(
                    description: "could not connect to \(listener["protocol"] ?? "") listener on \(host):\(port)",
                    exitCode: 69)
            }
        }
        if !output.quiet { print("Successfully connected to ports \(listeners.compactMap { $0["port"] })") }
    }

    private func canConnect(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return false }
        defer { freeaddrinfo(result) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0
    }
}

/// The resource alarms in effect (`memory`, `disk space`), from the health check's answer.
func currentAlarms(_ client: ManagementClient) async throws -> [String] {
    do {
        try await client.request("GET", "/api/health/checks/alarms")
        return []
    } catch let failure as ManagementClient.Failure where failure.body != nil {
        let alarms = failure.body?["alarms"] as? [[String: Any]] ?? []
        return alarms.map { alarm in
            let resource = alarm["resource"] as? String ?? "unknown"
            guard let node = alarm["node"] as? String else { return resource }
            return "\(resource) on \(node)"
        }
    }
}
