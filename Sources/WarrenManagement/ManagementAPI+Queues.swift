import Foundation
import Hummingbird
import WarrenServer

/// `/api/queues[/{vhost}[/{name}]]`, purge (`/contents`), get (`/get`) and a queue's bindings.
extension ManagementAPI {
    func addQueueRoutes(to router: Routes) {
        router.get("/api/queues") { request, context in
            try await listQueues(request, context, vhost: nil)
        }
        router.get("/api/queues/:vhost") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            return try await listQueues(request, context, vhost: vhost)
        }
        router.get("/api/queues/:vhost/:name") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            let queue = try await broker {
                try await administration.queue(vhost: vhost, name: context.parameter("name"))
            }
            let consumers = try await broker { try await administration.consumers(vhost: vhost) }.filter {
                $0.queue == queue.name
            }
            var rendered = rendering.queue(queue, rates: rates.rates(RateKey.queue(vhost, queue.name)))
            if case .object(var members) = rendered {
                members["consumer_details"] = .array(consumers.map(rendering.consumer))
                rendered = .object(members)
            }
            return Listing.single(rendered, request)
        }
        router.put("/api/queues/:vhost/:name") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            let fields = RequestFields(members: try await request.jsonBody(context: context))
            let created = try await broker {
                try await administration.declareQueue(
                    vhost: vhost, name: context.parameter("name"), durable: fields.bool("durable", default: false),
                    autoDelete: fields.bool("auto_delete", default: false), arguments: fields.object("arguments"),
                    user: context.user.name)
            }
            return JSONResponse.created(created)
        }
        router.delete("/api/queues/:vhost/:name") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            let query = request.uri.queryParameters
            try await broker {
                try await administration.deleteQueue(
                    vhost: vhost, name: context.parameter("name"), ifEmpty: query.get("if-empty") == "true",
                    ifUnused: query.get("if-unused") == "true", user: context.user.name)
            }
            return JSONResponse.noContent
        }
        router.delete("/api/queues/:vhost/:name/contents") { _, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            try await broker {
                try await administration.purgeQueue(
                    vhost: vhost, name: context.parameter("name"), user: context.user.name)
            }
            return JSONResponse.noContent
        }
        router.post("/api/queues/:vhost/:name/get") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            return try await getMessages(request, context, vhost: vhost, name: context.parameter("name"))
        }
        router.get("/api/queues/:vhost/:name/bindings") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            let name = try context.parameter("name")
            _ = try await broker { try await administration.queue(vhost: vhost, name: name) }
            let bindings = try await broker { try await administration.bindings(vhost: vhost) }
            return try Listing(request).respond(
                bindings.filter { $0.destinationType == "queue" && $0.destination == name }, name: \.source,
                render: rendering.binding)
        }
    }

    private func listQueues(_ request: Request, _ context: ManagementContext, vhost: String?) async throws -> Response {
        let listing = try Listing(request)
        let user = context.user
        let queues = try await broker { try await administration.queues(vhost: vhost) }.filter {
            user.canSeeObjects(in: $0.vhost)
        }
        let rates = self.rates.all()
        return try listing.respond(queues, name: \.name) { queue in
            rendering.queue(queue, rates: rates[RateKey.queue(queue.vhost, queue.name)])
        }
    }

    private func getMessages(_ request: Request, _ context: ManagementContext, vhost: String, name: String)
        async throws -> Response
    {
        let fields = RequestFields(members: try await request.jsonBody(context: context))
        try fields.require(["count", "ackmode", "encoding"])
        guard let count = fields.integer("count"), count >= 0 else {
            throw ManagementError.badRequest("count must be a non-negative integer")
        }
        guard let mode = fields.string("ackmode").flatMap(BrokerAdministration.FetchMode.init) else {
            throw ManagementError.badRequest(
                "ackmode must be one of ack_requeue_true, ack_requeue_false, reject_requeue_true, reject_requeue_false")
        }
        let encoding = fields.string("encoding") ?? "auto"
        guard encoding == "auto" || encoding == "base64" else {
            throw ManagementError.badRequest("encoding must be auto or base64")
        }
        let truncate = fields.integer("truncate").map { Int(clamping: $0) }
        let messages = try await broker {
            try await administration.fetch(
                vhost: vhost, name: name, count: Int(clamping: count), mode: mode, user: context.user.name)
        }
        return JSONResponse.make(
            .array(
                messages.map { message in
                    var payload = message.payload
                    if let truncate, payload.count > truncate { payload = Array(payload.prefix(truncate)) }
                    let text = encoding == "auto" ? String(validating: payload, as: UTF8.self) : nil
                    return [
                        "payload": .string(text ?? Data(payload).base64EncodedString()),
                        "payload_encoding": text == nil ? "base64" : "string",
                        "payload_bytes": .count(message.payload.count), "redelivered": .bool(message.redelivered),
                        "exchange": .string(message.exchange), "routing_key": .string(message.routingKey),
                        "message_count": .count(message.messageCount), "properties": message.properties,
                    ]
                }))
    }
}
