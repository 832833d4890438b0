import Hummingbird
import WarrenServer

/// `/api/bindings[/{vhost}]` and `/api/bindings/{vhost}/e/{source}/{q|e}/{destination}[/{props}]`.
extension ManagementAPI {
    func addBindingRoutes(to router: Routes) {
        router.get("/api/bindings") { request, context in
            let user = context.user
            let bindings = try await broker { try await administration.bindings() }.filter {
                user.canSeeObjects(in: $0.vhost)
            }
            return try Listing(request).respond(bindings, name: \.source, render: rendering.binding)
        }
        router.get("/api/bindings/:vhost") { request, context in
            let vhost = try context.parameter("vhost")
            try context.requireVisible(vhost)
            let bindings = try await broker { try await administration.bindings(vhost: vhost) }
            return try Listing(request).respond(bindings, name: \.source, render: rendering.binding)
        }
        for (letter, isQueue) in [("q", true), ("e", false)] {
            let path = "/api/bindings/:vhost/e/:source/\(letter)/:destination"
            router.get(path) { request, context in
                let (vhost, source, destination) = try bindingParameters(context)
                try context.requireVisible(vhost)
                let bindings = try await broker { try await administration.bindings(vhost: vhost) }.filter {
                    $0.source == source && $0.destination == destination
                        && ($0.destinationType == "queue") == isQueue
                }
                return try Listing(request).respond(bindings, name: \.routingKey, render: rendering.binding)
            }
            router.post(path) { request, context in
                let (vhost, source, destination) = try bindingParameters(context)
                try context.requireAccess(to: vhost)
                if source.isEmpty { throw ManagementError.notAuthorised("Access refused.") }
                let fields = RequestFields(members: try await request.jsonBody(context: context))
                let key = try await broker {
                    try await administration.bind(
                        vhost: vhost, source: source, destination: destination, destinationIsQueue: isQueue,
                        routingKey: fields.string("routing_key") ?? "", arguments: fields.object("arguments"),
                        user: context.user.name)
                }
                var response = Response(status: .created)
                // Relative, as RabbitMQ sends it.
                response.headers[.location] = "\(BindingPropertiesKey.quote(destination))/\(key)"
                return response
            }
            router.get(path + "/:props") { request, context in
                let (vhost, source, destination) = try bindingParameters(context)
                try context.requireVisible(vhost)
                let key = try context.parameter("props")
                guard
                    let binding = try await broker({ try await administration.bindings(vhost: vhost) }).first(where: {
                        $0.source == source && $0.destination == destination
                            && ($0.destinationType == "queue") == isQueue && $0.propertiesKey == key
                    })
                else { throw ManagementError.notFound }
                return Listing.single(rendering.binding(binding), request)
            }
            router.delete(path + "/:props") { _, context in
                let (vhost, source, destination) = try bindingParameters(context)
                try context.requireAccess(to: vhost)
                let key = try context.parameter("props")
                try await broker {
                    try await administration.unbind(
                        vhost: vhost, source: source, destination: destination, destinationIsQueue: isQueue,
                        propertiesKey: key, user: context.user.name)
                }
                return JSONResponse.noContent
            }
        }
    }

    private func bindingParameters(_ context: ManagementContext) throws -> (String, String, String) {
        let source = try context.parameter("source")
        return (
            try context.parameter("vhost"), source == "amq.default" ? "" : source, try context.parameter("destination")
        )
    }
}
