import ArgumentParser

struct AddUser: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "add_user", abstract: "Creates a user.")
    @Argument var username: String
    @Argument var password: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Adding user \"\(username)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        let existing = try? await client.request("GET", "/api/users/\(segment(username))")
        guard existing == nil else {
            throw ManagementClient.Failure(description: "user \"\(username)\" already exists", exitCode: 70)
        }
        try await client.request("PUT", "/api/users/\(segment(username))", body: ["password": password, "tags": ""])
    }
}

struct DeleteUser: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "delete_user", abstract: "Deletes a user.")
    @Argument var username: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Deleting user \"\(username)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("DELETE", "/api/users/\(segment(username))")
    }
}

struct ChangePassword: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "change_password", abstract: "Sets a user's password.")
    @Argument var username: String
    @Argument var password: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Changing password for user \"\(username)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        let user = try await client.request("GET", "/api/users/\(segment(username))") as? [String: Any] ?? [:]
        try await client.request(
            "PUT", "/api/users/\(segment(username))", body: ["password": password, "tags": user["tags"] ?? ""])
    }
}

struct SetUserTags: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "set_user_tags", abstract: "Replaces a user's tags.")
    @Argument var username: String
    @Argument var tags: [String] = []
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Setting tags for user \"\(username)\" to [\(tags.joined(separator: ", "))] ..." }

    func perform(_ client: ManagementClient) async throws {
        let user = try await client.request("GET", "/api/users/\(segment(username))") as? [String: Any] ?? [:]
        var body: [String: Any] = ["tags": tags.joined(separator: ",")]
        body["password_hash"] = user["password_hash"] ?? ""
        body["hashing_algorithm"] = user["hashing_algorithm"] ?? "rabbit_password_hashing_sha256"
        try await client.request("PUT", "/api/users/\(segment(username))", body: body)
    }
}

struct AddVirtualHost: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "add_vhost", abstract: "Creates a virtual host.")
    @Argument var name: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Adding vhost \"\(name)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("PUT", "/api/vhosts/\(segment(name))", body: [String: Any]())
    }
}

struct DeleteVirtualHost: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete_vhost", abstract: "Deletes a virtual host and everything in it.")
    @Argument var name: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Deleting vhost \"\(name)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("DELETE", "/api/vhosts/\(segment(name))")
    }
}

struct SetPermissions: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "set_permissions", abstract: "Sets a user's configure, write and read patterns in a vhost.")
    @Argument var username: String
    @Argument var configure: String
    @Argument var write: String
    @Argument var read: String
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Setting permissions for user \"\(username)\" in vhost \"\(vhost)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request(
            "PUT", "/api/permissions/\(segment(vhost))/\(segment(username))",
            body: ["configure": configure, "write": write, "read": read])
    }
}

struct ClearPermissions: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear_permissions", abstract: "Removes a user's permissions in a vhost.")
    @Argument var username: String
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Clearing permissions for user \"\(username)\" in vhost \"\(vhost)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("DELETE", "/api/permissions/\(segment(vhost))/\(segment(username))")
    }
}

struct SetTopicPermissions: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "set_topic_permissions",
        abstract: "Sets a user's write and read routing-key patterns on a topic exchange.")
    @Argument var username: String
    @Argument var exchange: String
    @Argument var write: String
    @Argument var read: String
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String {
        "Setting topic permissions on \"\(exchange)\" for user \"\(username)\" in vhost \"\(vhost)\" ..."
    }

    func perform(_ client: ManagementClient) async throws {
        try await client.request(
            "PUT", "/api/topic-permissions/\(segment(vhost))/\(segment(username))",
            body: ["exchange": exchange, "write": write, "read": read])
    }
}

struct SetPolicy: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "set_policy", abstract: "Sets a policy.")
    @Argument var name: String
    @Argument var pattern: String
    @Argument(help: "The definition, a JSON object.") var definition: String
    @Option(name: .long) var priority = 0
    @Option(name: .customLong("apply-to"), help: "queues, exchanges or all.") var applyTo = "all"
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Setting policy \"\(name)\" for pattern \"\(pattern)\" to \"\(definition)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        guard let parsed = parseJSONObject(definition) else {
            throw ManagementClient.Failure(description: "the definition must be a JSON object", exitCode: 65)
        }
        try await client.request(
            "PUT", "/api/policies/\(segment(vhost))/\(segment(name))",
            body: ["pattern": pattern, "definition": parsed, "priority": priority, "apply-to": applyTo])
    }
}

struct ClearPolicy: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "clear_policy", abstract: "Removes a policy.")
    @Argument var name: String
    @Option(name: [.customShort("p"), .long], help: "The virtual host.") var vhost = "/"
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    var announcement: String { "Clearing policy \"\(name)\" on vhost \"\(vhost)\" ..." }

    func perform(_ client: ManagementClient) async throws {
        try await client.request("DELETE", "/api/policies/\(segment(vhost))/\(segment(name))")
    }
}
