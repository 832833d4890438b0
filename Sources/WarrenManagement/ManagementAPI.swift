import Foundation
import HTTPTypes
import Hummingbird
import Logging
import WarrenServer

/// The management HTTP API: RabbitMQ's `/api/...` routes over the broker's administration
/// facade, one file of routes per resource (`ManagementAPI+Queues.swift`, ...).
public struct ManagementAPI: Sendable {
    /// The node's listeners, for `/api/overview`, `/api/nodes` and the port-listener check.
    public struct Listener: Sendable {
        public var `protocol`: String
        public var ip: String
        public var port: Int

        public init(protocol: String, ip: String, port: Int) {
            self.protocol = `protocol`
            self.ip = ip
            self.port = port
        }
    }

    let administration: BrokerAdministration
    let rendering: Rendering
    let rates: MessageRates
    let listeners: @Sendable () -> [Listener]
    let startedAt = Date()

    init(
        administration: BrokerAdministration, node: String, rates: MessageRates,
        listeners: @escaping @Sendable () -> [Listener]
    ) {
        self.administration = administration
        self.rendering = Rendering(node: node)
        self.rates = rates
        self.listeners = listeners
    }

    var node: String { rendering.node }

    /// Every route, on a router whose responder ``ManagementResponder`` wraps.
    func routes() -> Routes {
        let router = Routes()
        addOverviewRoutes(to: router)
        addQueueRoutes(to: router)
        addExchangeRoutes(to: router)
        addBindingRoutes(to: router)
        addConnectionRoutes(to: router)
        addAccessControlRoutes(to: router)
        addPolicyRoutes(to: router)
        addDefinitionRoutes(to: router)
        addHealthRoutes(to: router)
        ConsoleFiles.addRoutes(to: router)
        return router
    }

    /// The whole API: routes behind authentication and RabbitMQ-shaped errors.
    func responder() -> some HTTPResponder<ManagementContext> {
        let routes = routes()
        return ManagementResponder(
            inner: routes.router.buildResponder(), routes: routes.table, administration: administration)
    }

    /// Runs a broker call, turning its errors into the API's.
    func broker<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AdministrationError {
            throw ManagementError(error)
        }
    }
}

/// Checks credentials on every `/api/` request and answers every error in RabbitMQ's shape,
/// including routes that do not exist.
struct ManagementResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == ManagementContext {
    let inner: Inner
    let routes: RouteTable
    let administration: BrokerAdministration

    func respond(to request: Request, context: ManagementContext) async throws -> Response {
        var response = try await route(request, context)
        // The console runs only its own scripts and styles, and never inside another page.
        response.headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }

    private func route(_ request: Request, _ context: ManagementContext) async throws -> Response {
        var context = context
        do {
            if request.uri.path.hasPrefix("/api/") {
                context.user = try await authenticate(request, viaLoopback: context.viaLoopback)
            }
            if request.method == .head {
                var head = request.head
                head.method = .get
                let response = try await inner.respond(to: Request(head: head, body: request.body), context: context)
                return Response(status: response.status, headers: response.headers)
            }
            let response = try await inner.respond(to: request, context: context)
            guard response.status == .notFound, response.headers[.contentType] == nil else { return response }
            return notFound(request)
        } catch let error as HTTPError where error.status == .notFound {
            return notFound(request)
        } catch let error as ManagementError {
            return error.response
        } catch let error as AdministrationError {
            return ManagementError(error).response
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return ManagementError(status: .contentTooLarge, error: "bad_request", reason: "request too large").response
        }
    }

    /// No route: 405 with `allow` when the path exists for other methods, else RabbitMQ's 404.
    private func notFound(_ request: Request) -> Response {
        let methods = routes.methods(matching: request.uri.path)
        guard !methods.isEmpty else { return ManagementError.notFound.response }
        var allowed = methods.map(\.rawValue)
        if methods.contains(.get) { allowed.append("HEAD") }
        allowed.append("OPTIONS")
        let allow = allowed.sorted().joined(separator: ", ")
        if request.method == .options { return Response(status: .ok, headers: [.allow: allow]) }
        return Response(status: .methodNotAllowed, headers: [.allow: allow])
    }

    /// HTTP basic auth against the broker's users; a user without a management tag is refused
    /// as RabbitMQ refuses it.
    private func authenticate(_ request: Request, viaLoopback: Bool) async throws -> ManagementUser {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else {
            throw ManagementError(status: .unauthorized, error: "not_authorized", reason: "Login failed")
        }
        let username = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        switch try await administration.authenticate(username: username, password: password, viaLoopback: viaLoopback) {
        case .refused:
            throw ManagementError(status: .unauthorized, error: "not_authorized", reason: "Login failed")
        case .loopbackOnly:
            throw ManagementError(
                status: .unauthorized, error: "not_authorized", reason: "User can only log in via localhost")
        case .accepted(let user):
            guard user.isManagementUser else { throw ManagementError.notAuthorised("Not management user") }
            return user
        }
    }
}
