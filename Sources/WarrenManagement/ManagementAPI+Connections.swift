import HTTPTypes
import Hummingbird
import WarrenServer

/// `/api/connections` (+ closing one), `/api/channels`, `/api/consumers`, and their per-vhost lists.
extension ManagementAPI {
    func addConnectionRoutes(to router: Routes) {
        router.get("/api/connections") { request, context in
            try await listConnections(request, context, vhost: nil)
        }
        router.get("/api/vhosts/:vhost/connections") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            return try await listConnections(request, context, vhost: vhost)
        }
        router.get("/api/connections/:name") { request, context in
            let connection = try await connection(named: context.parameter("name"), context)
            return Listing.single(
                rendering.connection(connection, rates: rates.rates(.connection(connection.name))), request)
        }
        router.delete("/api/connections/:name") { request, context in
            let connection = try await connection(named: context.parameter("name"), context)
            // As RabbitMQ: only administrators close other users' connections.
            guard context.user.isAdministrator || connection.user == context.user.name else {
                throw ManagementError.notAuthorised("User not authorised to access object")
            }
            let reason = request.headers[HTTPField.Name("X-Reason")!] ?? "Closed via management plugin"
            try await broker { try await administration.closeConnection(name: connection.name, reason: reason) }
            return JSONResponse.noContent
        }
        router.get("/api/connections/:name/channels") { request, context in
            let connection = try await connection(named: context.parameter("name"), context)
            let channels = try await broker { try await administration.channels() }.filter {
                $0.connection.name == connection.name
            }
            return try respond(channels, request)
        }
        router.get("/api/channels") { request, context in
            let user = context.user
            let channels = try await broker { try await administration.channels() }.filter {
                user.isMonitoring || $0.connection.user == user.name
            }
            return try respond(channels, request)
        }
        router.get("/api/vhosts/:vhost/channels") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            let user = context.user
            let channels = try await broker { try await administration.channels() }.filter {
                $0.connection.vhost == vhost && (user.isMonitoring || $0.connection.user == user.name)
            }
            return try respond(channels, request)
        }
        router.get("/api/channels/:name") { request, context in
            let name = try context.parameter("name")
            let user = context.user
            guard
                let channel = try await broker({ try await administration.channels() }).first(where: {
                    $0.name == name && (user.isMonitoring || $0.connection.user == user.name)
                })
            else { throw ManagementError.notFound }
            return Listing.single(rendering.channel(channel, rates: rates.rates(RateKey.channel(name))), request)
        }
        router.get("/api/consumers") { request, context in
            let user = context.user
            let consumers = try await broker { try await administration.consumers() }.filter {
                user.canSeeObjects(in: $0.vhost)
            }
            return try Listing(request).respond(consumers, name: \.tag, render: rendering.consumer)
        }
        router.get("/api/consumers/:vhost") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            let consumers = try await broker { try await administration.consumers(vhost: vhost) }
            return try Listing(request).respond(consumers, name: \.tag, render: rendering.consumer)
        }
    }

    /// A user sees their own connections; monitoring and administrators see every one.
    private func listConnections(_ request: Request, _ context: ManagementContext, vhost: String?) async throws
        -> Response
    {
        let user = context.user
        let connections = try await broker { try await administration.connections() }.filter {
            (vhost == nil || $0.vhost == vhost) && (user.isMonitoring || $0.user == user.name)
        }
        let rates = self.rates.all()
        return try Listing(request).respond(connections, name: \.name) { connection in
            rendering.connection(connection, rates: rates[.connection(connection.name)])
        }
    }

    private func connection(named name: String, _ context: ManagementContext) async throws -> ConnectionSnapshot {
        let user = context.user
        guard
            let connection = try await broker({ try await administration.connections() }).first(where: {
                $0.name == name && (user.isMonitoring || $0.user == user.name)
            })
        else { throw ManagementError.notFound }
        return connection
    }

    private func respond(_ channels: [ChannelSnapshot], _ request: Request) throws -> Response {
        let rates = self.rates.all()
        return try Listing(request).respond(channels, name: \.name) { channel in
            rendering.channel(channel, rates: rates[RateKey.channel(channel.name)])
        }
    }
}
