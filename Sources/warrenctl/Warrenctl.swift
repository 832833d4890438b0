import ArgumentParser

/// `warrenctl`: rabbitmqctl's verbs and columns over Warren's management HTTP API, so scripts
/// and habits carry over; it works against RabbitMQ's API too.
@main
struct Warrenctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warrenctl",
        abstract: "Administers a Warren broker (or RabbitMQ) through its management HTTP API.",
        subcommands: [
            Status.self, AwaitStartup.self, Environment.self, ClusterStatus.self, ListQueues.self,
            ListExchanges.self, ListBindings.self, ListConnections.self, ListChannels.self, ListConsumers.self,
            ListUsers.self, ListVirtualHosts.self, ListPermissions.self, ListPolicies.self, AddUser.self,
            DeleteUser.self, ChangePassword.self, SetUserTags.self, AddVirtualHost.self, DeleteVirtualHost.self,
            SetPermissions.self, ClearPermissions.self, SetTopicPermissions.self, SetPolicy.self, ClearPolicy.self,
            PurgeQueue.self, DeleteQueue.self, CloseConnection.self, ExportDefinitions.self, ImportDefinitions.self,
            CheckRunning.self, CheckAlarms.self, CheckPortConnectivity.self, TraceOn.self, TraceOff.self,
        ])

    /// No command given: a usage error (exit 64), as rabbitmqctl.
    func run() async throws {
        throw ValidationError("missing command; see 'warrenctl --help'")
    }
}
