import Hummingbird
import WarrenServer

/// A management request's context: who sent it, once the credentials are checked.
public struct ManagementContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated user; set for every `/api/` request that reaches a route.
    public var user = ManagementUser(name: "", tags: [], virtualHosts: [])

    /// The request came in on a loopback address of ours (for `loopback_users`).
    public let viaLoopback: Bool

    public init(source: Source) {
        coreContext = .init(source: source)
        viaLoopback = Endpoints.isLoopback(source.channel.localAddress)
    }

    /// RabbitMQ allows request bodies (definition imports) of up to 20 MB by default.
    public var maxUploadSize: Int { 20 << 20 }

    /// The route's `name` parameter, percent-decoded (`%2F` is the vhost `/`).
    func parameter(_ name: String) throws -> String {
        guard let raw = parameters.get(name), let decoded = raw.removingPercentEncoding else {
            throw ManagementError.badRequest("malformed path parameter '\(name)'")
        }
        return decoded
    }

    /// RabbitMQ's rules for which tags may do what, each answering with RabbitMQ's 401 text.
    func requireAdministrator() throws {
        guard user.isAdministrator else { throw ManagementError.notAuthorised("Not administrator user") }
    }

    func requireMonitoring() throws {
        guard user.isMonitoring else { throw ManagementError.notAuthorised("Not monitor user") }
    }

    func requireAccess(to vhost: String) throws {
        try requireExisting(vhost)
        guard user.isAdministrator || user.virtualHosts.contains(vhost) else {
            throw ManagementError.notAuthorised("User not authorised to access virtual host")
        }
    }

    /// The vhost's queues, exchanges, bindings, consumers or policies may be read.
    func requireVisible(_ vhost: String) throws {
        try requireExisting(vhost)
        guard user.canSeeObjects(in: vhost) else {
            throw ManagementError.notAuthorised("User not authorised to access virtual host")
        }
    }

    /// A vhost that does not exist is 404 for everyone, before any permission check.
    private func requireExisting(_ vhost: String) throws {
        guard user.isAdministrator || user.existingVirtualHosts.contains(vhost) else { throw ManagementError.notFound }
    }

    func requirePolicymaker(_ vhost: String) throws {
        guard user.isAdministrator || (user.isPolicymaker && user.virtualHosts.contains(vhost)) else {
            throw ManagementError.notAuthorised("User not authorised to access object")
        }
    }
}
