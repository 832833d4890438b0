import Foundation
import Hummingbird
import WarrenServer

/// `/api/exchanges[/{vhost}[/{name}]]`, publishing, and an exchange's bindings.
extension ManagementAPI {
    func addExchangeRoutes(to router: Routes) {
        router.get("/api/exchanges") { request, context in
            try await listExchanges(request, context, vhost: nil)
        }
        router.get("/api/exchanges/:vhost") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            return try await listExchanges(request, context, vhost: vhost)
        }
        router.get("/api/exchanges/:vhost/:name") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            let name = try exchangeName(context)
            let exchange = try await broker { try await administration.exchange(vhost: vhost, name: name) }
            return Listing.single(
                rendering.exchange(exchange, rates: rates.rates(RateKey.exchange(vhost, name))), request)
        }
        router.put("/api/exchanges/:vhost/:name") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            let name = try exchangeName(context)
            let fields = RequestFields(members: try await request.jsonBody(context: context))
            // RabbitMQ refuses the default exchange and the reserved prefix as a permission matter.
            if name.isEmpty || name.hasPrefix("amq.") { throw ManagementError.notAuthorised("Access refused.") }
            let created = try await broker {
                try await administration.declareExchange(
                    vhost: vhost, name: name, type: fields.string("type") ?? "direct",
                    durable: fields.bool("durable", default: false),
                    autoDelete: fields.bool("auto_delete", default: false),
                    isInternal: fields.bool("internal", default: false), arguments: fields.object("arguments"),
                    user: context.user.name)
            }
            return JSONResponse.created(created)
        }
        router.delete("/api/exchanges/:vhost/:name") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            let name = try exchangeName(context)
            if name.isEmpty || name.hasPrefix("amq.") { throw ManagementError.notAuthorised("Access refused.") }
            try await broker {
                try await administration.deleteExchange(
                    vhost: vhost, name: name, ifUnused: request.uri.queryParameters.get("if-unused") == "true",
                    user: context.user.name)
            }
            return JSONResponse.noContent
        }
        router.post("/api/exchanges/:vhost/:name/publish") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            let fields = RequestFields(members: try await request.jsonBody(context: context))
            try fields.require(["properties", "routing_key", "payload", "payload_encoding"])
            let payload: [UInt8]
            switch fields.string("payload_encoding") {
            case "string": payload = Array((fields.string("payload") ?? "").utf8)
            case "base64":
                guard let data = Data(base64Encoded: fields.string("payload") ?? "") else {
                    throw ManagementError.badRequest("payload is not valid base64")
                }
                payload = Array(data)
            default: throw ManagementError.badRequest("payload_encoding must be string or base64")
            }
            let routed = try await broker {
                try await administration.publish(
                    vhost: vhost, exchange: exchangeName(context), routingKey: fields.string("routing_key") ?? "",
                    properties: fields.object("properties"), payload: payload, user: context.user.name)
            }
            return JSONResponse.make(["routed": .bool(routed)])
        }
        for side in ["source", "destination"] {
            router.get("/api/exchanges/:vhost/:name/bindings/\(side)") { request, context in
                let vhost = try context.parameter("vhost")
                try context.requireVisible(vhost)
                let name = try exchangeName(context)
                _ = try await broker { try await administration.exchange(vhost: vhost, name: name) }
                let bindings = try await broker { try await administration.bindings(vhost: vhost) }.filter {
                    side == "source" ? $0.source == name : $0.destinationType == "exchange" && $0.destination == name
                }
                return try Listing(request).respond(bindings, name: \.destination, render: rendering.binding)
            }
        }
    }

    /// The exchange a route names: `amq.default` in a URL is the default exchange, `""`.
    func exchangeName(_ context: ManagementContext) throws -> String {
        let name = try context.parameter("name")
        return name == "amq.default" ? "" : name
    }

    private func listExchanges(_ request: Request, _ context: ManagementContext, vhost: String?) async throws
        -> Response
    {
        let listing = try Listing(request)
        let user = context.user
        let exchanges = try await broker { try await administration.exchanges(vhost: vhost) }.filter {
            user.canSeeObjects(in: $0.vhost)
        }
        let rates = self.rates.all()
        return try listing.respond(exchanges, name: \.name) { exchange in
            rendering.exchange(exchange, rates: rates[RateKey.exchange(exchange.vhost, exchange.name)])
        }
    }
}
